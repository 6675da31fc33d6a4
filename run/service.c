/*
 * The service in its own pid namespace (a guest killall or reboot reaches
 * only its own processes) under an init of ours: it starts qemu, reaps the
 * orphans of daemonising services, reports the first process's exit on a
 * pipe, and on SIGTERM stops everything (TERM, then KILL) so nothing is
 * left.  --netns: a fresh network namespace with only loopback up, entered
 * by sfemu run itself so the probe sees what the service sees.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "run.h"

int run_netns(char *err, size_t cap)
{
    if (unshare(CLONE_NEWNET) < 0) {
        snprintf(err, cap,
                 "--netns: cannot create a network namespace "
                 "(%s): it needs CAP_SYS_ADMIN (run as root, or drop "
                 "--netns)",
                 strerror(errno));
        return RUN_PRIVILEGE;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
        (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)) {
        snprintf(err, cap, "--netns: cannot bring loopback up: %s",
                 strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return RUN_PRIVILEGE;
    }
    close(fd);
    return 0;
}

struct init_args {
    const char *qemu;
    char **argv;
    const char *log;
    int status_fd;
    int ready_fd;
};

static volatile sig_atomic_t stop_asked;
static pid_t service_pid; /* the first process, in the namespace */
static int service_status_fd;
static void on_stop(int sig)
{
    (void)sig;
    stop_asked = 1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Stops every process of the namespace: TERM (qemu writes its records),
 * then KILL after 3 s. */
static void init_stop(void)
{
    kill(-1, SIGTERM);
    double t0 = now();
    while (now() - t0 < 3) {
        int st;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p == service_pid) {
            dprintf(service_status_fd, "%d\n", st);
        }
        if (p < 0 && errno == ECHILD) {
            return;
        }
        if (p <= 0) {
            usleep(20000);
        }
    }
    kill(-1, SIGKILL);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
    }
}

static int init_main(void *arg)
{
    struct init_args *a = arg;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* sfemu run killed outright: the service stops all the same */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    /* its own /proc: the namespace's processes only */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0) {
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    }
    pid_t svc = fork();
    if (svc == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        int fd = open(a->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (nul >= 0) {
            dup2(nul, 0);
        }
        setsid();
        execv(a->qemu, a->argv);
        dprintf(2, "sfemu run: cannot execute %s: %s\n", a->qemu,
                strerror(errno));
        _exit(127);
    }
    service_pid = svc;
    service_status_fd = a->status_fd;
    if (write(a->ready_fd, "x", 1) < 0) {
        /* the parent is gone: stop below */
        stop_asked = 1;
    }
    close(a->ready_fd);
    for (;;) {
        if (stop_asked) {
            init_stop();
            return 0;
        }
        int st;
        pid_t p = waitpid(-1, &st, 0);
        if (p == svc) {
            dprintf(a->status_fd, "%d\n", st);
        } else if (p < 0 && errno == ECHILD) {
            return 0;
        }
    }
}

int run_service_start(struct run_service *s, const char *qemu, const char *mnt,
                      const char *rules, const char *out, const char *host_bin,
                      char **args, char *err, size_t cap)
{
    static char *argv[128];
    static char log[PATH_MAX + 32], an[PATH_MAX + 32];
    int n = 0;
    snprintf(log, sizeof log, "%s/service.log", out);
    snprintf(an, sizeof an, "%s/analysis", out);
    argv[n++] = (char *)qemu;
    argv[n++] = "-L";
    argv[n++] = (char *)mnt;
    argv[n++] = "-rules";
    argv[n++] = (char *)rules;
    argv[n++] = "-sfanalysis";
    argv[n++] = an;
    argv[n++] = (char *)host_bin;
    for (int i = 0; args && args[i] && n < 126; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    int sp[2], rp[2];
    if (pipe2(sp, O_CLOEXEC) < 0 || pipe2(rp, O_CLOEXEC) < 0) {
        snprintf(err, cap, "pipe: %s", strerror(errno));
        return RUN_ERR;
    }
    static struct init_args ia;
    ia = (struct init_args){ qemu, argv, log, sp[1], rp[1] };
    size_t stack = 256 * 1024;
    char *stk = malloc(stack);
    pid_t p = clone(init_main, stk + stack,
                    CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, &ia);
    if (p < 0) {
        snprintf(err, cap,
                 "cannot create the service's pid and mount "
                 "namespaces (%s): they need CAP_SYS_ADMIN (run as root)",
                 strerror(errno));
        return RUN_PRIVILEGE;
    }
    close(sp[1]);
    close(rp[1]);
    char c;
    ssize_t r = read(rp[0], &c, 1);
    close(rp[0]);
    fcntl(sp[0], F_SETFL, O_NONBLOCK);
    memset(s, 0, sizeof *s);
    s->init = p;
    s->status_fd = sp[0];
    char nsl[64], path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)p);
    ssize_t l = readlink(path, nsl, sizeof nsl - 1);
    if (l > 0) {
        nsl[l] = 0;
        sscanf(nsl, "pid:[%lu]", &s->pidns);
    }
    if (r != 1) {
        snprintf(err, cap, "the service's init did not start");
        return RUN_ERR;
    }
    return 0;
}

void run_service_poll(struct run_service *s)
{
    char buf[64];
    ssize_t n = read(s->status_fd, buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = 0;
        s->exited = 1;
        s->exit_status = atoi(buf);
    }
    int st;
    if (!s->init_gone && waitpid(s->init, &st, WNOHANG) == s->init) {
        s->init_gone = 1;
        n = read(s->status_fd, buf, sizeof buf - 1);
        if (n > 0) {
            buf[n] = 0;
            s->exited = 1;
            s->exit_status = atoi(buf);
        }
    }
}

/* Processes in the service's pid namespace other than its init. */
int run_service_count(const struct run_service *s)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d))) {
        char p[300], l[64];
        if (e->d_name[0] < '0' || e->d_name[0] > '9' ||
            atoi(e->d_name) == s->init) {
            continue;
        }
        snprintf(p, sizeof p, "/proc/%s/ns/pid", e->d_name);
        ssize_t k = readlink(p, l, sizeof l - 1);
        unsigned long ino;
        if (k > 0 && (l[k] = 0, sscanf(l, "pid:[%lu]", &ino) == 1) &&
            ino == s->pidns) {
            n++;
        }
    }
    if (d) {
        closedir(d);
    }
    return n;
}

void run_service_stop(struct run_service *s)
{
    if (s->init_gone) {
        return;
    }
    kill(s->init, SIGTERM);
    for (int i = 0; i < 100 && !s->init_gone; i++) {
        run_service_poll(s);
        usleep(50000);
    }
    if (!s->init_gone) {
        /* the kernel kills every process of the namespace with its init */
        kill(s->init, SIGKILL);
        waitpid(s->init, NULL, 0);
        s->init_gone = 1;
    }
    run_service_poll(s);
}
