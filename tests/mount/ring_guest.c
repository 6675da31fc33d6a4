/*
 * The guest of tests/mount/ring.sh (cross-compiled for ARM and big-endian
 * MIPS): ioctls on a fake device, encoded (_IOW/_IOWR/_IO, the guest's own
 * encoding) and raw.
 *   ring_guest set PATH KEY=VALUE   _IOW('R', 1, char[32]), then raw 0x89f0
 *   ring_guest get PATH KEY         _IOWR('R', 2, char[32]): prints the value
 *   ring_guest hammer PATH N KIDS   KIDS forked processes, N _IO('R', 3)
 *                                   each; prints "kid PID ok=N bad=N"
 *   ring_guest run PATH SECONDS KIDS  the same for SECONDS instead of N
 *   ring_guest closeall PATH KEY    get, close every fd above 2 but the
 *                                   device's (as daemons do), get again
 *   ring_guest all PATH KEY VALUE   set, then read KEY back three ways:
 *                                   _IOWR get, raw 0x89f1 (its size from
 *                                   the fakeconfig), a read of a buffer
 *                                   holding "?KEY"; raw 0x89f0 with 5
 *   ring_guest dup PATH KEY FILE    set KEY=dupv, read FILE (a plain
 *                                   fd), dup2 the device onto its number,
 *                                   read "?KEY" through it
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RING_SET _IOW('R', 1, char[32])
#define RING_GET _IOWR('R', 2, char[32])
#define RING_BUMP _IO('R', 3)
#define RING_ORDER _IOR('R', 4, unsigned)

static int kid(const char *path, long n, long secs)
{
    int fd = open(path, O_RDWR);
    long ok = 0, bad = 0;
    time_t end = time(NULL) + secs;
    if (fd < 0) {
        perror("open");
        return 2;
    }
    for (long i = 0; secs ? time(NULL) < end : i < n; i++) {
        if (ioctl(fd, RING_BUMP) == 0) {
            ok++;
        } else {
            bad++;
        }
    }
    close(fd);
    printf("kid %d ok=%ld bad=%ld\n", (int)getpid(), ok, bad);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        return 1;
    }
    const char *mode = argv[1], *path = argv[2];
    if (!strcmp(mode, "hammer") || !strcmp(mode, "run")) {
        long v = atol(argv[3]);
        int kids = argc > 4 ? atoi(argv[4]) : 1, failed = 0;
        for (int i = 0; i < kids; i++) {
            if (fork() == 0) {
                _exit(kid(path, v, !strcmp(mode, "run") ? v : 0));
            }
        }
        for (int i = 0; i < kids; i++) {
            int st;
            wait(&st);
            failed += !WIFEXITED(st) || WEXITSTATUS(st);
        }
        return failed ? 3 : 0;
    }
    int fd = open(path, O_RDWR);
    char buf[32] = { 0 };
    if (fd < 0) {
        perror("open");
        return 2;
    }
    snprintf(buf, sizeof buf, "%s", argv[3]);
    if (!strcmp(mode, "dup") && argc > 4) {
        char rd[32];
        snprintf(buf, sizeof buf, "%s=dupv", argv[3]);
        ioctl(fd, RING_SET, buf);
        int plain = open(argv[4], O_RDONLY);
        int n0 = plain >= 0 ? (int)read(plain, rd, sizeof rd) : -1;
        int d = dup2(fd, plain);
        snprintf(rd, sizeof rd, "?%s", argv[3]);
        int n = (int)read(plain, rd, sizeof rd - 1);
        printf("plain=%d dup2=%d read=%d:%.*s\n", n0 > 0, d == plain, n,
               n > 0 ? n : 0, rd);
    } else if (!strcmp(mode, "all") && argc > 4) {
        char get[32] = { 0 }, raw[32] = { 0 }, rd[32] = { 0 };
        snprintf(buf, sizeof buf, "%s=%s", argv[3], argv[4]);
        int s = ioctl(fd, RING_SET, buf);
        snprintf(get, sizeof get, "%s", argv[3]);
        int g = ioctl(fd, RING_GET, get);
        snprintf(raw, sizeof raw, "%s", argv[3]);
        int w = ioctl(fd, 0x89f1, raw);
        snprintf(rd, sizeof rd, "?%s", argv[3]);
        int n = (int)read(fd, rd, sizeof rd - 1);
        int v = ioctl(fd, 0x89f0, 5);
        unsigned order = 0;
        int o = ioctl(fd, RING_ORDER, &order);
        int z = ioctl(fd, RING_SET, NULL); /* the handler decides: EINVAL */
        int ze = z < 0 ? errno : 0;
        printf("set=%d get=%d:%s raw=%d:%s read=%d:%.*s raw5=%d order=%d:%x "
               "null=%d:%d\n",
               s, g, get, w, raw, n, n > 0 ? n : 0, rd, v, o, order, z, ze);
        printf("pid=%d fd=%d\n", (int)getpid(), fd);
    } else if (!strcmp(mode, "set")) {
        int r = ioctl(fd, RING_SET, buf);
        int raw = ioctl(fd, 0x89f0, 5);
        printf("set=%d raw=%d\n", r, raw);
    } else if (!strcmp(mode, "closeall")) {
        int r = ioctl(fd, RING_GET, buf);
        for (int i = 3; i < 1024; i++) {
            if (i != fd) {
                close(i);
            }
        }
        snprintf(buf, sizeof buf, "%s", argv[3]);
        int r2 = ioctl(fd, RING_GET, buf);
        printf("get=%d after closing every fd: get=%d value=%s\n", r, r2, buf);
    } else {
        int r = ioctl(fd, RING_GET, buf);
        printf("get=%d value=%s\n", r, buf);
    }
    close(fd);
    return 0;
}
