/*
 * One guest program, many probes: each mode exercises one thing the hook
 * runtime must get right.  Cross-compiled for arm, mips, mipsel, aarch64.
 *   probe hello [code]     print a line, exit with code
 *   probe getpid           print getpid() and getppid()
 *   probe loop N MS [closefds|fork]  print getppid() N times, MS ms apart
 *                          (closefds: close every fd but 0-2 first, as
 *                          daemons do; fork: loop in a forked child)
 *   probe pipe_eof         fork; both close a pipe's write end; the parent
 *                          must read EOF while the child still runs
 *   probe write            write() to stdout twice
 *   probe read FILE        read a file in small chunks, print byte count
 *   probe open PATH        open(PATH, O_RDONLY) and print result/errno
 *   probe creat PATH       create PATH, write, read back
 *   probe endian           write(-1, &0x11223344, 4); print the buffer after
 *   probe regs             raw syscall; print a callee-saved reg after it
 *   probe threads N M      N threads x M getppid(); print each result
 *   probe fork             getppid() in a forked child, print it
 *   probe socket           socket(AF_INET), socket(AF_UNIX): print results
 *   probe unixsock PATH    bind a unix socket at PATH
 *   probe cwd DIR FILE     chdir(DIR), open(FILE) relative, print content
 *   probe signals N        count N SIGALRMs from a 1 ms itimer while looping
 *   probe fakeio PATH [code]  open/write/read/lseek/read/ioctl/close PATH, exit code
 *   probe openat DIR NAME  openat(open(DIR), NAME) and read it
 *   probe stat PATH        stat() and access() of PATH
 *   probe connect PATH     connect an AF_UNIX stream socket to PATH, write, read
 *   probe mmap PATH        open(PATH, O_RDWR), mmap a page of it shared, read
 *                          from it: print each result and errno
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <signal.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int m_threads;
static volatile sig_atomic_t m_alarms;

static void on_alarm(int sig)
{
    (void)sig;
    m_alarms++;
}

static void *thread_main(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < m_threads; i++) {
        printf("thread %ld getppid=%ld\n", id, (long)getppid());
    }
    return NULL;
}

static long raw_getppid_reg(void)
{
    long out;
#if defined(__arm__)
    __asm__ volatile("mov r7, %1\n\tmov r4, #0\n\tsvc 0\n\tmov %0, r4"
                     : "=r"(out)
                     : "r"((long)SYS_getppid)
                     : "r0", "r4", "r7", "memory");
#elif defined(__mips__)
    __asm__ volatile("move $s0, $zero\n\tli $v0, %1\n\tsyscall\n\tmove %0, $s0"
                     : "=r"(out)
                     : "i"(SYS_getppid)
                     : "$2", "$7", "$16", "memory");
#elif defined(__aarch64__)
    __asm__ volatile("mov x8, %1\n\tmov x19, #0\n\tsvc 0\n\tmov %0, x19"
                     : "=r"(out)
                     : "r"((long)SYS_getppid)
                     : "x0", "x8", "x19", "memory");
#else
    out = -1;
#endif
    return out;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "hello";

    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(mode, "hello")) {
        printf("hello from the guest, argc=%d\n", argc);
        return argc > 2 ? atoi(argv[2]) : 0;
    } else if (!strcmp(mode, "getpid")) {
        printf("getpid=%ld getppid=%ld\n", (long)getpid(), (long)getppid());
    } else if (!strcmp(mode, "loop")) {
        int n = atoi(argv[2]), ms = atoi(argv[3]);
        const char *how = argc > 4 ? argv[4] : "";
        if (!strcmp(how, "closefds")) {
            for (int fd = 3; fd < 65536; fd++) {
                close(fd);
            }
        } else if (!strcmp(how, "fork")) {
            int st;
            pid_t p = fork();
            if (p > 0) {
                waitpid(p, &st, 0);
                return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
            }
        }
        for (int i = 0; i < n; i++) {
            struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
            printf("loop %d getppid=%ld\n", i, (long)getppid());
            nanosleep(&ts, NULL);
        }
    } else if (!strcmp(mode, "write")) {
        write(1, "first write\n", 12);
        write(1, "second write\n", 13);
    } else if (!strcmp(mode, "mmap")) {
        char buf[16];
        int fd = open(argv[2], O_RDWR);
        void *p = fd < 0 ? MAP_FAILED
                         : mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
                                fd, 0);
        int em = p == MAP_FAILED ? errno : 0;
        long n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
        printf("mmap %s: open=%d mmap=%s errno=%d read=%ld errno=%d\n", argv[2],
               fd < 0 ? -1 : 0, p == MAP_FAILED ? "failed" : "ok", em, n,
               n < 0 ? errno : 0);
    } else if (!strcmp(mode, "read")) {
        char buf[7];
        long total = 0, n;
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0) {
            printf("open failed errno=%d\n", errno);
            return 1;
        }
        while ((n = read(fd, buf, sizeof(buf))) > 0) {
            total += n;
        }
        close(fd);
        printf("read total=%ld\n", total);
    } else if (!strcmp(mode, "open")) {
        int fd = open(argv[2], argc > 3 ? O_WRONLY : O_RDONLY);
        printf("open %s -> %d errno=%d\n", argv[2], fd < 0 ? -1 : 3,
               fd < 0 ? errno : 0);
        if (fd >= 0) {
            char buf[256];
            long n = read(fd, buf, sizeof(buf) - 1);
            buf[n > 0 ? n : 0] = 0;
            printf("content=[%s]\n", buf);
        }
    } else if (!strcmp(mode, "creat")) {
        char buf[64] = { 0 };
        int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            printf("creat %s failed errno=%d\n", argv[2], errno);
            return 1;
        }
        write(fd, "created by the guest\n", 21);
        lseek(fd, 0, SEEK_SET);
        read(fd, buf, sizeof(buf) - 1);
        close(fd);
        printf("creat %s ok: %s", argv[2], buf);
    } else if (!strcmp(mode, "endian")) {
        uint32_t v = 0x11223344;
        long r = write(-1, &v, 4);
        printf("endian write=%ld value=0x%08x\n", r, (unsigned)v);
    } else if (!strcmp(mode, "regs")) {
        printf("regs after=0x%lx\n", raw_getppid_reg());
    } else if (!strcmp(mode, "threads")) {
        int n = atoi(argv[2]);
        pthread_t t[16];
        m_threads = atoi(argv[3]);
        for (long i = 0; i < n && i < 16; i++) {
            pthread_create(&t[i], NULL, thread_main, (void *)i);
        }
        for (int i = 0; i < n && i < 16; i++) {
            pthread_join(t[i], NULL);
        }
        printf("main getppid=%ld\n", (long)getppid());
    } else if (!strcmp(mode, "fork")) {
        int st;
        printf("parent getppid=%ld\n", (long)getppid());
        pid_t p = fork();
        if (p == 0) {
            printf("child getppid=%ld\n", (long)getppid());
            _exit(7);
        }
        waitpid(p, &st, 0);
        printf("child exit=%d\n", WEXITSTATUS(st));
    } else if (!strcmp(mode, "socket")) {
        int a = socket(AF_INET, SOCK_STREAM, 0);
        int ea = errno;
        int u = socket(AF_UNIX, SOCK_STREAM, 0);
        printf("inet=%s errno=%d unix=%s\n", a < 0 ? "fail" : "ok",
               a < 0 ? ea : 0, u < 0 ? "fail" : "ok");
    } else if (!strcmp(mode, "unixsock")) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[2]);
        printf("bind %s -> %d errno=%d\n", argv[2],
               bind(s, (struct sockaddr *)&sa, sizeof(sa)), errno);
    } else if (!strcmp(mode, "cwd")) {
        char buf[256] = { 0 };
        if (chdir(argv[2]) != 0) {
            printf("chdir failed errno=%d\n", errno);
            return 1;
        }
        int fd = open(argv[3], O_RDONLY);
        if (fd >= 0) {
            read(fd, buf, sizeof(buf) - 1);
        }
        printf("cwd=%s open=%d content=[%s]\n",
               getcwd(buf + 128, 128) ? buf + 128 : "?", fd >= 0, buf);
    } else if (!strcmp(mode, "fakeio")) {
        char buf[256] = { 0 };
        int fd = open(argv[2], O_RDWR);
        long w, r, r2, off, io;
        int dummy = 0;
        if (fd < 0) {
            printf("fakeio open errno=%d\n", errno);
            return 1;
        }
        w = write(fd, "guest-data", 10);
        off = lseek(fd, 0, SEEK_SET);
        r = read(fd, buf, 8);
        r2 = read(fd, buf + (r > 0 ? r : 0), sizeof(buf) - 20);
        io = ioctl(fd, 0x5401, &dummy); /* TCGETS-style number, restricted */
        printf(
            "fakeio write=%ld lseek=%ld read=%ld read2=%ld ioctl=%ld errno=%d data=[%s]\n",
            w, off, r, r2, io, io < 0 ? errno : 0, buf);
        printf("fakeio close=%d\n", close(fd));
        return argc > 3 ? atoi(argv[3]) : 0;
    } else if (!strcmp(mode, "openat")) {
        char buf[128] = { 0 };
        int d = open(argv[2], O_RDONLY | O_DIRECTORY);
        int fd = openat(d, argv[3], O_RDONLY);
        if (fd >= 0) {
            read(fd, buf, sizeof(buf) - 1);
        }
        printf("openat %s/%s -> %s errno=%d content=[%s]\n", argv[2], argv[3],
               fd >= 0 ? "ok" : "fail", fd >= 0 ? 0 : errno, buf);
    } else if (!strcmp(mode, "stat")) {
        struct stat st;
        int a = access(argv[2], F_OK), ea = a ? errno : 0;
        int s2 = stat(argv[2], &st), es = s2 ? errno : 0;
        printf("stat %s: access=%d errno=%d stat=%d errno=%d\n", argv[2], a, ea,
               s2, es);
    } else if (!strcmp(mode, "connect")) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char buf[64] = { 0 };
        int s = socket(AF_UNIX, SOCK_STREAM, 0), c, e;
        long w = -1, r = -1;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[2]);
        c = connect(s, (struct sockaddr *)&sa, sizeof(sa));
        e = c ? errno : 0;
        if (c == 0) {
            w = write(s, "ping", 4);
            r = read(s, buf, sizeof(buf) - 1);
        }
        printf("connect %s -> %d errno=%d write=%ld read=%ld\n", argv[2], c, e,
               w, r);
    } else if (!strcmp(mode, "pipe_eof")) {
        int p[2], st;
        char c;
        pid_t child;
        if (pipe(p) != 0) {
            return 1;
        }
        child = fork();
        if (child == 0) {
            struct timespec ts = { 0, 20 * 1000000L };
            close(p[1]);
            for (int i = 0; i < 100; i++) { /* alive for 2 s */
                getppid();
                nanosleep(&ts, NULL);
            }
            _exit(0);
        }
        close(p[1]);
        sigaction(SIGALRM, &(struct sigaction){ .sa_handler = on_alarm }, NULL);
        alarm(1); /* no SA_RESTART: a read still blocked then fails */
        printf("pipe read=%ld (0: EOF while the child runs)\n",
               (long)read(p[0], &c, 1));
        kill(child, SIGKILL);
        waitpid(child, &st, 0);
    } else if (!strcmp(mode, "signals")) {
        struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
        long calls = 0;
        int want = atoi(argv[2]);
        signal(SIGALRM, on_alarm);
        setitimer(ITIMER_REAL, &it, NULL);
        while (m_alarms < want) {
            getppid();
            calls++;
        }
        memset(&it, 0, sizeof(it));
        setitimer(ITIMER_REAL, &it, NULL);
        /* one more may land before the timer is off: at least want */
        printf("signals %d received, calls>0=%d\n",
               m_alarms >= want ? want : (int)m_alarms, calls > 0);
    } else {
        fprintf(stderr, "probe: unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
