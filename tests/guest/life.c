/* Process life, certificates and vendor devices as a firmware service meets
 * them (tests/qemu/pack_life.sh, pack_certs.sh, pack_devices.sh).  Each
 * mode prints what the kernel (or the rules) answered, so a test can tell a
 * neutralised call (0, nothing happened) from one that never ran.
 *   kill PID SIG [TIMES] | tkill TID SIG | tgkill TGID TID SIG | reboot CMD
 *   children          fork three children and kill them (own group, a
 *                     group of its own, a session of its own)
 *   wdt PATH          a watchdog daemon: open, ioctls, writes, magic close
 *   ioctl PATH CMD N  one ioctl with an N-byte zeroed argument
 *   poll PATH         poll and select on the device, with a timeout
 *   head PATH         the first line of a file
 *   ls DIR            whether opendir succeeds
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define WDIOC_GETSUPPORT _IOR('W', 0, struct wd_info)
#define WDIOC_KEEPALIVE _IOR('W', 5, int)
#define WDIOC_SETTIMEOUT _IOWR('W', 6, int)
#define WDIOC_GETTIMEOUT _IOR('W', 7, int)

struct wd_info {
    unsigned options, firmware_version;
    unsigned char identity[32];
};

/* strtoll: 0xcdef0123 does not fit a 32-bit long */
static long num(const char *s)
{
    return (long)strtoll(s, NULL, 0);
}

static void result(const char *what, long rc)
{
    printf("%s -> %ld errno=%d\n", what, rc, rc < 0 ? errno : 0);
}

static int children(void)
{
    pid_t kids[3];
    const int sigs[3] = { SIGTERM, SIGKILL, SIGHUP };

    for (int i = 0; i < 3; i++) {
        int ready[2];
        char c;

        if (pipe(ready) < 0) {
            return 1;
        }
        kids[i] = fork();
        if (kids[i] == 0) {
            if (i == 1) {
                setpgid(0, 0); /* a process group of its own */
            } else if (i == 2) {
                setsid(); /* a session (and group) of its own */
            }
            if (write(ready[1], "x", 1) != 1) {
                _exit(3);
            }
            for (;;) {
                pause();
            }
        }
        if (read(ready[0], &c, 1) != 1) {
            return 1;
        }
        close(ready[0]);
        close(ready[1]);
    }
    /* own group child by pid, the others by their group */
    printf("kill child0 -> %d\n", kill(kids[0], sigs[0]));
    printf("kill group of child1 -> %d\n", kill(-kids[1], sigs[1]));
    printf("kill session group of child2 -> %d\n", kill(-kids[2], sigs[2]));
    for (int i = 0; i < 3; i++) {
        int st = 0;

        alarm(10);
        waitpid(kids[i], &st, 0);
        printf("child%d %s %d\n", i, WIFSIGNALED(st) ? "signaled" : "exited",
               WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    }
    return 0;
}

static int wdt(const char *path)
{
    int fd = open(path, O_RDWR), t = 30;
    struct wd_info info;

    result("open", fd);
    if (fd < 0) {
        return 1;
    }
    memset(&info, 0, sizeof(info));
    result("WDIOC_GETSUPPORT", ioctl(fd, WDIOC_GETSUPPORT, &info));
    printf("identity=%.32s options=0x%x\n", info.identity, info.options);
    result("WDIOC_SETTIMEOUT", ioctl(fd, WDIOC_SETTIMEOUT, &t));
    t = 0;
    result("WDIOC_GETTIMEOUT", ioctl(fd, WDIOC_GETTIMEOUT, &t));
    printf("timeout=%d\n", t);
    for (int i = 0; i < 3; i++) {
        result("write", write(fd, "1", 1));
        result("WDIOC_KEEPALIVE", ioctl(fd, WDIOC_KEEPALIVE, 0));
    }
    result("magic close", write(fd, "V", 1));
    result("close", close(fd));
    return 0;
}

static int one_ioctl(const char *path, unsigned long cmd, size_t n)
{
    unsigned char buf[256];
    int fd = open(path, O_RDWR);
    long rc;

    result("open", fd);
    if (fd < 0 || n > sizeof(buf)) {
        return 1;
    }
    memset(buf, 0, sizeof(buf));
    rc = ioctl(fd, cmd, n ? (void *)buf : NULL);
    printf("ioctl 0x%lx -> %ld errno=%d arg=", cmd, rc, rc < 0 ? errno : 0);
    for (size_t i = 0; i < n; i++) {
        printf("%02x", buf[i]);
    }
    printf("\n");
    return 0;
}

static long ms_since(const struct timeval *t0)
{
    struct timeval t1;

    gettimeofday(&t1, NULL);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_usec - t0->tv_usec) / 1000;
}

static int poll_dev(const char *path)
{
    int fd = open(path, O_RDWR), rc;
    struct pollfd p;
    struct timeval t0, tv = { 3, 0 };
    fd_set rd;

    result("open", fd);
    if (fd < 0) {
        return 1;
    }
    p.fd = fd;
    p.events = POLLIN | POLLOUT;
    p.revents = 0;
    gettimeofday(&t0, NULL);
    rc = poll(&p, 1, 3000);
    printf("poll -> %d revents=0x%x in %ld ms\n", rc, p.revents, ms_since(&t0));
    FD_ZERO(&rd);
    FD_SET(fd, &rd);
    gettimeofday(&t0, NULL);
    rc = select(fd + 1, &rd, NULL, NULL, &tv);
    printf("select -> %d readable=%d in %ld ms\n", rc,
           FD_ISSET(fd, &rd) ? 1 : 0, ms_since(&t0));
    return 0;
}

static int head(const char *path)
{
    char line[256];
    FILE *f = fopen(path, "r");

    if (!f) {
        printf("open %s -> -1 errno=%d\n", path, errno);
        return 1;
    }
    if (fgets(line, sizeof(line), f)) {
        printf("%s", line);
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "";

    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(m, "kill") && (argc == 4 || argc == 5)) {
        for (long i = argc == 5 ? num(argv[4]) : 1; i > 0; i--) {
            result("kill", syscall(SYS_kill, num(argv[2]), num(argv[3])));
        }
    } else if (!strcmp(m, "tkill") && argc == 4) {
        result("tkill", syscall(SYS_tkill, num(argv[2]), num(argv[3])));
    } else if (!strcmp(m, "tgkill") && argc == 5) {
        result("tgkill",
               syscall(SYS_tgkill, num(argv[2]), num(argv[3]), num(argv[4])));
    } else if (!strcmp(m, "reboot") && argc == 3) {
        result("reboot", syscall(SYS_reboot, 0xfee1dead, 672274793,
                                 (unsigned)num(argv[2]), NULL));
    } else if (!strcmp(m, "children")) {
        return children();
    } else if (!strcmp(m, "wdt") && argc == 3) {
        return wdt(argv[2]);
    } else if (!strcmp(m, "ioctl") && argc == 5) {
        return one_ioctl(argv[2], (unsigned long)num(argv[3]),
                         (size_t)num(argv[4]));
    } else if (!strcmp(m, "poll") && argc == 3) {
        return poll_dev(argv[2]);
    } else if (!strcmp(m, "head") && argc == 3) {
        return head(argv[2]);
    } else if (!strcmp(m, "ls") && argc == 3) {
        DIR *d = opendir(argv[2]);

        printf("opendir %s -> %s errno=%d\n", argv[2], d ? "ok" : "fail",
               d ? 0 : errno);
        if (d) {
            closedir(d);
        }
    } else {
        fprintf(stderr, "usage: life kill|tkill|tgkill|reboot|children|wdt|"
                        "ioctl|poll|head|ls ...\n");
        return 2;
    }
    printf("after\n");
    return 0;
}
