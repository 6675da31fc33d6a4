/*
 * The context ring (see ctxring.h).  Decoding is decided once per syscall
 * number at init (which argument is a path, which an fd), so recording is a
 * table lookup, a bounded guest string copy for path syscalls, and stores.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/observer.h"
#include "watchdog/ctxring.h"
#include "watchdog/report.h"
#include "core/options.h"
#include "core/runtime.h"
#include "core/syscall_names.h"

struct sfemu_ring *sfemu_ring_list;
static pthread_mutex_t ring_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t ring_key;
static __thread struct sfemu_ring *tls_ring;
static int8_t *path_arg_of, *fd_arg_of; /* per syscall index, -1 = none */
static int tab_base, tab_count;
static int64_t real_minus_mono;
static __thread struct sfemu_ring_call cur; /* the syscall in flight */
static const struct sfemu_observer ring_observer;

/* Syscalls whose argument N is a path (decoded into the ring). */
static const struct {
    const char *name;
    int8_t arg;
} path_calls[] = {
    { "open", 0 },       { "openat", 1 },   { "openat2", 1 },
    { "creat", 0 },      { "access", 0 },   { "faccessat", 1 },
    { "faccessat2", 1 }, { "stat", 0 },     { "lstat", 0 },
    { "stat64", 0 },     { "lstat64", 0 },  { "newfstatat", 1 },
    { "fstatat64", 1 },  { "statx", 1 },    { "statfs", 0 },
    { "statfs64", 0 },   { "readlink", 0 }, { "readlinkat", 1 },
    { "unlink", 0 },     { "unlinkat", 1 }, { "mkdir", 0 },
    { "mkdirat", 1 },    { "rmdir", 0 },    { "chdir", 0 },
    { "chroot", 0 },     { "execve", 0 },   { "execveat", 1 },
    { "rename", 0 },     { "renameat", 1 }, { "renameat2", 1 },
    { "link", 0 },       { "linkat", 1 },   { "symlink", 1 },
    { "symlinkat", 2 },  { "chmod", 0 },    { "fchmodat", 1 },
    { "chown", 0 },      { "lchown", 0 },   { "chown32", 0 },
    { "lchown32", 0 },   { "fchownat", 1 }, { "truncate", 0 },
    { "truncate64", 0 }, { "mknod", 0 },    { "mknodat", 1 },
    { "utime", 0 },      { "utimes", 0 },   { "utimensat", 1 },
    { "mount", 1 },      { "umount2", 0 },  { "swapon", 0 },
};

/* Syscalls whose first argument is an fd (or a dirfd). */
static const char *const fd_calls[] = {
    "read",        "write",       "close",      "fstat",      "fstat64",
    "ioctl",       "fcntl",       "fcntl64",    "lseek",      "_llseek",
    "readv",       "writev",      "pread64",    "pwrite64",   "preadv",
    "pwritev",     "sendto",      "recvfrom",   "sendmsg",    "recvmsg",
    "send",        "recv",        "accept",     "accept4",    "bind",
    "connect",     "listen",      "getsockopt", "setsockopt", "shutdown",
    "getsockname", "getpeername", "dup",        "dup2",       "dup3",
    "fsync",       "fdatasync",   "getdents",   "getdents64", "fchdir",
    "fchmod",      "fchown",      "fchown32",   "ftruncate",  "ftruncate64",
    "flock",       "fstatfs",     "fstatfs64",  "sendfile",   "sendfile64",
    "epoll_wait",  "epoll_pwait", "epoll_ctl",  "openat",     "openat2",
    "faccessat",   "faccessat2",  "newfstatat", "fstatat64",  "statx",
    "readlinkat",  "unlinkat",    "mkdirat",    "mknodat",    "fchownat",
    "fchmodat",    "utimensat",   "renameat",   "renameat2",  "linkat",
    "execveat",
};

int64_t sfemu_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sfemu_mono_to_real(int64_t mono_ns, int64_t *sec, int64_t *nsec)
{
    int64_t r = mono_ns + real_minus_mono;

    *sec = r / 1000000000;
    *nsec = r % 1000000000;
}

static void ring_destroy(void *p)
{
    struct sfemu_ring *r = p;

    sfemu_ring_lock();
    for (struct sfemu_ring **pp = &sfemu_ring_list; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    sfemu_ring_unlock();
    if (tls_ring == r) {
        tls_ring = NULL;
    }
    free(r->ent);
    free(r);
}

/* Only the forking thread lives on in the child. */
static void ring_atfork_child(void)
{
    pthread_mutex_init(&ring_mu, NULL);
    sfemu_ring_list = tls_ring;
    if (tls_ring) {
        tls_ring->next = NULL;
        tls_ring->tid = sfemu_rt.ops->gettid();
    }
}

static void set_arg(int8_t *tab, const char *name, int8_t arg)
{
    int num = sfemu_syscall_num(name);

    if (num >= tab_base && num < tab_base + tab_count) {
        tab[num - tab_base] = arg;
    }
}

void sfemu_ring_init(void)
{
    struct timespec rt;

    tab_base = sfemu_syscall_base();
    tab_count = sfemu_syscall_count();
    path_arg_of = malloc(tab_count ? tab_count : 1);
    fd_arg_of = malloc(tab_count ? tab_count : 1);
    if (path_arg_of && fd_arg_of) {
        memset(path_arg_of, -1, tab_count);
        memset(fd_arg_of, -1, tab_count);
        for (size_t i = 0; i < sizeof(path_calls) / sizeof(*path_calls); i++) {
            set_arg(path_arg_of, path_calls[i].name, path_calls[i].arg);
        }
        for (size_t i = 0; i < sizeof(fd_calls) / sizeof(*fd_calls); i++) {
            set_arg(fd_arg_of, fd_calls[i], 0);
        }
    } else {
        tab_count = 0;
    }
    clock_gettime(CLOCK_REALTIME, &rt);
    real_minus_mono =
        (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec - sfemu_mono_ns();
    pthread_key_create(&ring_key, ring_destroy);
    pthread_atfork(sfemu_ring_lock, sfemu_ring_unlock, ring_atfork_child);
    sfemu_observer_add(&ring_observer);
}

struct sfemu_ring *sfemu_ring_peek(void)
{
    return tls_ring;
}

struct sfemu_ring *sfemu_ring_self(void)
{
    struct sfemu_ring *r = tls_ring;
    long keep;

    if (__builtin_expect(r != NULL, 1)) {
        return r;
    }
    keep = sfemu_opt_long(SFEMU_OPT_ctx_keep);
    r = calloc(1, sizeof(*r));
    if (!r) {
        return NULL;
    }
    r->keep = keep > 0 ? (unsigned)keep : 0;
    if (r->keep && !(r->ent = calloc(r->keep, sizeof(*r->ent)))) {
        r->keep = 0;
    }
    r->tid = sfemu_rt.ops->gettid();
    atomic_store_explicit(&r->last_ns, sfemu_mono_ns(), memory_order_relaxed);
    tls_ring = r;
    pthread_setspecific(ring_key, r);
    sfemu_ring_lock();
    r->next = sfemu_ring_list;
    sfemu_ring_list = r;
    sfemu_ring_unlock();
    return r;
}

static struct sfemu_ring_ent *ring_enter(struct sfemu_ring *r, int num,
                                         const int64_t a[SFEMU_NARGS],
                                         int64_t now_ns)
{
    struct sfemu_ring_ent *e;
    int idx = num - tab_base;

    if (!r->keep) {
        return NULL;
    }
    e = &r->ent[r->head];
    if (++r->head == r->keep) { /* no division on this path */
        r->head = 0;
    }
    if (r->count < r->keep) {
        r->count++;
    }
    memcpy(e->args, a, sizeof(e->args));
    e->num = num;
    e->t_ns = now_ns;
    e->dur_ns = 0;
    e->ret = 0;
    e->done = e->intercepted = 0;
    e->path_arg = e->fd_arg = -1;
    e->path[0] = '\0';
    e->pc = sfemu_rt.ops->get_pc();
    if (idx >= 0 && idx < tab_count) {
        e->fd_arg = fd_arg_of[idx];
        e->path_arg = path_arg_of[idx];
        if (e->path_arg >= 0) {
            long n = sfemu_rt.ops->read_str(sfemu_guest_addr(a[e->path_arg]),
                                            e->path, sizeof(e->path) - 1);
            e->path[n > 0 ? n : 0] = '\0';
            if (n < 0) {
                e->path_arg = -1; /* a bad pointer: keep the raw value */
            }
        }
    }
    return e;
}

static void ring_exit(struct sfemu_ring_ent *e, int64_t ret, int intercepted,
                      int64_t now_ns)
{
    if (!e) {
        return;
    }
    e->ret = ret;
    e->intercepted = intercepted != 0;
    e->done = 1;
    e->dur_ns = now_ns - e->t_ns;
}

/* The ring as a syscall observer: it records, the watchdog reads it. */
static void ring_obs_enter(int num, const int64_t a[SFEMU_NARGS])
{
    struct sfemu_ring *r = sfemu_ring_self();

    if (!r) {
        return;
    }
    cur.enter_ns = sfemu_mono_ns();
    cur.exit_ns = 0;
    atomic_store_explicit(&r->in_sys, num + 1, memory_order_relaxed);
    atomic_store_explicit(&r->last_ns, cur.enter_ns, memory_order_relaxed);
    cur.ent = ring_enter(r, num, a, cur.enter_ns);
}

static void ring_obs_exit(int num, const int64_t a[SFEMU_NARGS], int64_t ret,
                          int intercepted)
{
    struct sfemu_ring *r = tls_ring;

    (void)num;
    (void)a;
    if (!r) {
        return;
    }
    cur.exit_ns = sfemu_mono_ns();
    ring_exit(cur.ent, ret, intercepted, cur.exit_ns);
    atomic_store_explicit(&r->in_sys, 0, memory_order_relaxed);
    atomic_store_explicit(&r->last_ns, cur.exit_ns, memory_order_relaxed);
}

static const struct sfemu_observer ring_observer = {
    .name = "context ring",
    .wants_all = 1,
    .enter = ring_obs_enter,
    .exit = ring_obs_exit,
};

const struct sfemu_ring_call *sfemu_ring_call(void)
{
    return &cur;
}

const struct sfemu_ring_ent *sfemu_ring_at(const struct sfemu_ring *r,
                                           unsigned i)
{
    return &r->ent[(r->head + r->keep - r->count + i) % r->keep];
}

void sfemu_ring_lock(void)
{
    pthread_mutex_lock(&ring_mu);
}

void sfemu_ring_unlock(void)
{
    pthread_mutex_unlock(&ring_mu);
}
