/*
 * The watchdog (see watchdog.h and docs/watchdog.md).  On the guest's
 * threads, enter/exit only record into the thread's ring and a small
 * dead-loop matcher: no malloc, no lock, no syscall (clock_gettime is the
 * vDSO).  Reports are written on the guest thread (deadloop, exit, signal:
 * registers and stack are readable there) or on the watchdog thread
 * (idle_deadloop: the guest thread is busy in its own code).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/hooks.h"
#include "core/observer.h"
#include "watchdog/ctxring.h"
#include "core/log.h"
#include "watchdog/probe.h"
#include "watchdog/ratelimit.h"
#include "watchdog/report.h"
#include "core/options.h"
#include "core/runtime.h"
#include "core/syscall_names.h"
#include "helper_thread.h"
#include "watchdog/watchdog.h"

#define PERIOD_CAP 64 /* SFEMU_DEADLOOP_PERIOD_MAX upper bound */
#define HIST 128      /* history slots: a power of two > PERIOD_CAP */
#define SIGS_KEPT 8   /* loops already reported, per thread */

static int enabled;
static int period_max = 8, repeats = 20;
static int64_t wait_ns = 50 * 1000000LL;
static const char *probe_host; /* SFEMU_PROBE_HTTP */
static long probe_timeout_ms = 1000;
static long max_reports = 32;
static atomic_long reports_done;
static int exit_all;      /* SFEMU_WATCHDOG_EXIT=all */
static pid_t self_pid;    /* getpid(), kept across fork by the atfork hook */
static pid_t fork_parent; /* the process this one was forked from, 0: none */
static int nr_exit = -1, nr_exit_group = -1, nr_accept = -1, nr_accept4 = -1;
static int64_t start_ns; /* the service's start (kept across fork) */
static int64_t quick_ns; /* -quick-exit-report, 0: off */
/* The process tree's shared page (tree_live_init). */
static struct tree_page {
    atomic_int live;         /* live processes of the tree */
    atomic_int served;       /* connections it accepted */
    atomic_llong served1_ns; /* when it accepted its first one */
} * tree_live;
static void tree_live_init(void);
static int started_by_guest(void);
static int benign[6]; /* guest errnos that are normal flow */
static atomic_int suspended;
static atomic_llong resume_ns;
static int idle_thread_running;

static pthread_mutex_t last_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    unsigned seq;
    char kind[32];
    char path[PATH_MAX];
    int tid;
} last;
static atomic_uint last_seq;  /* last.seq, readable without the lock */
static atomic_uint taken_seq; /* the last report sfemu_watch_take_report gave */

/* match[p] must reach need[p] = p * (repeats - 1) for a dead loop (no p
 * past period_max does: the matcher works 4 periods at a time). */
static unsigned need[PERIOD_CAP + 4];

/*
 * Per guest thread: the dead-loop matcher.  The history runs downwards and
 * is stored twice (hist[s] == hist[s + HIST]), so the tuples 1, 2, ... p
 * syscalls back are hist[s + 1 .. s + p]: contiguous, compared with the new
 * one 4 at a time.
 */
struct dl_state {
    uint32_t hist[2 * HIST]; /* tuple hashes, never 0 */
    uint8_t flags[HIST];     /* DL_FAIL, DL_WAIT */
    unsigned match[PERIOD_CAP + 4];
    unsigned long n;
    int muted_p;   /* the repeating run of this period was reported */
    int pending_p; /* candidate waiting for a probe */
    int64_t pending_ns;
    uint32_t done_sig[SIGS_KEPT];
    unsigned ndone;
    int said_ok; /* logged a probe's answer */
};
#define DL_FAIL 1
#define DL_WAIT 2

static __thread struct dl_state *dl;
static const struct sfemu_observer watch_observer;

static int root_has(const char *name)
{
    char p[PATH_MAX];
    struct stat st;

    snprintf(p, sizeof(p), "%s/%s", sfemu_opt_str(SFEMU_OPT_rules), name);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Within the tree's rate for this trigger, and the process's total. */
static int may_report(const char *kind)
{
    return sfemu_rate_take(kind) &&
           atomic_fetch_add(&reports_done, 1) < max_reports;
}

static void (*idle_hook)(int tid, const char *path);
/* The last idle report, for the hook (the watchdog thread's only). */
static char idle_path[PATH_MAX];
static int idle_tid;

void sfemu_watch_set_idle_hook(void (*fn)(int tid, const char *path))
{
    idle_hook = fn;
}

static int write_report(struct sfemu_report *r)
{
    char path[PATH_MAX];

    if (!strcmp(r->kind, "idle_deadloop")) {
        idle_path[0] = '\0';
    }
    if (sfemu_report_write(r, path, sizeof(path)) == 0) {
        if (!strcmp(r->kind, "idle_deadloop")) {
            snprintf(idle_path, sizeof(idle_path), "%s", path);
            idle_tid = r->tid;
        }
        pthread_mutex_lock(&last_mu);
        last.seq++;
        snprintf(last.kind, sizeof(last.kind), "%s", r->kind);
        snprintf(last.path, sizeof(last.path), "%s", path);
        last.tid = r->tid;
        atomic_store(&last_seq, last.seq);
        pthread_mutex_unlock(&last_mu);
        return 0;
    }
    return -1;
}

int sfemu_watch_thread_moved(int tid, int64_t mono_ns)
{
    int moved = -1;

    sfemu_ring_lock();
    for (struct sfemu_ring *r = sfemu_ring_list; r; r = r->next) {
        if (r->tid == tid) {
            moved = atomic_load(&r->last_ns) > mono_ns;
            break;
        }
    }
    sfemu_ring_unlock();
    return moved;
}

unsigned sfemu_watch_report_seq(void)
{
    return atomic_load_explicit(&last_seq, memory_order_relaxed);
}

unsigned sfemu_watch_last_report(char *kind, size_t kcap, char *path,
                                 size_t pcap, int *tid)
{
    unsigned seq;

    pthread_mutex_lock(&last_mu);
    seq = last.seq;
    snprintf(kind, kcap, "%s", last.kind);
    snprintf(path, pcap, "%s", last.path);
    *tid = last.tid;
    pthread_mutex_unlock(&last_mu);
    return seq;
}

unsigned sfemu_watch_take_report(char *kind, size_t kcap, char *path,
                                 size_t pcap, int *tid)
{
    unsigned seq = 0;

    if (atomic_load_explicit(&last_seq, memory_order_relaxed) ==
        atomic_load_explicit(&taken_seq, memory_order_relaxed)) {
        return 0;
    }
    pthread_mutex_lock(&last_mu);
    if (last.seq != atomic_load(&taken_seq)) {
        seq = last.seq;
        atomic_store(&taken_seq, seq);
        snprintf(kind, kcap, "%s", last.kind);
        snprintf(path, pcap, "%s", last.path);
        *tid = last.tid;
    }
    pthread_mutex_unlock(&last_mu);
    return seq;
}

/* ---- idle: no syscall for -rules-idle-ms ---- */

static void idle_check(struct sfemu_ring *r, int64_t now)
{
    int64_t last_ns = atomic_load_explicit(&r->last_ns, memory_order_relaxed);
    int64_t from = last_ns, res = atomic_load(&resume_ns);
    int in = atomic_load_explicit(&r->in_sys, memory_order_relaxed);
    long ms;

    if (res > from) {
        from = res;
    }
    ms = (long)((now - from) / 1000000);
    if (ms < sfemu_opt_long(SFEMU_OPT_idle_ms) || r->idle_mark == last_ns) {
        return;
    }
    r->idle_mark = last_ns; /* once per quiet episode */
    if (in) {
        const char *name = sfemu_syscall_name(in - 1);
        /* Waiting in the kernel is not dead: log it, no report. */
        sfemu_log("watchdog: tid %d idle for %ld ms, blocked in %s "
                  "(waiting, not dead): no report",
                  r->tid, ms, name ? name : "?");
        return;
    }
    if (may_report("idle_deadloop")) {
        char detail[160];
        struct sfemu_report rep = {
            .kind = "idle_deadloop", .tid = r->tid, .ring = r, .detail = detail
        };
        snprintf(detail, sizeof(detail),
                 "no syscall for %ld ms while "
                 "running guest code (-rules-idle-ms %ld)",
                 ms, sfemu_opt_long(SFEMU_OPT_idle_ms));
        write_report(&rep);
    }
}

static void *idle_thread(void *arg)
{
    long tick = sfemu_opt_long(SFEMU_OPT_idle_ms) / 4;

    (void)arg;
    tick = tick < 10 ? 10 : tick > 250 ? 250 : tick;
    for (;;) {
        struct timespec ts = { tick / 1000, (tick % 1000) * 1000000 };
        int64_t now;

        nanosleep(&ts, NULL);
        if (atomic_load(&suspended)) {
            continue;
        }
        now = sfemu_mono_ns();
        idle_path[0] = '\0';
        sfemu_ring_lock();
        for (struct sfemu_ring *r = sfemu_ring_list; r; r = r->next) {
            idle_check(r, now);
        }
        sfemu_ring_unlock();
        if (idle_hook && idle_path[0]) {
            idle_hook(idle_tid, idle_path); /* outside the lock */
        }
    }
    return NULL;
}

static void start_idle_thread(void)
{
    idle_thread_running = sfemu_opt_long(SFEMU_OPT_idle_ms) > 0 &&
                          sfemu_thread_start(idle_thread, NULL) == 0;
    if (sfemu_opt_long(SFEMU_OPT_idle_ms) > 0 && !idle_thread_running) {
        sfemu_log("watchdog: cannot start the idle watchdog thread");
    }
}

static void watch_atfork_child(void)
{
    fork_parent = self_pid;
    self_pid = getpid();
    if (tree_live) {
        atomic_fetch_add(&tree_live->live, 1);
    }
    pthread_mutex_init(&last_mu, NULL);
    sfemu_report_new_run();
    sfemu_probe_after_fork();
    start_idle_thread();
}

/* ---- start ---- */

void sfemu_watch_init(void)
{
    static const char *const benign_names[] = { "EAGAIN",    "EINTR",
                                                "ETIMEDOUT", "EINPROGRESS",
                                                "EALREADY",  "EWOULDBLOCK" };
    int forced = sfemu_opt_given(SFEMU_OPT_watchdog);

    if (!sfemu_rt.active || (forced && !sfemu_opt_long(SFEMU_OPT_watchdog))) {
        return;
    }
    enabled = sfemu_opt_long(SFEMU_OPT_idle_ms) > 0 || root_has("entry.lua") ||
              forced;
    if (!enabled) {
        return;
    }
    period_max = (int)sfemu_opt_long(SFEMU_OPT_deadloop_period_max);
    repeats = (int)sfemu_opt_long(SFEMU_OPT_deadloop_repeats);
    for (int p = 1; p < PERIOD_CAP + 4; p++) {
        need[p] = p <= period_max ? (unsigned)(p * (repeats - 1)) : UINT_MAX;
    }
    wait_ns = sfemu_opt_long(SFEMU_OPT_deadloop_wait_ms) * 1000000LL;
    max_reports = sfemu_opt_long(SFEMU_OPT_watchdog_max_reports);
    exit_all = sfemu_opt_long(SFEMU_OPT_watchdog_exit) == 1;
    self_pid = getpid();
    sfemu_rate_init(sfemu_opt_long(SFEMU_OPT_watchdog_rate));
    probe_timeout_ms = sfemu_opt_long(SFEMU_OPT_probe_timeout_ms);
    probe_host = sfemu_opt_str(SFEMU_OPT_probe_http);
    if (probe_host && !*probe_host) {
        probe_host = NULL;
    }
    for (int i = 0; i < 6; i++) {
        benign[i] = sfemu_errno_num(benign_names[i]);
    }
    nr_exit = sfemu_syscall_num("exit");
    nr_exit_group = sfemu_syscall_num("exit_group");
    nr_accept = sfemu_syscall_num("accept");
    nr_accept4 = sfemu_syscall_num("accept4");
    start_ns = sfemu_mono_ns();
    quick_ns = started_by_guest()
                   ? 0
                   : sfemu_opt_long(SFEMU_OPT_quick_exit_report) * 1000000000LL;
    tree_live_init();
    sfemu_ring_init();
    sfemu_report_new_run();
    start_idle_thread();
    pthread_atfork(NULL, NULL, watch_atfork_child);
    sfemu_observer_add(&watch_observer);
}

/* ---- exit with a non-zero status, or too soon ---- */

struct exit_info {
    const char *call;
    int status;
    double after_s; /* since the service's start */
};

static void exit_extra(cJSON *rep, void *opaque)
{
    const struct exit_info *x = opaque;
    cJSON *o = json_put(rep, "exit", cJSON_CreateObject());

    json_put(o, "syscall", cJSON_CreateString(x->call));
    json_put(o, "status", json_int(x->status));
    if (!x->status) {
        json_put(o, "after_s", cJSON_CreateNumber(x->after_s)); /* quick */
    }
}

/*
 * The process tree's live processes, in a MAP_SHARED page fork shares: a
 * daemon's parent that exits after forking leaves the service running; the
 * last one to end is the service's end.  A process killed by SIGKILL is
 * never counted out (no quick-exit report then: never a false one).
 */
static void tree_live_init(void)
{
    void *p = mmap(NULL, sizeof(*tree_live), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED) {
        return; /* no quick-exit reports */
    }
    tree_live = p;
    atomic_store(&tree_live->live, 1);
}

/*
 * Whether this qemu was started by another guest process (a guest exec:
 * its parent runs the same qemu binary): a shell's `uname`, a CGI.  Those
 * end quickly by design; the quick-exit report is for the service itself.
 */
static int started_by_guest(void)
{
    char mine[PATH_MAX], theirs[PATH_MAX], link[64];
    ssize_t a, b;

    snprintf(link, sizeof(link), "/proc/%d/exe", (int)getppid());
    a = readlink("/proc/self/exe", mine, sizeof(mine) - 1);
    b = readlink(link, theirs, sizeof(theirs) - 1);
    return a > 0 && a == b && !memcmp(mine, theirs, (size_t)a);
}

/* This process ends: the number of the tree's processes left (-1: unknown). */
static int tree_leave(void)
{
    return tree_live ? atomic_fetch_sub(&tree_live->live, 1) - 1 : -1;
}

/*
 * Exit status 0 within -quick-exit-report seconds of the start, or of the
 * first connection it accepted when that was its only one, and no other
 * process of the service left: a daemon that died without a word (no
 * config, no pid directory, "already running"), or a server that served
 * one request and ended (a fork that failed, a handler that exits).  The
 * report carries the last syscalls, which usually show why.
 */
static void quick_exit_report(struct sfemu_ring *r, struct exit_info *x)
{
    char detail[224];
    int64_t after = sfemu_mono_ns() - start_ns;
    struct sfemu_report rep = { .kind = "quick_exit",
                                .detail = detail,
                                .tid = r ? r->tid : sfemu_rt.ops->gettid(),
                                .ring = r,
                                .on_guest_thread = 1,
                                .extra = exit_extra,
                                .opaque = x };

    int64_t served1 =
        tree_live && atomic_load(&tree_live->served) == 1
            ? sfemu_mono_ns() - atomic_load(&tree_live->served1_ns)
            : INT64_MAX;

    if (tree_leave() != 0 || !quick_ns ||
        (after >= quick_ns && served1 >= quick_ns) ||
        !may_report("quick_exit")) {
        return;
    }
    x->after_s = (double)after / 1e9;
    if (served1 < quick_ns) {
        snprintf(detail, sizeof(detail),
                 "%s(0) %.3f s after serving its first request (%.3f s "
                 "after the start): the service ended quietly "
                 "(-quick-exit-report %lld)",
                 x->call, (double)served1 / 1e9, x->after_s,
                 (long long)(quick_ns / 1000000000LL));
    } else {
        snprintf(detail, sizeof(detail),
                 "%s(0) %.3f s after the start: the service ended quietly "
                 "(-quick-exit-report %lld)",
                 x->call, x->after_s, (long long)(quick_ns / 1000000000LL));
    }
    write_report(&rep);
}

/*
 * Whether a non-zero exit is the service's failure, not a planned result:
 * the process qemu started, and a forked process whose parent is gone (a
 * daemon), report it; a forked child whose parent lives hands its status to
 * that parent (wait), which decides.  SFEMU_WATCHDOG_EXIT=all reports every
 * one.
 */
static int service_exit(void)
{
    return exit_all || !fork_parent || getppid() != fork_parent;
}

static void exit_report(struct sfemu_ring *r, int num, int64_t a0)
{
    struct exit_info x = { num == nr_exit ? "exit" : "exit_group",
                           (int)(a0 & 0xff),
                           (double)(sfemu_mono_ns() - start_ns) / 1e9 };
    char detail[96];
    struct sfemu_report rep = { .kind = "exit",
                                .detail = detail,
                                .tid = r ? r->tid : sfemu_rt.ops->gettid(),
                                .ring = r,
                                .on_guest_thread = 1,
                                .extra = exit_extra,
                                .opaque = &x };

    if (!x.status) {
        quick_exit_report(r, &x);
        return;
    }
    tree_leave();
    if (!service_exit() || !may_report("exit")) {
        return;
    }
    snprintf(detail, sizeof(detail), "%s(%d)", x.call, x.status);
    write_report(&rep);
}

static void watch_enter(int num, const int64_t a[SFEMU_NARGS])
{
    /* the plain exit of the last thread ends the process (old uClibc) */
    if (num == nr_exit_group ||
        (num == nr_exit && sfemu_guest_threads() <= 1)) {
        exit_report(sfemu_ring_peek(), num, a[0]);
    }
}

/* ---- deadloop: the same (syscall, key arg, result) sequence repeating ---- */

/* (num, fd or path, result): a changing result or fd is progress.  Never 0
 * (an empty history slot). */
static uint32_t tuple_hash(int num, const int64_t a[SFEMU_NARGS], int64_t ret)
{
    const struct sfemu_ring_ent *e = sfemu_ring_call()->ent;
    uint64_t h =
        ((uint64_t)(uint32_t)num << 32 ^ (uint64_t)ret) * 0x9e3779b97f4a7c15ull;

    if (e && e->path_arg >= 0) {
        for (const char *c = e->path; *c; c++) {
            h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
        }
    } else if (e && e->fd_arg >= 0) {
        h = (h ^ (uint64_t)a[(int)e->fd_arg]) * 0xff51afd7ed558ccdull;
    }
    h ^= h >> 29;
    return (uint32_t)(h ^ h >> 32) | 1;
}

static int is_benign(int64_t ret)
{
    for (int i = 0; i < 6; i++) {
        if (benign[i] && ret == -benign[i]) {
            return 1;
        }
    }
    return 0;
}

struct dl_info {
    int period;
    const char *names[PERIOD_CAP];
    int probe;
    int ok;
};

static void dl_extra(cJSON *rep, void *opaque)
{
    const struct dl_info *x = opaque;
    cJSON *o = json_put(rep, "deadloop", cJSON_CreateObject());
    cJSON *seq, *probe;

    json_put(o, "period", json_int(x->period));
    json_put(o, "repeats", json_int(repeats));
    seq = json_put(o, "sequence", cJSON_CreateArray());
    for (int i = 0; i < x->period; i++) {
        json_put(seq, NULL,
                 cJSON_CreateString(x->names[i] ? x->names[i] : "?"));
    }
    if (x->probe) {
        probe = json_put(o, "http_probe", cJSON_CreateObject());
        json_put(probe, "answered", cJSON_CreateBool(x->ok));
    } else {
        json_put(o, "http_probe", cJSON_CreateNull());
    }
}

/* Where the n-th tuple is kept: slot(n - p) == slot(n) + p (mod HIST). */
static unsigned slot(unsigned long n)
{
    return (unsigned)(HIST - 1 - (n & (HIST - 1)));
}

static void dl_reset(struct dl_state *d)
{
    memset(d->match, 0, sizeof(d->match));
    d->pending_p = 0;
    d->muted_p = 0;
}

/* 1: the last p syscalls form a dead loop (a failure, or never waiting). */
static int dl_qualifies(struct dl_state *d, int p, uint32_t *sig)
{
    int fail = 0, wait = 0;

    *sig = 0;
    for (int i = 1; i <= p; i++) {
        unsigned s = slot(d->n - i);
        fail |= d->flags[s] & DL_FAIL;
        wait |= d->flags[s] & DL_WAIT;
        *sig += d->hist[s] * 2654435761u; /* rotation-invariant */
    }
    for (unsigned i = 0; i < d->ndone && i < SIGS_KEPT; i++) {
        if (d->done_sig[i] == *sig) {
            d->muted_p = p; /* not again while this run goes on */
            return 0;       /* reported already */
        }
    }
    return fail || !wait;
}

static void dl_fire(struct sfemu_ring *r, struct dl_state *d, int p,
                    uint32_t sig, int probed, int ok)
{
    struct dl_info x = { .period = p, .probe = probed, .ok = ok };
    char detail[160];
    struct sfemu_report rep = { .kind = "deadloop",
                                .detail = detail,
                                .tid = r->tid,
                                .ring = r,
                                .on_guest_thread = 1,
                                .extra = dl_extra,
                                .opaque = &x };
    int n = 0;

    d->done_sig[d->ndone++ % SIGS_KEPT] = sig;
    if (!may_report("deadloop")) {
        return;
    }
    for (unsigned i = 0; r->keep && i < (unsigned)p && i < r->count; i++) {
        const struct sfemu_ring_ent *e = sfemu_ring_at(r, r->count - p + i);
        x.names[i] = sfemu_syscall_name(e->num);
    }
    n = snprintf(detail, sizeof(detail),
                 "a sequence of %d syscall%s "
                 "repeated %d times:",
                 p, p > 1 ? "s" : "", repeats);
    for (int i = 0; i < p && n < (int)sizeof(detail) - 1; i++) {
        n += snprintf(detail + n, sizeof(detail) - n, " %s",
                      x.names[i] ? x.names[i] : "?");
    }
    write_report(&rep);
}

/*
 * A candidate with SFEMU_PROBE_HTTP is decided by a probe that completed
 * after it.  The probe's own request usually breaks the loop (select wakes
 * up, accept, ...), so the answer is awaited even when the loop has ended.
 */
static void dl_probe_decide(struct sfemu_ring *r, struct dl_state *d,
                            int64_t now)
{
    int ok, p = d->pending_p;
    int64_t t = sfemu_probe_http_last(&ok);
    uint32_t sig;

    if (t <= d->pending_ns) {
        if (now - d->pending_ns > (probe_timeout_ms + 1000) * 1000000LL) {
            d->pending_ns = now; /* lost: ask again */
            sfemu_probe_http_start(probe_host, probe_timeout_ms);
        }
        return;
    }
    if (ok) {
        if (!d->said_ok) {
            d->said_ok = 1;
            sfemu_log("watchdog: tid %d repeats a sequence of %d syscalls "
                      "but the service answers HTTP: not a dead loop",
                      r->tid, p);
        }
    } else if (d->match[p] >= need[p] && dl_qualifies(d, p, &sig)) {
        dl_fire(r, d, p, sig, 1, 0);
    }
    dl_reset(d);
}

static void dl_update(struct sfemu_ring *r, int num,
                      const int64_t a[SFEMU_NARGS], int64_t ret,
                      const struct sfemu_ring_call *call)
{
    int64_t now = call->exit_ns;
    typedef unsigned v4u __attribute__((vector_size(16)));
    struct dl_state *d = dl;
    v4u hv, hit = { 0, 0, 0, 0 };
    uint32_t h, sig;
    unsigned s;
    int p;

    if (!d) {
        /* Once per thread, like its ring. */
        d = dl = calloc(1, sizeof(*d));
        if (!d) {
            return;
        }
    }
    h = tuple_hash(num, a, ret);
    s = slot(d->n);
    d->hist[s] = d->hist[s + HIST] = h;
    d->flags[s] = (sfemu_is_err(ret) && !is_benign(ret) ? DL_FAIL : 0) |
                  (now - call->enter_ns >= wait_ns ? DL_WAIT : 0);
    /* match[p] = hist[s + p] == h ? match[p] + 1 : 0, for 4 p at once (an
     * empty slot is 0, which no hash is: no need to test d->n >= p) */
    hv = (v4u){ h, h, h, h };
    for (p = 1; p <= period_max; p += 4) {
        v4u w, m, nd;
        memcpy(&w, &d->hist[s + p], sizeof(w));
        memcpy(&m, &d->match[p], sizeof(m));
        memcpy(&nd, &need[p], sizeof(nd));
        m = (m + 1) & (v4u)(w == hv);
        memcpy(&d->match[p], &m, sizeof(m));
        hit |= (v4u)(m >= nd);
    }
    d->n++;
    if (d->pending_p) {
        dl_probe_decide(r, d, now);
        return;
    }
    if (!(hit[0] | hit[1] | hit[2] | hit[3])) {
        return;
    }
    for (p = 1; d->match[p] < need[p]; p++) { /* the shortest period */
    }
    if ((d->match[p] - need[p]) % p) {
        return; /* checked once per period */
    }
    if (d->muted_p == p && d->match[p] > need[p]) {
        return; /* the same run as a reported one: the same loop */
    }
    if (!dl_qualifies(d, p, &sig)) {
        return;
    }
    if (probe_host) {
        d->pending_p = p;
        d->pending_ns = now;
        sfemu_probe_http_start(probe_host, probe_timeout_ms);
    } else {
        dl_fire(r, d, p, sig, 0, 0);
        dl_reset(d);
    }
}

/* After the ring's own exit: the completed entry is in sfemu_ring_call(). */
static void watch_exit(int num, const int64_t a[SFEMU_NARGS], int64_t ret,
                       int intercepted)
{
    struct sfemu_ring *r = sfemu_ring_peek();

    (void)intercepted;
    if ((num == nr_accept || num == nr_accept4) && ret >= 0 && tree_live &&
        atomic_fetch_add(&tree_live->served, 1) == 0) {
        atomic_store(&tree_live->served1_ns, sfemu_mono_ns());
    }
    if (r && period_max > 0 &&
        !atomic_load_explicit(&suspended, memory_order_relaxed)) {
        dl_update(r, num, a, ret, sfemu_ring_call());
    }
}

/* ---- fatal signals ---- */

static const char *sig_name(int sig)
{
    static const char *const generic[32] = {
        NULL,      "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP",
        "SIGABRT", "SIGBUS",  "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV",
        "SIGUSR2", "SIGPIPE", "SIGALRM",   "SIGTERM", "SIGSTKFLT", "SIGCHLD",
        "SIGCONT", "SIGSTOP", "SIGTSTP",   "SIGTTIN", "SIGTTOU",   "SIGURG",
        "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",  "SIGIO",
        "SIGPWR",  "SIGSYS"
    };
    static const char *const mips[32] = {
        NULL,      "SIGHUP",  "SIGINT",   "SIGQUIT", "SIGILL",    "SIGTRAP",
        "SIGABRT", "SIGEMT",  "SIGFPE",   "SIGKILL", "SIGBUS",    "SIGSEGV",
        "SIGSYS",  "SIGPIPE", "SIGALRM",  "SIGTERM", "SIGUSR1",   "SIGUSR2",
        "SIGCHLD", "SIGPWR",  "SIGWINCH", "SIGURG",  "SIGIO",     "SIGSTOP",
        "SIGTSTP", "SIGCONT", "SIGTTIN",  "SIGTTOU", "SIGVTALRM", "SIGPROF",
        "SIGXCPU", "SIGXFSZ"
    };
    const char *const *t =
        !strncmp(sfemu_rt.t->arch, "mips", 4) ? mips : generic;

    return sig > 0 && sig < 32 ? t[sig] : NULL;
}

static void sig_extra(cJSON *rep, void *opaque)
{
    int sig = *(int *)opaque;
    const char *n = sig_name(sig);
    cJSON *o = json_put(rep, "signal", cJSON_CreateObject());

    json_put(o, "num", json_int(sig));
    json_put(o, "name", cJSON_CreateString(n ? n : "?"));
}

static void watch_end(const char *why, int guest_sig)
{
    struct sfemu_ring *r;
    char detail[64];
    const char *n = sig_name(guest_sig);
    struct sfemu_report rep = { .kind = "signal",
                                .detail = detail,
                                .on_guest_thread = 1,
                                .extra = sig_extra,
                                .opaque = &guest_sig };

    if (!guest_sig) {
        return; /* exit, exit_group: watch_enter reported it */
    }
    tree_leave();
    if (!strcmp(why, "killed") || !may_report("signal")) {
        return; /* a kill from outside is how services are stopped */
    }
    r = sfemu_ring_self();
    rep.ring = r;
    rep.tid = r ? r->tid : sfemu_rt.ops->gettid();
    snprintf(detail, sizeof(detail), "fatal signal %d (%s)", guest_sig,
             n ? n : "?");
    write_report(&rep);
}

static const struct sfemu_observer watch_observer = {
    .name = "watchdog",
    .wants_all = 1,
    .enter = watch_enter,
    .exit = watch_exit,
    .end = watch_end,
};

/* ---- for rules ---- */

int sfemu_watch_suspend(int on)
{
    int was = atomic_exchange(&suspended, on != 0);

    if (was && !on) {
        atomic_store(&resume_ns, sfemu_mono_ns()); /* idle counts anew */
        if (dl) {
            dl_reset(dl);
        }
    }
    return was;
}

int sfemu_watch_wait_user(const char *prompt, const char **how)
{
    char buf[64];
    ssize_t n;
    int fd, was, yes;

    if (sfemu_opt_long(SFEMU_OPT_ai_auto_continue) > 0 ||
        sfemu_opt_long(SFEMU_OPT_auto_ai) > 0) {
        sfemu_log("watchdog: %s: continuing without asking (auto continue)",
                  prompt);
        *how = "auto";
        return 1;
    }
    fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        sfemu_log("watchdog: %s: no terminal to ask (%s); not confirmed",
                  prompt, strerror(errno));
        *how = "no_tty";
        return 0;
    }
    was = sfemu_watch_suspend(1); /* a person's pace is not a hang */
    dprintf(fd, "[sfemu] %s\n[sfemu] type YES to continue: ", prompt);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    sfemu_watch_suspend(was);
    if (n <= 0) {
        *how = "eof";
        sfemu_log("watchdog: %s: end of input on the terminal; not confirmed",
                  prompt);
        return 0;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    yes = !strcmp(buf, "YES") || !strcmp(buf, "yes") || !strcmp(buf, "y") ||
          !strcmp(buf, "Y");
    *how = yes ? "user" : "declined";
    sfemu_log("watchdog: %s: %s", prompt, yes ? "confirmed" : "declined");
    return yes;
}
