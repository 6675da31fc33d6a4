/*
 * ring-bench ROOT RULES GUESTPATH N: one small ioctl (_IO('R', 3), no
 * argument bytes) on the fake resource GUESTPATH, N times each way, in one
 * run (bench/ring/run.sh):
 *   engine  fakefs_ioctl on an engine inside this process (what qemu does
 *           without a mount)
 *   ring    fakefs_ring_call to the sfemu-mount daemon over the ring (what
 *           qemu does on the mount)
 *   fuse    ioctl(2) on ROOT/GUESTPATH: one FUSE round trip to the daemon
 *   bare    the ring alone: a server in this process whose handler does
 *           nothing (the transport's own cost)
 *   pipe    one byte to a child process and back over two pipes: the
 *           kernel's floor for a wake-up round trip on this machine
 * Prints "way mean_ns best_ns": the mean over N calls and the best batch
 * of N/20 (a batch nobody preempted: what the way costs on an idle box).
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

enum way { ENGINE, RING, FUSE, BARE, PIPE };
static struct fakefs_ring_client *bare;

static long nothing(void *ud, struct fakefs_call *c)
{
    (void)ud;
    (void)c;
    return 0;
}
static int to_kid[2], from_kid[2];

static int one(enum way w, struct fakefs_engine *e,
               struct fakefs_ring_client *rc, int fd, const char *path)
{
    unsigned long cmd = _IO('R', 3);
    struct fakefs_caller who = { .pid = getpid(), .fd = -1, .side = "qemu" };
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
    case BARE: {
        struct fakefs_call c = {
            .op = FAKEFS_IOCTL, .path = path, .cmd = cmd, .who = who
        };
        return fakefs_ring_call(bare, &c, 500, &r) ? -1 : (int)r;
    }
    case PIPE: {
        char b = 1;
        return write(to_kid[1], &b, 1) == 1 && read(from_kid[0], &b, 1) == 1
                   ? 0
                   : -1;
    }
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
    if (pipe(to_kid) < 0 || pipe(from_kid) < 0) {
        return 1;
    }
    pid_t kid = fork();
    if (kid == 0) {
        char b;
        while (read(to_kid[0], &b, 1) == 1 && write(from_kid[1], &b, 1) == 1) {
        }
        _exit(0);
    }
    char bsock[64];
    snprintf(bsock, sizeof bsock, "/tmp/ring-bench-%d.sock", (int)getpid());
    struct fakefs_ring_server *bs =
        fakefs_ring_serve(bsock, 0, "", 1, nothing, NULL, NULL);
    if (!bs || fakefs_ring_connect(bsock, &bare, err, sizeof err) < 0) {
        fprintf(stderr, "ring-bench: no bare ring\n");
        return 1;
    }
    static const char *const names[] = { "engine", "ring", "fuse", "bare",
                                         "pipe" };
    long batch = n / 20 ? n / 20 : 1;
    for (int w = ENGINE; w <= PIPE; w++) {
        double best = 1e30, total = 0;
        for (long i = 0; i < batch; i++) { /* warm up */
            one(w, e, rc, fd, path);
        }
        for (long b = 0; b < 20; b++) {
            double t0 = now();
            for (long i = 0; i < batch; i++) {
                if (one(w, e, rc, fd, path) != 0) {
                    fprintf(stderr, "ring-bench: %s failed\n", names[w]);
                    return 1;
                }
            }
            double ns = now() - t0;
            total += ns;
            best = ns / (double)batch < best ? ns / (double)batch : best;
        }
        printf("%s %.0f %.0f\n", names[w], total / (double)(20 * batch), best);
    }
    close(to_kid[1]);
    fakefs_ring_close(bare);
    fakefs_ring_stop(bs);
    close(fd);
    fakefs_ring_close(rc);
    fakefs_free(e);
    return 0;
}
