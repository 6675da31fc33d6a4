/*
 * The daemon's end of the ring (ring.h, docs/ring.md): a control thread
 * that hands the memfd to processes allowed to use the mount and notices
 * when they go, and server threads that take posted requests, check every
 * field, run them through the seam and reply.  Nothing a client writes is
 * trusted: fields are read once into locals, the path and the bytes are
 * copied out of the shared memory before the engine sees them.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "ring_shm.h"

#define RING_MAX_CONNS 1024
#define RING_MAX_LOGS 200 /* rejection lines, then silence */
/* How long one idle server thread spins before it sleeps: longer than a
 * guest in a loop takes between two calls (qemu's own work, about 10 us),
 * so a busy guest is answered without a wake-up (bench/ring: the guest's
 * ioctl went from 26-34 us to 13-19 us; a wake-up costs 25-30 us here). */
#define RING_SERVER_SPIN_NS 50000L

struct ring_conn {
    int fd;
    pid_t pid;   /* as the daemon sees it (SO_PEERCRED) */
    pid_t nspid; /* as the client sees itself: in its own pid namespace
                  * (sfemu run's service) the pid it writes in its slots */
};

struct fakefs_ring_server {
    void *map;
    struct fakefs_ring_hdr *hdr;
    int memfd, lfd, stop_fd;
    char *sock_path;
    int allow_other;
    fakefs_ring_fn fn;
    void *ud;
    void (*log)(const char *msg);
    pthread_t ctl;
    pthread_t *thr;
    unsigned nthr;
    int stop;
    int spinning;         /* a server thread spins for the next request */
    pthread_mutex_t lock; /* conns */
    struct ring_conn conns[RING_MAX_CONNS];
    unsigned nconns;
    uint64_t served, rejected;
    unsigned logs;
};

static void slog(struct fakefs_ring_server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void slog(struct fakefs_ring_server *s, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s->log) {
        s->log(msg);
    } else {
        fprintf(stderr, "%s\n", msg);
    }
}

/* ------------------------------------------------------------ clients */

/* The daemon's pid of the connected client whose slots say owner (its pid
 * as it sees itself), or 0. */
static pid_t conn_pid(struct fakefs_ring_server *s, pid_t owner)
{
    pid_t pid = 0;
    pthread_mutex_lock(&s->lock);
    for (unsigned i = 0; i < s->nconns && !pid; i++) {
        if (s->conns[i].pid == owner || s->conns[i].nspid == owner) {
            pid = s->conns[i].pid;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return pid;
}

/* pid's own idea of its pid: the last NSpid of /proc/PID/status (the
 * innermost pid namespace), pid itself when it shares the daemon's. */
static pid_t inner_pid(pid_t pid)
{
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
    FILE *f = fopen(p, "re");
    pid_t in = pid;
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "NSpid:", 6)) {
            char *last = strrchr(line, '\t');
            in = last ? (pid_t)atoi(last + 1) : pid;
            in = in > 0 ? in : pid;
            break;
        }
    }
    if (f) {
        fclose(f);
    }
    return in;
}

static void slot_freed(struct fakefs_ring_server *s)
{
    __atomic_add_fetch(&s->hdr->freed, 1, __ATOMIC_RELEASE);
    if (ring_load(&s->hdr->free_waits)) {
        ring_futex_wake(&s->hdr->freed, 0x7fffffff);
    }
}

/* pid has gone: its slots are nobody's (one in service is freed when its
 * run ends). */
static void reclaim(struct fakefs_ring_server *s, pid_t pid)
{
    unsigned n = 0;
    for (unsigned i = 0; i < FAKEFS_RING_SLOTS; i++) {
        struct fakefs_ring_slot *sl = ring_slot(s->map, i);
        /* the owner read between two equal readings of the state word
         * belongs to that epoch (owners are cleared before a slot is
         * freed), and the swap fails if the epoch moved on */
        uint32_t w = ring_load(&sl->state);
        pid_t o = __atomic_load_n(&sl->owner, __ATOMIC_ACQUIRE);
        if (o != pid || ring_load(&sl->state) != w) {
            continue;
        }
        uint32_t st = RING_ST(w);
        if ((st == RING_CLAIMED || st == RING_REQUEST || st == RING_REPLY) &&
            ring_cas(&sl->state, w, ring_next(w, RING_CLAIMED))) {
            ring_free(sl, RING_CLAIMED);
            n++;
            slot_freed(s);
        } else if (st == RING_SERVING) {
            ring_cas(&sl->state, w, ring_next(w, RING_ABANDONED));
        }
    }
    if (n) {
        slog(s, "ring: pid %d went away holding %u slot(s): freed", (int)pid,
             n);
    }
}

static void conn_drop(struct fakefs_ring_server *s, unsigned i)
{
    pid_t pid = s->conns[i].pid, nspid = s->conns[i].nspid;
    int still = 0, still_ns = 0;
    close(s->conns[i].fd);
    pthread_mutex_lock(&s->lock);
    s->conns[i] = s->conns[--s->nconns];
    for (unsigned k = 0; k < s->nconns; k++) {
        still |= s->conns[k].pid == pid;
        still_ns |= s->conns[k].pid == nspid || s->conns[k].nspid == nspid;
    }
    pthread_mutex_unlock(&s->lock);
    if (!still) {
        reclaim(s, pid);
    }
    if (nspid != pid && !still_ns) {
        reclaim(s, nspid);
    }
}

static int send_hello(struct fakefs_ring_server *s, int fd)
{
    struct ring_hello h = { FAKEFS_RING_MAGIC, FAKEFS_RING_VERSION,
                            ring_map_size() };
    struct ring_fdmsg f;
    ring_fdmsg_init(&f, &h);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&f.m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &s->memfd, sizeof(int));
    return sendmsg(fd, &f.m, MSG_NOSIGNAL) == (ssize_t)sizeof h ? 0 : -errno;
}

static void accept_one(struct fakefs_ring_server *s)
{
    int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        return;
    }
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
        slog(s, "ring: no peer credentials on a control connection: closed");
        close(fd);
        return;
    }
    if (!s->allow_other && cr.uid != getuid() && cr.uid != 0) {
        slog(s,
             "ring: pid %d (uid %u) may not use this mount (not started "
             "with --allow-other): refused",
             (int)cr.pid, (unsigned)cr.uid);
        close(fd);
        return;
    }
    /* registered before the hello: its first request may follow at once */
    pthread_mutex_lock(&s->lock);
    int full = s->nconns == RING_MAX_CONNS;
    if (!full) {
        s->conns[s->nconns].fd = fd;
        s->conns[s->nconns].pid = cr.pid;
        s->conns[s->nconns].nspid = inner_pid(cr.pid);
        s->nconns++;
    }
    pthread_mutex_unlock(&s->lock);
    if (full) {
        slog(s, "ring: cannot take pid %d (too many connections): refused",
             (int)cr.pid);
        close(fd);
    } else if (send_hello(s, fd) < 0) {
        slog(s, "ring: cannot send the ring to pid %d: refused", (int)cr.pid);
        conn_drop(s, s->nconns - 1);
    }
}

/* A client never writes on its control connection: bytes there are
 * logged and dropped; end of file means the process (or its last copy of
 * the connection) is gone. */
static void conn_input(struct fakefs_ring_server *s, unsigned i)
{
    char junk[256];
    ssize_t n = recv(s->conns[i].fd, junk, sizeof junk, MSG_DONTWAIT);
    if (n > 0) {
        if (__atomic_fetch_add(&s->logs, 1, __ATOMIC_RELAXED) < RING_MAX_LOGS) {
            slog(s,
                 "ring: pid %d wrote %zd unexpected byte(s) on its control "
                 "connection: ignored",
                 (int)s->conns[i].pid, n);
        }
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    conn_drop(s, i);
}

static void *ctl_main(void *arg)
{
    struct fakefs_ring_server *s = arg;
    struct pollfd p[RING_MAX_CONNS + 2];
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        unsigned n = s->nconns; /* only this thread changes it */
        p[0] = (struct pollfd){ s->stop_fd, POLLIN, 0 };
        p[1] = (struct pollfd){ s->lfd, POLLIN, 0 };
        for (unsigned i = 0; i < n; i++) {
            p[2 + i] = (struct pollfd){ s->conns[i].fd, POLLIN, 0 };
        }
        if (poll(p, n + 2, -1) < 0) {
            continue;
        }
        if (p[0].revents) {
            break;
        }
        /* from the end: conn_drop moves the last entry into the hole */
        for (unsigned i = n; i-- > 0;) {
            if (p[2 + i].revents) {
                conn_input(s, i);
            }
        }
        if (p[1].revents & POLLIN) {
            accept_one(s);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ serving */

struct req {
    pid_t owner;
    uint32_t op, pathlen, inlen, outcap;
};

/* What is wrong with a request (into why), or NULL. */
static const char *check(struct fakefs_ring_server *s, const struct req *q,
                         char *why, size_t cap)
{
    if (!conn_pid(s, q->owner)) {
        snprintf(why, cap,
                 "pid %d has no control connection (never connected, or "
                 "exited)",
                 (int)q->owner);
    } else if (q->op >= FAKEFS_OP_COUNT) {
        snprintf(why, cap, "unknown op %u", q->op);
    } else if (q->pathlen < 2 || q->pathlen > FAKEFS_RING_PATH_MAX) {
        snprintf(why, cap, "path length %u out of range 2..%u", q->pathlen,
                 FAKEFS_RING_PATH_MAX);
    } else if (q->inlen > FAKEFS_RING_DATA - q->pathlen) {
        snprintf(why, cap, "in length %u + path %u exceed the slot's %u bytes",
                 q->inlen, q->pathlen, FAKEFS_RING_DATA);
    } else if (q->outcap > FAKEFS_RING_DATA) {
        snprintf(why, cap, "out capacity %u exceeds the slot's %u bytes",
                 q->outcap, FAKEFS_RING_DATA);
    } else {
        return NULL;
    }
    return why;
}

static long run(struct fakefs_ring_server *s, unsigned idx,
                struct fakefs_ring_slot *sl, uint32_t *outlen)
{
    struct req q = {
        .owner = __atomic_load_n(&sl->owner, __ATOMIC_ACQUIRE),
        .op = __atomic_load_n(&sl->op, __ATOMIC_RELAXED),
        .pathlen = __atomic_load_n(&sl->pathlen, __ATOMIC_RELAXED),
        .inlen = __atomic_load_n(&sl->inlen, __ATOMIC_RELAXED),
        .outcap = __atomic_load_n(&sl->outcap, __ATOMIC_RELAXED),
    };
    char why[160], path[FAKEFS_RING_PATH_MAX];
    const char *bad = check(s, &q, why, sizeof why);
    if (!bad) {
        memcpy(path, sl->data, q.pathlen);
        if (path[q.pathlen - 1] || strlen(path) != q.pathlen - 1 ||
            path[0] != '/') {
            bad = "the path is not one absolute NUL-terminated string";
        }
    }
    *outlen = 0;
    sl->notelen = 0;
    sl->action = bad ? FAKEFS_RING_REFUSED : 0;
    if (bad) {
        __atomic_add_fetch(&s->rejected, 1, __ATOMIC_RELAXED);
        if (__atomic_fetch_add(&s->logs, 1, __ATOMIC_RELAXED) < RING_MAX_LOGS) {
            slog(s, "ring: rejected the request in slot %u: %s", idx, bad);
        }
        return -EINVAL;
    }
    void *in = q.inlen ? malloc(q.inlen) : NULL;
    void *out = q.outcap ? malloc(q.outcap) : NULL;
    if ((q.inlen && !in) || (q.outcap && !out)) {
        free(in);
        free(out);
        return -ENOMEM;
    }
    if (q.inlen) {
        memcpy(in, sl->data + q.pathlen, q.inlen);
    }
    uint32_t order = __atomic_load_n(&sl->order, __ATOMIC_RELAXED);
    char note[FAKEFS_NOTE_MAX] = "";
    struct fakefs_call c = {
        .op = (enum fakefs_op)q.op,
        .path = path,
        .flags = sl->flags,
        .offset = sl->offset,
        .cmd = (unsigned long)sl->cmd,
        .in = in,
        .inlen = q.inlen,
        .out = out,
        .outcap = q.outcap,
        .who = { .pid = conn_pid(s, q.owner),
                 .fd = sl->fd,
                 .side = "qemu",
                 .order = order <= FAKEFS_ORDER_BIG ? (enum fakefs_order)order
                                                    : FAKEFS_ORDER_UNKNOWN,
                 /* the notes go back to the caller's run record */
                 .note = note,
                 .notecap = sizeof note },
    };
    long r = s->fn(s->ud, &c);
    *outlen = c.outlen < q.outcap ? (uint32_t)c.outlen : q.outcap;
    if (*outlen) {
        memcpy(sl->data, out, *outlen);
    }
    sl->attr_type = (uint32_t)c.attr.type;
    sl->attr_size = c.attr.size;
    sl->attr_mode = c.attr.mode;
    sl->action = c.action;
    sl->notelen = (uint32_t)strnlen(note, sizeof note - 1);
    memcpy(sl->note, note, sl->notelen);
    free(in);
    free(out);
    __atomic_add_fetch(&s->served, 1, __ATOMIC_RELAXED);
    return r;
}

static void serve(struct fakefs_ring_server *s, unsigned idx)
{
    struct fakefs_ring_slot *sl = ring_slot(s->map, idx);
    uint32_t outlen;
    long r = run(s, idx, sl, &outlen);
    sl->result = r;
    sl->outlen = outlen;
    pid_t owner = __atomic_load_n(&sl->owner, __ATOMIC_RELAXED);
    if (r == -EINVAL && !conn_pid(s, owner) && kill(owner, 0) < 0 &&
        errno == ESRCH) {
        /* nobody waits: a forged owner, or a process already gone */
        if (!ring_free(sl, RING_SERVING)) {
            ring_free(sl, RING_ABANDONED);
        }
        slot_freed(s);
    } else if (ring_move(&sl->state, RING_SERVING, RING_REPLY)) {
        ring_futex_wake(&sl->state, 1);
    } else {
        /* abandoned by its client, or its process went away */
        ring_free(sl, RING_ABANDONED);
        slot_freed(s);
    }
}

/* Wait for a request posted after seen: a short spin (the next request of
 * a busy client often comes within microseconds), then the futex.  A
 * client wakes the futex only when a server thread sleeps: sleepers and
 * posted are both sequentially consistent, so either the client sees the
 * sleeper or the sleeper sees the new request. */
static void wait_posted(struct fakefs_ring_server *s, uint32_t seen)
{
    int zero = 0;
    /* one thread spins, the others sleep at once: two spinners on a
     * small machine would take the client's CPU */
    if (__atomic_compare_exchange_n(&s->spinning, &zero, 1, 0, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED)) {
        int got = 0;
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 1; !got; i++) {
            got = __atomic_load_n(&s->hdr->posted, __ATOMIC_SEQ_CST) != seen ||
                  __atomic_load_n(&s->stop, __ATOMIC_RELAXED);
            ring_relax();
            if (!(i & 31)) {
                clock_gettime(CLOCK_MONOTONIC, &t);
                if ((t.tv_sec - t0.tv_sec) * 1000000000L +
                        (t.tv_nsec - t0.tv_nsec) >
                    RING_SERVER_SPIN_NS) {
                    break;
                }
            }
        }
        __atomic_store_n(&s->spinning, 0, __ATOMIC_RELEASE);
        if (got) {
            return;
        }
    }
    __atomic_add_fetch(&s->hdr->sleepers, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&s->hdr->posted, __ATOMIC_SEQ_CST) == seen) {
        ring_futex_wait(&s->hdr->posted, seen, -1);
    }
    __atomic_sub_fetch(&s->hdr->sleepers, 1, __ATOMIC_SEQ_CST);
}

static void *server_main(void *arg)
{
    struct fakefs_ring_server *s = arg;
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        uint32_t seen = ring_load(&s->hdr->posted);
        int did = 0;
        for (unsigned i = 0; i < FAKEFS_RING_SLOTS; i++) {
            struct fakefs_ring_slot *sl = ring_slot(s->map, i);
            if (ring_state(&sl->state) == RING_REQUEST &&
                ring_move(&sl->state, RING_REQUEST, RING_SERVING)) {
                serve(s, i);
                did = 1;
            }
        }
        if (!did) {
            wait_posted(s, seen);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ life */

static int make_memfd(const char *rules, void **map)
{
    int fd = memfd_create("sfemu-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        return -1;
    }
    /* sealed: a client cannot shrink it under the server (SIGBUS) */
    if (ftruncate(fd, (off_t)ring_map_size()) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
        close(fd);
        return -1;
    }
    *map =
        mmap(NULL, ring_map_size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (*map == MAP_FAILED) {
        close(fd);
        return -1;
    }
    struct fakefs_ring_hdr *h = *map;
    h->hdr_size = FAKEFS_RING_HDR_SIZE;
    h->slot_size = (uint32_t)ring_slot_size();
    h->nslots = FAKEFS_RING_SLOTS;
    h->data_cap = FAKEFS_RING_DATA;
    h->version = FAKEFS_RING_VERSION;
    snprintf(h->rules, sizeof h->rules, "%s", rules ? rules : "");
    ring_store(&h->magic, FAKEFS_RING_MAGIC);
    return fd;
}

static int listen_on(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    unlink(path); /* a dead daemon's; the upper directory's lock is ours */
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 64) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

void fakefs_ring_stop(struct fakefs_ring_server *s)
{
    if (!s) {
        return;
    }
    __atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
    uint64_t one = 1;
    if (write(s->stop_fd, &one, sizeof one) < 0) {
        /* the control thread also ends at the next connection */
    }
    if (s->ctl) {
        pthread_join(s->ctl, NULL);
    }
    __atomic_add_fetch(&s->hdr->posted, 1, __ATOMIC_RELEASE);
    ring_futex_wake(&s->hdr->posted, 0x7fffffff);
    for (unsigned i = 0; i < s->nthr; i++) {
        pthread_join(s->thr[i], NULL);
    }
    for (unsigned i = 0; i < s->nconns; i++) {
        close(s->conns[i].fd);
    }
    unlink(s->sock_path);
    close(s->lfd);
    close(s->stop_fd);
    close(s->memfd);
    munmap(s->map, ring_map_size());
    pthread_mutex_destroy(&s->lock);
    free(s->thr);
    free(s->sock_path);
    free(s);
}

struct fakefs_ring_server *fakefs_ring_serve(const char *sock_path,
                                             int allow_other, const char *rules,
                                             unsigned nthreads,
                                             fakefs_ring_fn fn, void *ud,
                                             void (*log)(const char *msg))
{
    struct fakefs_ring_server *s = calloc(1, sizeof *s);
    if (!s) {
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->allow_other = allow_other;
    s->fn = fn;
    s->ud = ud;
    s->log = log;
    s->lfd = s->stop_fd = -1;
    s->sock_path = strdup(sock_path);
    s->thr = calloc(nthreads ? nthreads : 1, sizeof *s->thr);
    s->memfd = make_memfd(rules, &s->map);
    if (!s->sock_path || !s->thr || s->memfd < 0) {
        goto fail;
    }
    s->hdr = s->map;
    s->stop_fd = eventfd(0, EFD_CLOEXEC);
    s->lfd = listen_on(sock_path);
    if (s->stop_fd < 0 || s->lfd < 0) {
        goto fail;
    }
    /* the threads take no signals: the daemon's loop handles them */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int r = pthread_create(&s->ctl, NULL, ctl_main, s);
    for (unsigned i = 0; !r && i < (nthreads ? nthreads : 1); i++) {
        r = pthread_create(&s->thr[i], NULL, server_main, s);
        s->nthr += !r;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r) {
        errno = r;
        fakefs_ring_stop(s);
        return NULL;
    }
    return s;
fail : {
    int e = errno;
    if (s->map && s->memfd >= 0) {
        munmap(s->map, ring_map_size());
    }
    if (s->memfd >= 0) {
        close(s->memfd);
    }
    if (s->lfd >= 0) {
        close(s->lfd);
    }
    if (s->stop_fd >= 0) {
        close(s->stop_fd);
    }
    free(s->thr);
    free(s->sock_path);
    free(s);
    errno = e;
    return NULL;
}
}

void fakefs_ring_counts(struct fakefs_ring_server *s, uint64_t *served,
                        uint64_t *rejected)
{
    *served = __atomic_load_n(&s->served, __ATOMIC_RELAXED);
    *rejected = __atomic_load_n(&s->rejected, __ATOMIC_RELAXED);
}
