/*
 * ring-bench ROOT RULES GUESTPATH N: one small ioctl (_IO('R', 3), no
 * argument bytes) on the fake resource GUESTPATH, N times each way, in one
 * run (bench/ring/run.sh):
 *   engine  fakefs_ioctl on an engine inside this process (what qemu does
 *           without a mount)
 *   ring    fakefs_ring_call to the sfemu-mount daemon over the ring (what
 *           qemu does on the mount)
 *   fuse    ioctl(2) on ROOT/GUESTPATH: one FUSE round trip to the daemon
 * Prints "way ns_per_call" lines, the best of 3 rounds each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include "call.h"
#include "ring.h"

static const char *root;

static int st_read(void *ud, const char *path, char **data, size_t *len)
{
    (void)ud;
    char p[8192];
    snprintf(p, sizeof p, "%s%s", root, path);
    FILE *f = fopen(p, "re");
    if (!f) {
        return -errno;
    }
    char *b = malloc(1 << 16);
    size_t n = b ? fread(b, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (!b) {
        return -ENOMEM;
    }
    b[n] = 0;
    *data = b;
    *len = n;
    return 0;
}

static int st_write(void *ud, const char *path, const char *data, size_t len)
{
    (void)ud;
    (void)path;
    (void)data;
    (void)len;
    return 0; /* the record stays the daemon's */
}

static int st_exists(void *ud, const char *path)
{
    (void)ud;
    char p[8192];
    snprintf(p, sizeof p, "%s%s", root, path);
    return access(p, F_OK) == 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

enum way { ENGINE, RING, FUSE };

static int one(enum way w, struct fakefs_engine *e,
               struct fakefs_ring_client *rc, int fd, const char *path)
{
    unsigned long cmd = _IO('R', 3);
    struct fakefs_caller who = { getpid(), -1, "qemu" };
    size_t outlen = 0;
    long r = -1;
    switch (w) {
    case ENGINE:
        return fakefs_ioctl(e, path, cmd, NULL, 0, NULL, 0, &outlen, &who);
    case RING: {
        struct fakefs_call c = {
            .op = FAKEFS_IOCTL, .path = path, .cmd = cmd, .who = who
        };
        return fakefs_ring_call(rc, &c, 500, &r) ? -1 : (int)r;
    }
    case FUSE: return ioctl(fd, cmd);
    }
    return -1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: ring-bench ROOT RULES GUESTPATH N\n");
        return 2;
    }
    root = argv[1];
    const char *path = argv[3];
    long n = atol(argv[4]);
    struct fakefs_store st = { .read = st_read,
                               .write = st_write,
                               .exists = st_exists };
    struct fakefs_engine *e = fakefs_new(argv[2], &st, NULL);
    char sock[4096], err[256], file[8192];
    ssize_t sl = getxattr(root, FAKEFS_RING_XATTR, sock, sizeof sock - 1);
    struct fakefs_ring_client *rc = NULL;
    if (!e || sl <= 0) {
        fprintf(stderr, "ring-bench: no engine or no ring on %s\n", root);
        return 1;
    }
    sock[sl] = 0;
    if (fakefs_ring_connect(sock, &rc, err, sizeof err) < 0) {
        fprintf(stderr, "ring-bench: %s\n", err);
        return 1;
    }
    snprintf(file, sizeof file, "%s%s", root, path);
    int fd = open(file, O_RDWR);
    if (fd < 0) {
        perror(file);
        return 1;
    }
    static const char *const names[] = { "engine", "ring", "fuse" };
    for (int w = ENGINE; w <= FUSE; w++) {
        double best = 1e30;
        for (int round = 0; round < 3; round++) {
            for (long i = 0; i < n / 10; i++) { /* warm up */
                one(w, e, rc, fd, path);
            }
            double t0 = now();
            for (long i = 0; i < n; i++) {
                if (one(w, e, rc, fd, path) != 0) {
                    fprintf(stderr, "ring-bench: %s failed\n", names[w]);
                    return 1;
                }
            }
            double ns = (now() - t0) / (double)n;
            best = ns < best ? ns : best;
        }
        printf("%s %.0f\n", names[w], best);
    }
    close(fd);
    fakefs_ring_close(rc);
    fakefs_free(e);
    return 0;
}
