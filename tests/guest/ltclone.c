/*
 * LinuxThreads-style clone, without libc threads: children created with
 * clone(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | sig) as old
 * uClibc's LinuxThreads does.  Children use raw syscalls only (they share
 * the parent's TLS, as LinuxThreads' did not).
 *
 *   ltclone basic    one child: shared memory, own pid, kill, exit signal,
 *                    waitpid(pid, __WCLONE)
 *   ltclone manager  the manager pattern: the first clone starts a manager
 *                    that clones the workers and reaps them
 * Prints key=value lines; exits 0 when clone itself worked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SHARE (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND)
#define STACK 65536
#define WORKERS 3

static int main_pid;

static volatile struct {
    int child_pid, child_ppid, written, usr2_tid, exit_sigs;
    int worker_pid[WORKERS], worker_ppid[WORKERS], manager_ppid;
    int reaped, status_sum, reaped_distinct, manager_exit_sigs;
} sh;

static long raw(long nr, long a, long b, long c)
{
    return syscall(nr, a, b, c);
}

static void nap(void)
{
    struct timespec ts = { 0, 1000000 };
    raw(SYS_nanosleep, (long)&ts, 0, 0);
}

static void on_usr1(int sig)
{
    (void)sig;
    if (raw(SYS_gettid, 0, 0, 0) == main_pid) {
        sh.exit_sigs++;
    } else {
        sh.manager_exit_sigs++;
    }
}

static void on_usr2(int sig)
{
    (void)sig;
    sh.usr2_tid = (int)raw(SYS_gettid, 0, 0, 0);
}

static void *stack(void)
{
    char *s = malloc(STACK);
    return s + STACK;
}

/* ---- basic */

static int child(void *arg)
{
    (void)arg;
    sh.child_pid = (int)raw(SYS_getpid, 0, 0, 0);
    sh.child_ppid = (int)raw(SYS_getppid, 0, 0, 0);
    sh.written = 42;
    for (int i = 0; i < 5000 && !sh.usr2_tid; i++) {
        nap();
    }
    return 7;
}

static int basic(void)
{
    int pid, st = 0, w;

    pid = clone(child, stack(), SHARE | SIGUSR1, NULL);
    if (pid < 0) {
        printf("clone failed: %s\n", strerror(errno));
        return 1;
    }
    for (int i = 0; i < 5000 && sh.written != 42; i++) {
        nap();
    }
    printf("shared_write_seen=%d\n", sh.written == 42);
    printf("child_pid_differs=%d\n", sh.child_pid != getpid());
    printf("clone_returned_child_pid=%d\n", sh.child_pid == pid);
    printf("child_ppid_is_parent=%d\n", sh.child_ppid == getpid());
    /* Without __WCLONE a child that signals SIGUSR1 is not waited for. */
    w = waitpid(pid, &st, WNOHANG);
    printf("wait_without_wclone_echild=%d\n", w < 0 && errno == ECHILD);
    w = waitpid(pid, &st, WNOHANG | __WCLONE);
    printf("wnohang_while_running=%d\n", w == 0);
    kill(pid, SIGUSR2);
    w = waitpid(pid, &st, __WCLONE);
    printf("waitpid_wclone_returned_pid=%d\n", w == pid);
    printf("exit_status=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    printf("kill_reached_child=%d\n", sh.usr2_tid == pid);
    for (int i = 0; i < 2000 && !sh.exit_sigs; i++) {
        nap();
    }
    printf("exit_signal_reached_parent=%d\n", sh.exit_sigs == 1);
    w = waitpid(-1, &st, WNOHANG | __WCLONE);
    printf("no_more_children=%d\n", w < 0 && errno == ECHILD);
    return 0;
}

/* ---- manager */

static int worker(void *arg)
{
    int i = (int)(long)arg;

    sh.worker_pid[i] = (int)raw(SYS_getpid, 0, 0, 0);
    sh.worker_ppid[i] = (int)raw(SYS_getppid, 0, 0, 0);
    return 10 + i;
}

static int manager(void *arg)
{
    int pids[WORKERS];

    (void)arg;
    sh.manager_ppid = (int)raw(SYS_getppid, 0, 0, 0);
    for (int i = 0; i < WORKERS; i++) {
        pids[i] = clone(worker, stack(), SHARE | SIGUSR1, (void *)(long)i);
        if (pids[i] < 0) {
            return 99;
        }
    }
    while (sh.reaped < WORKERS) {
        int st, w = (int)syscall(SYS_wait4, -1, &st, __WCLONE, NULL);
        int known = 0;
        if (w < 0) {
            sh.status_sum = -errno; /* shows why */
            return 98;
        }
        for (int i = 0; i < WORKERS; i++) {
            known |= w == pids[i];
        }
        sh.reaped_distinct += known;
        sh.status_sum += WEXITSTATUS(st);
        sh.reaped++;
    }
    return 5;
}

static int manager_pattern(void)
{
    int mpid, st = 0, w, distinct = 1;

    mpid = clone(manager, stack(), SHARE, NULL);
    if (mpid < 0) {
        printf("clone failed: %s\n", strerror(errno));
        return 1;
    }
    w = waitpid(mpid, &st, __WCLONE);
    printf("manager_waited=%d\n", w == mpid);
    printf("manager_exit_status=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    printf("manager_ppid_is_main=%d\n", sh.manager_ppid == getpid());
    printf("workers_reaped=%d\n", sh.reaped);
    printf("workers_reaped_by_pid=%d\n", sh.reaped_distinct);
    printf("workers_status_sum=%d\n", sh.status_sum);
    for (int i = 0; i < WORKERS; i++) {
        distinct &= sh.worker_pid[i] != getpid() && sh.worker_pid[i] != mpid &&
                    sh.worker_ppid[i] == mpid;
        for (int j = 0; j < i; j++) {
            distinct &= sh.worker_pid[i] != sh.worker_pid[j];
        }
    }
    printf("workers_own_pids_parent_manager=%d\n", distinct);
    /* Signals that arrive while one is pending merge into it. */
    printf("worker_exit_signal_reached_manager=%d\n",
           sh.manager_exit_sigs >= 1 && sh.manager_exit_sigs <= WORKERS);
    printf("main_got_no_exit_signal=%d\n", sh.exit_sigs == 0);
    return 0;
}

int main(int argc, char **argv)
{
    main_pid = getpid();
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "manager")) {
        return manager_pattern();
    }
    return basic();
}
