/*
 * Guest for the AI repair tests (tests/qemu/ai_*.sh):
 *   aifix missing   open /dev/sfemu_missing; exit 1 when it cannot, else
 *                   read 4 bytes from it (abort when that fails: a "fix"
 *                   that hands out a bogus fd makes things worse) and exit 0
 *   aifix ioctl     TCGETS on /dev/null (ENOTTY): prints what it returned;
 *                   "ioctl=4242" only comes from a retried call through a fix
 *   aifix loop      open /dev/sfemu_loop until it opens (a dead loop on a
 *                   missing device), at most 100000 times (then exit 2)
 *   aifix spin N    N million iterations of its own code with no syscall,
 *                   then open /dev/sfemu_spin; again until it opens, at
 *                   most 8 rounds (then exit 2): an idle_deadloop
 *   aifix ok        exit 0 at once
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "ok";

    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(mode, "missing")) {
        char buf[4];
        int fd = open("/dev/sfemu_missing", O_RDWR);
        if (fd < 0) {
            printf("cannot open /dev/sfemu_missing: %s\n", strerror(errno));
            return 1;
        }
        if (read(fd, buf, sizeof(buf)) < 0) {
            printf("read: %s\n", strerror(errno));
            abort();
        }
        printf("opened /dev/sfemu_missing\n");
        return 0;
    }
    if (!strcmp(mode, "ioctl")) {
        struct termios t;
        int fd = open("/dev/null", O_RDWR);
        int r = ioctl(fd, TCGETS, &t);
        if (r < 0) {
            printf("ioctl failed: %s\n", strerror(errno));
            return 1;
        }
        printf("ioctl=%d\n", r);
        return 0;
    }
    if (!strcmp(mode, "loop")) {
        for (int i = 1; i <= 100000; i++) {
            int fd = open("/dev/sfemu_loop", O_RDONLY);
            if (fd >= 0) {
                printf("loop ended after %d tries\n", i);
                return 0;
            }
        }
        printf("still looping\n");
        return 2;
    }
    if (!strcmp(mode, "spin")) {
        long n = (argc > 2 ? atol(argv[2]) : 100) * 1000000L;
        for (int round = 1; round <= 8; round++) {
            volatile long x = 0;
            for (long i = 0; i < n; i++) {
                x += i;
            }
            int fd = open("/dev/sfemu_spin", O_RDONLY);
            if (fd >= 0) {
                printf("spin ended after %d rounds\n", round);
                return 0;
            }
        }
        printf("still spinning\n");
        return 2;
    }
    return 0;
}
