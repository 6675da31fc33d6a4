/*
 * Guest for the watchdog tests (tests/qemu/watchdog_*.sh).  Cross-compiled
 * for arm, mips, mipsel, aarch64.
 *   wd openloop PATH N     open(PATH) N times (it fails), then exit 0
 *   wd spin S              one syscall, then S seconds of pure computation
 *   wd accept PORT S       block in accept() on 127.0.0.1:PORT for S seconds
 *   wd serve PORT N        accept N connections on 127.0.0.1:PORT, answer
 *                          each "ok", then exit 0
 *   wd httpd PORT S [MISS] select() loop serving HTTP for S seconds; each
 *                          round also opens MISS (missing: a failing syscall)
 *   wd exitmissing PATH    open(PATH) fails: exit(1)
 *   wd crash               SIGSEGV inside wd_crash_here()
 *   wd forkexit N CODE     N forked children exit(CODE), each after a failing
 *                          open; the parent reaps them and exits 0
 *   wd threadloop T N PATH T threads each open(PATH) N times (it fails)
 *   wd daemon CODE         forks; the parent exits 0 at once, the child
 *                          waits until it is orphaned, then exit(CODE)
 *   wd exitsys CODE PATH   open(PATH) (it fails), then the plain exit
 *                          syscall from main, as old uClibc's _exit does
 *   wd threadexit CODE     a thread ends with the plain exit syscall, then
 *                          main (now the last thread) does the same
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
    (void)sig;
    alarmed = 1;
}

/* No SA_RESTART: a blocked accept/select returns EINTR at the alarm. */
static void alarm_in(int s)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarm(s);
}

static int listen_on(int port)
{
    struct sockaddr_in a;
    int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 8)) {
        printf("listen failed: %s\n", strerror(errno));
        exit(2);
    }
    printf("listening on %d\n", port);
    return s;
}

__attribute__((noinline)) void wd_crash_here(volatile int *p)
{
    *p = 42;
}

static const char *loop_path;
static long loop_n;

static void *open_loop(void *arg)
{
    (void)arg;
    for (long i = 0; i < loop_n; i++) {
        int fd = open(loop_path, O_RDONLY);
        if (fd >= 0) {
            close(fd);
        }
    }
    return NULL;
}

static int fork_exit(int n, int code)
{
    int same = 0;

    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p == 0) {
            open("/wd-missing-config", O_RDONLY);
            _exit(code);
        }
        int st;
        if (p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) &&
            WEXITSTATUS(st) == code) {
            same++;
        }
    }
    printf("forkexit %d children exited %d\n", same, code);
    return 0;
}

static int daemonize(int code)
{
    pid_t parent = getpid(), p = fork();

    if (p != 0) {
        printf("daemon forked\n");
        return p < 0; /* the parent is done */
    }
    for (int i = 0; i < 1000 && getppid() == parent; i++) {
        usleep(10000);
    }
    exit(code);
}

/* A thread that ends with the plain exit syscall (no pthread_exit). */
static void *thread_sys_exit(void *arg)
{
    (void)arg;
    syscall(SYS_exit, 0);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";

    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(mode, "openloop") && argc > 3) {
        long n = atol(argv[3]), fails = 0;
        for (long i = 0; i < n; i++) {
            int fd = open(argv[2], O_RDONLY);
            if (fd < 0) {
                fails++;
            } else {
                close(fd);
            }
        }
        printf("openloop %ld failures\n", fails);
        return 0;
    }
    if (!strcmp(mode, "spin") && argc > 2) {
        volatile unsigned long x = 0;
        alarm_in(atoi(argv[2]));
        while (!alarmed) {
            x++;
        }
        printf("spin done\n");
        return 0;
    }
    if (!strcmp(mode, "accept") && argc > 3) {
        int s = listen_on(atoi(argv[2]));
        alarm_in(atoi(argv[3]));
        int c = accept(s, NULL, NULL);
        printf("accept returned %d (%s)\n", c, c < 0 ? strerror(errno) : "");
        return 0;
    }
    if (!strcmp(mode, "serve") && argc > 3) {
        int s = listen_on(atoi(argv[2])), n = atoi(argv[3]), served = 0;
        while (served < n) {
            int c = accept(s, NULL, NULL);
            if (c < 0) {
                continue;
            }
            if (write(c, "ok\n", 3) == 3) {
                served++;
            }
            close(c);
        }
        printf("served %d\n", served);
        return 0;
    }
    if (!strcmp(mode, "httpd") && argc > 3) {
        static const char resp[] =
            "HTTP/1.0 200 OK\r\nContent-Type: "
            "text/plain\r\nContent-Length: 3\r\n\r\nok\n";
        int s = listen_on(atoi(argv[2])), served = 0;
        const char *miss = argc > 4 ? argv[4] : NULL;
        alarm_in(atoi(argv[3]));
        while (!alarmed) {
            fd_set rd;
            struct timeval tv = { 0, 20000 };
            FD_ZERO(&rd);
            FD_SET(s, &rd);
            if (miss) {
                int fd = open(miss, O_RDONLY); /* optional config */
                if (fd >= 0) {
                    close(fd);
                }
            }
            if (select(s + 1, &rd, NULL, NULL, &tv) > 0) {
                char buf[512];
                int c = accept(s, NULL, NULL);
                if (c < 0) {
                    continue;
                }
                if (read(c, buf, sizeof(buf)) > 0 &&
                    write(c, resp, sizeof(resp) - 1) > 0) {
                    served++;
                }
                close(c);
            }
        }
        printf("httpd served %d\n", served);
        return 0;
    }
    if (!strcmp(mode, "exitmissing") && argc > 2) {
        if (open(argv[2], O_RDONLY) < 0) {
            printf("missing %s: %s\n", argv[2], strerror(errno));
            exit(1);
        }
        return 0;
    }
    if (!strcmp(mode, "crash")) {
        printf("crashing\n");
        wd_crash_here((volatile int *)(long)(argc > 5 ? 16 : 0));
        return 0;
    }
    if (!strcmp(mode, "forkexit") && argc > 3) {
        return fork_exit(atoi(argv[2]), atoi(argv[3]));
    }
    if (!strcmp(mode, "threadloop") && argc > 4) {
        int t = atoi(argv[2]);
        pthread_t th[64];
        loop_n = atol(argv[3]);
        loop_path = argv[4];
        t = t > 64 ? 64 : t;
        for (int i = 0; i < t; i++) {
            pthread_create(&th[i], NULL, open_loop, NULL);
        }
        for (int i = 0; i < t; i++) {
            pthread_join(th[i], NULL);
        }
        printf("threadloop %d threads done\n", t);
        return 0;
    }
    if (!strcmp(mode, "daemon") && argc > 2) {
        return daemonize(atoi(argv[2]));
    }
    if (!strcmp(mode, "exitsys") && argc > 3) {
        if (open(argv[3], O_RDONLY) < 0) {
            printf("missing %s, exit syscall %d\n", argv[3], atoi(argv[2]));
            fflush(stdout);
        }
        syscall(SYS_exit, atoi(argv[2]));
        return 99; /* not reached */
    }
    if (!strcmp(mode, "threadexit") && argc > 2) {
        pthread_t th;

        pthread_create(&th, NULL, thread_sys_exit, NULL);
        pthread_join(th, NULL);
        printf("thread gone, main exits %d\n", atoi(argv[2]));
        fflush(stdout);
        syscall(SYS_exit, atoi(argv[2]));
        return 99;
    }
    fprintf(stderr, "usage: wd openloop|spin|accept|httpd|exitmissing|crash|"
                    "forkexit|threadloop|daemon|exitsys|threadexit\n");
    return 64;
}
