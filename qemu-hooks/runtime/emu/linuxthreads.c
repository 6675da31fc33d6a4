/*
 * LinuxThreads children as QEMU threads (see linuxthreads.h).
 *
 * A child is registered by the thread that clones it, under lt.lock held
 * across the real clone: QEMU lets the new thread run guest code only after
 * do_fork returns, and its first syscall we take (getpid, exit ...) waits
 * for the lock, so it always finds itself.  Exits bump a counter in guest
 * memory that waiters sleep on with the guest's futex syscall, so a signal
 * interrupts a blocked wait4 the way QEMU interrupts any syscall (and QEMU
 * restarts it after the handler).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/options.h"
#include "core/runtime.h"
#include "core/syscall_names.h"
#include "emu/linuxthreads.h"

/* Guest clone and wait flags (the same on every target built here). */
#define G_CSIGNAL 0xff
#define G_CLONE_VM 0x100
#define G_CLONE_FS 0x200
#define G_CLONE_FILES 0x400
#define G_CLONE_SIGHAND 0x800
#define G_CLONE_VFORK 0x4000
#define G_CLONE_PARENT 0x8000
#define G_CLONE_THREAD 0x10000
#define G_CLONE_SYSVSEM 0x40000
#define G_LT_SHARE (G_CLONE_VM | G_CLONE_FS | G_CLONE_FILES | G_CLONE_SIGHAND)
#define G_WNOHANG 1
#define G_WALL 0x40000000
#define G_WCLONE 0x80000000u
#define G_FUTEX_WAIT 0

enum { LT_RUNNING, LT_ZOMBIE };

struct lt_child {
    int pid;        /* its thread id, which is its pid for the guest */
    int ppid;       /* what getppid() answers in it */
    int parent_tid; /* the thread that waits for it; 0: orphan */
    int exit_sig;   /* guest signal for the parent at exit (0: none) */
    int state, status;
};

enum {
    NR_CLONE,
    NR_EXIT,
    NR_GETPID,
    NR_GETPPID,
    NR_KILL,
    NR_TGKILL,
    NR_WAIT4,
    NR_WAITPID,
    NR_FUTEX,
    NR_COUNT
};
static const char *const nr_names[NR_COUNT] = {
    "clone",  "exit",  "getpid",  "getppid", "kill",
    "tgkill", "wait4", "waitpid", "futex",
};

static struct {
    int nr[NR_COUNT];
    int e_again, e_timedout, e_child; /* guest errno values */
    pthread_mutex_t lock;             /* everything below */
    struct lt_child *kids;
    int nkids, cap, live;
    uint64_t seq_g; /* guest page: exit counter (futex word), timeout */
    int logged;
    /* Set at the first LinuxThreads clone: only then do the pid calls
     * need the runtime (clone alone is hooked before). */
    volatile int active;
} lt = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* This thread's pid as a LinuxThreads child; 0: not looked up, -1: none. */
static __thread int lt_self_pid;

static int host_tid(void)
{
    return (int)syscall(SYS_gettid);
}

static struct lt_child *find(int pid, int state)
{
    for (int i = 0; i < lt.nkids; i++) {
        if (lt.kids[i].pid == pid && (state < 0 || lt.kids[i].state == state)) {
            return &lt.kids[i];
        }
    }
    return NULL;
}

static void drop(struct lt_child *k)
{
    if (k->state == LT_RUNNING) {
        lt.live--;
    }
    *k = lt.kids[--lt.nkids];
}

/* The caller's pid as a LinuxThreads child, or 0. */
static int self_pid(void)
{
    if (!lt_self_pid) {
        struct lt_child *k;
        int tid = host_tid();

        pthread_mutex_lock(&lt.lock);
        k = find(tid, LT_RUNNING);
        pthread_mutex_unlock(&lt.lock);
        lt_self_pid = k ? tid : -1;
    }
    return lt_self_pid > 0 ? lt_self_pid : 0;
}

static int64_t guest_call(int nr, int64_t a0, int64_t a1, int64_t a2,
                          int64_t a3)
{
    int64_t a[SFEMU_NARGS] = { a0, a1, a2, a3 };

    return sfemu_rt.ops->real_syscall(nr, a);
}

/* ------------------------------------------------------------ exit */

static _Atomic uint32_t *seq_word(void)
{
    return (_Atomic uint32_t *)sfemu_rt.ops->g2h(lt.seq_g);
}

/* The exit counter and a 50 ms timeout (guest timespec), once. */
static int seq_init(void)
{
    int w = sfemu_rt.t->abi_bits / 8;
    uint8_t ts[16] = { 0 };
    uint32_t ns = 50 * 1000 * 1000;

    if (lt.seq_g) {
        return 0;
    }
    lt.seq_g = sfemu_rt.ops->guest_alloc(4096);
    if (!lt.seq_g) {
        return -ENOMEM;
    }
    for (int i = 0; i < 4; i++) { /* tv_nsec, the second abi_long */
        int b = sfemu_rt.t->big_endian ? w + w - 1 - i : w + i;
        ts[b] = (uint8_t)(ns >> (8 * i));
    }
    return sfemu_rt.ops->write_mem(lt.seq_g + 8, ts, 2 * w);
}

static void seq_bump(void)
{
    atomic_fetch_add(seq_word(), 1);
    syscall(SYS_futex, seq_word(), 1 /* FUTEX_WAKE */, INT_MAX, NULL, NULL, 0);
}

/* Sleeps until the counter moves from seen (or timeout), as a guest futex
 * wait: 0, or the negative result the guest syscall must return. */
static int64_t seq_wait(uint32_t seen, int with_timeout)
{
    uint32_t v = seen;
    int64_t r;

    if (sfemu_rt.t->big_endian) { /* QEMU byte-swaps the guest's value */
        v = __builtin_bswap32(v);
    }
    r = guest_call(lt.nr[NR_FUTEX], (int64_t)lt.seq_g, G_FUTEX_WAIT, (int32_t)v,
                   with_timeout ? (int64_t)lt.seq_g + 8 : 0);
    return r == -lt.e_again || r == -lt.e_timedout ? 0 : r;
}

/* Any thread's exit: a child becomes a zombie and signals its parent; the
 * exiting thread's own children become orphans. */
static void on_thread_exit(int code)
{
    int tid = host_tid(), parent = 0, sig = 0, was_child = 0;
    struct lt_child *k;

    pthread_mutex_lock(&lt.lock);
    k = find(tid, LT_RUNNING);
    if (k) {
        was_child = 1;
        k->state = LT_ZOMBIE;
        k->status = (code & 0xff) << 8;
        lt.live--;
        parent = k->parent_tid;
        sig = k->exit_sig;
        if (!parent) {
            drop(k); /* nobody waits for an orphan */
        }
    }
    for (int i = 0; i < lt.nkids; i++) {
        if (lt.kids[i].parent_tid == tid) {
            lt.kids[i].parent_tid = 0;
            lt.kids[i].ppid = 1; /* re-parented to init, as the kernel does */
            if (lt.kids[i].state == LT_ZOMBIE) {
                drop(&lt.kids[i--]);
            }
        }
    }
    pthread_mutex_unlock(&lt.lock);
    if (was_child) {
        /* The signal first, as the kernel sends it before a wait sees the
         * zombie. */
        if (parent && sig) {
            guest_call(lt.nr[NR_TGKILL], getpid(), parent, sig, 0);
        }
        seq_bump();
    }
}

/* ------------------------------------------------------------ clone */

/* Room for one more child: 0 or -ENOMEM. */
static int grow(void)
{
    struct lt_child *k;
    int cap = lt.cap * 2 + 16;

    if (lt.nkids < lt.cap) {
        return 0;
    }
    k = realloc(lt.kids, cap * sizeof(*k));
    if (!k) {
        return -ENOMEM;
    }
    lt.kids = k;
    lt.cap = cap;
    return 0;
}

static int64_t lt_clone(int num, int64_t a[SFEMU_NARGS],
                        const struct sfemu_realcall_next *next)
{
    uint32_t flags = (uint32_t)a[0];
    int me = host_tid(), my_pid, ppid, parent;
    struct lt_child *k;
    int64_t b[SFEMU_NARGS], ret;

    if ((flags & G_LT_SHARE) != G_LT_SHARE ||
        (flags & (G_CLONE_THREAD | G_CLONE_VFORK))) {
        return sfemu_realcall_next(next, num, a);
    }
    if (!lt.active) {
        /* Before the child runs: its first getpid must come here. */
        lt.active = 1;
        sfemu_realcall_retake();
    }
    my_pid = self_pid();
    memcpy(b, a, sizeof(b));
    b[0] = (int64_t)(flags | G_CLONE_THREAD | G_CLONE_SYSVSEM);
    pthread_mutex_lock(&lt.lock);
    if (seq_init() != 0 || grow() != 0) {
        pthread_mutex_unlock(&lt.lock);
        sfemu_log("LinuxThreads clone: out of memory");
        return sfemu_realcall_next(next, num, a);
    }
    /* With CLONE_PARENT the child is the caller's sibling. */
    k = my_pid ? find(my_pid, LT_RUNNING) : NULL;
    if (flags & G_CLONE_PARENT) {
        parent = k ? k->parent_tid : 0;
        ppid = k ? k->ppid : getppid();
    } else {
        parent = me;
        ppid = my_pid ? my_pid : getpid();
    }
    ret = sfemu_realcall_next(next, num, b);
    if (ret > 0) {
        k = find((int)ret, -1);
        if (k) {
            drop(k); /* a reused thread id: the old zombie is gone */
        }
        lt.kids[lt.nkids++] = (struct lt_child){
            (int)ret, ppid, parent, (int)(flags & G_CSIGNAL), LT_RUNNING, 0,
        };
        lt.live++;
    }
    pthread_mutex_unlock(&lt.lock);
    if (ret > 0 && !lt.logged) {
        lt.logged = 1;
        sfemu_log("LinuxThreads clone (flags 0x%x): child %d runs as a "
                  "thread with its own pid (-linuxthreads)",
                  flags, (int)ret);
    }
    return ret;
}

/* ------------------------------------------------------------ wait */

/* Whether child k answers a wait for pid with these options by tid. */
static int eligible(const struct lt_child *k, int tid, int pid, uint32_t opts)
{
    int is_clone = k->exit_sig != sfemu_rt.t->sig_chld;

    if (k->parent_tid != tid || (pid > 0 && k->pid != pid)) {
        return 0;
    }
    return (opts & G_WALL) || is_clone == !!(opts & G_WCLONE);
}

static void put_guest_int(uint64_t g, int v)
{
    uint8_t b[4];

    for (int i = 0; i < 4; i++) {
        b[sfemu_rt.t->big_endian ? 3 - i : i] = (uint8_t)((uint32_t)v >> 8 * i);
    }
    sfemu_rt.ops->write_mem(g, b, 4);
}

static int64_t lt_wait(int num, int64_t a[SFEMU_NARGS],
                       const struct sfemu_realcall_next *next)
{
    int pid = (int)a[0], tid = host_tid();
    uint32_t opts = (uint32_t)a[2];
    uint64_t status_g = sfemu_guest_addr(a[1]);
    uint64_t rusage_g = num == lt.nr[NR_WAIT4] ? sfemu_guest_addr(a[3]) : 0;

    for (;;) {
        int n = 0, found = 0, got_pid = 0, st = 0, mixed;
        uint32_t seen;
        int64_t r;

        pthread_mutex_lock(&lt.lock);
        seen = lt.seq_g ? atomic_load(seq_word()) : 0;
        for (int i = 0; i < lt.nkids && !found; i++) {
            struct lt_child *k = &lt.kids[i];
            if (!eligible(k, tid, pid, opts)) {
                continue;
            }
            n++;
            if (k->state == LT_ZOMBIE) {
                found = 1;
                got_pid = k->pid;
                st = k->status;
                drop(k);
            }
        }
        pthread_mutex_unlock(&lt.lock);
        if (found) {
            static const uint8_t zeros[144];
            if (status_g) {
                put_guest_int(status_g, st);
            }
            if (rusage_g) {
                sfemu_rt.ops->write_mem(rusage_g, zeros,
                                        sfemu_rt.t->abi_bits == 32 ? 72 : 144);
            }
            return got_pid;
        }
        if (!n) {
            return sfemu_realcall_next(next, num, a); /* none of ours */
        }
        /* Ours are running; real children may answer the same wait, and
         * their exits do not move our counter: poll them. */
        mixed = pid <= 0 && (!(opts & G_WCLONE) || (opts & G_WALL));
        if (mixed) {
            int64_t b[SFEMU_NARGS];
            memcpy(b, a, sizeof(b));
            b[2] = (int64_t)(opts | G_WNOHANG);
            r = sfemu_realcall_next(next, num, b);
            if (r != 0 && r != -lt.e_child) {
                return r;
            }
        }
        if (opts & G_WNOHANG) {
            return 0;
        }
        /* Without a timeout the host restarts the futex under SA_RESTART,
         * and QEMU turns a signal into a restart of this wait4. */
        r = seq_wait(seen, mixed);
        if (r) {
            return r; /* a signal: QEMU runs it, then restarts the wait */
        }
    }
}

/* ------------------------------------------------------------ pids */

static int64_t lt_call(int num, int64_t a[SFEMU_NARGS],
                       const struct sfemu_realcall_next *next)
{
    int me;

    if (num == lt.nr[NR_CLONE]) {
        return lt_clone(num, a, next);
    }
    if (num == lt.nr[NR_WAIT4] || num == lt.nr[NR_WAITPID]) {
        return lt_wait(num, a, next);
    }
    if (num == lt.nr[NR_EXIT]) {
        on_thread_exit((int)a[0]);
        return sfemu_realcall_next(next, num, a);
    }
    me = self_pid();
    if (num == lt.nr[NR_GETPID]) {
        return me ? me : sfemu_realcall_next(next, num, a);
    }
    if (num == lt.nr[NR_GETPPID]) {
        struct lt_child *k;
        int ppid = 1;
        if (!me) {
            return sfemu_realcall_next(next, num, a);
        }
        pthread_mutex_lock(&lt.lock);
        k = find(me, LT_RUNNING);
        if (k) {
            ppid = k->ppid;
        }
        pthread_mutex_unlock(&lt.lock);
        return ppid;
    }
    if (num == lt.nr[NR_KILL] && (int)a[0] > 0) {
        int pid = (int)a[0], state = -1, live;
        struct lt_child *k;
        int64_t r;

        pthread_mutex_lock(&lt.lock);
        k = find(pid, -1);
        if (k) {
            state = k->state;
        }
        live = lt.live;
        pthread_mutex_unlock(&lt.lock);
        if (state == LT_ZOMBIE) {
            return 0; /* a zombie takes signals and ignores them */
        }
        if (state == LT_RUNNING) {
            return guest_call(lt.nr[NR_TGKILL], getpid(), pid, a[1], 0);
        }
        /* The main thread is a process of its own for LinuxThreads: its
         * restart signal must not land on another thread. */
        if (pid == getpid() && live) {
            r = guest_call(lt.nr[NR_TGKILL], pid, pid, a[1], 0);
            if (r == 0) {
                return r;
            }
        }
    }
    if (num == lt.nr[NR_TGKILL] && (int)a[0] > 0 && (int)a[0] != getpid()) {
        struct lt_child *k;

        pthread_mutex_lock(&lt.lock);
        k = find((int)a[0], LT_RUNNING);
        pthread_mutex_unlock(&lt.lock);
        if (k) {
            a[0] = getpid(); /* the child's "process" is ours */
        }
    }
    return sfemu_realcall_next(next, num, a);
}

static int lt_takes(int num)
{
    if (num >= 0 && num == lt.nr[NR_CLONE]) {
        return 1;
    }
    for (int i = 0; lt.active && i < NR_COUNT; i++) {
        if (i != NR_FUTEX && num >= 0 && num == lt.nr[i]) {
            return 1;
        }
    }
    return 0;
}

static const struct sfemu_rewriter lt_handler = {
    .name = "linuxthreads",
    .takes = lt_takes,
    .call = lt_call,
};

/* A forked child has one thread, the forking one, and no clone children. */
static void lt_atfork_child(void)
{
    pthread_mutex_t init = PTHREAD_MUTEX_INITIALIZER;

    lt.lock = init;
    lt.nkids = lt.live = 0;
    lt_self_pid = 0;
}

int sfemu_linuxthreads_wanted(void)
{
    return sfemu_opt_given(SFEMU_OPT_linuxthreads)
               ? (int)sfemu_opt_long(SFEMU_OPT_linuxthreads)
               : sfemu_opt_str(SFEMU_OPT_rules) != NULL;
}

const struct sfemu_rewriter *sfemu_linuxthreads_init(void)
{
    for (int i = 0; i < NR_COUNT; i++) {
        lt.nr[i] = sfemu_syscall_num(nr_names[i]);
    }
    if (lt.nr[NR_CLONE] < 0 || lt.nr[NR_EXIT] < 0 || lt.nr[NR_TGKILL] < 0 ||
        lt.nr[NR_FUTEX] < 0) {
        sfemu_log("-linuxthreads: no syscall numbers for '%s'; off",
                  sfemu_rt.t->arch);
        return NULL;
    }
    lt.e_again = sfemu_rt.ops->errno_to_guest(EAGAIN);
    lt.e_timedout = sfemu_rt.ops->errno_to_guest(ETIMEDOUT);
    lt.e_child = sfemu_rt.ops->errno_to_guest(ECHILD);
    pthread_atfork(NULL, NULL, lt_atfork_child);
    return &lt_handler;
}
