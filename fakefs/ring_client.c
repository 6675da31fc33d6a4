/*
 * The qemu end of the ring (ring.h, docs/ring.md): connect to the daemon's
 * control socket, map the memfd it sends, and run calls in slots.  A call
 * claims a free slot, fills it, posts it and sleeps on the slot's futex
 * until the reply; every step_ms it checks that the daemon still holds
 * its end of the control connection, so a dead daemon is noticed within
 * one step, a slow fakeconfig gets FAKEFS_RING_PATIENCE steps.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "ring_shm.h"

/* Where the control connection goes in the fd table: far from the low
 * numbers a guest expects for its own files. */
#define RING_FD_MIN 900
/* Pauses spent waiting for the reply before sleeping (10-40 us: an
 * unloaded round trip takes about 2 us). */
#define RING_SPIN 500

struct fakefs_ring_client {
    int fd;
    dev_t dev; /* the socket's identity: is fd still ours? */
    ino_t ino;
    pid_t pid;
    void *map;
    struct fakefs_ring_hdr *hdr;
};

static int fail(char *err, size_t cap, int e, const char *what)
{
    snprintf(err, cap, "%s: %s", what, strerror(e));
    return -e;
}

static int recv_hello(int fd, struct ring_hello *h, int *memfd)
{
    struct ring_fdmsg f;
    ring_fdmsg_init(&f, h);
    ssize_t n = recvmsg(fd, &f.m, MSG_CMSG_CLOEXEC);
    struct cmsghdr *cm = n == (ssize_t)sizeof *h ? CMSG_FIRSTHDR(&f.m) : NULL;
    if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
        cm->cmsg_len != CMSG_LEN(sizeof(int))) {
        return n < 0 ? -errno : -EPROTO;
    }
    memcpy(memfd, CMSG_DATA(cm), sizeof(int));
    return 0;
}

static int header_ok(const struct fakefs_ring_hdr *h)
{
    return ring_load((uint32_t *)&h->magic) == FAKEFS_RING_MAGIC &&
           h->version == FAKEFS_RING_VERSION &&
           h->hdr_size == FAKEFS_RING_HDR_SIZE &&
           h->slot_size == ring_slot_size() && h->nslots == FAKEFS_RING_SLOTS &&
           h->data_cap == FAKEFS_RING_DATA &&
           memchr(h->rules, 0, sizeof h->rules);
}

int fakefs_ring_connect(const char *sock_path, struct fakefs_ring_client **out,
                        char *err, size_t errcap)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct timeval tv = { 2, 0 };
    struct ring_hello h;
    int memfd = -1, r;

    if (strlen(sock_path) >= sizeof sa.sun_path) {
        return fail(err, errcap, ENAMETOOLONG, sock_path);
    }
    strcpy(sa.sun_path, sock_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return fail(err, errcap, errno, "socket");
    }
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, RING_FD_MIN);
    if (hi >= 0) {
        close(fd);
        fd = hi;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        r = fail(err, errcap, errno, sock_path);
        close(fd);
        return r;
    }
    r = recv_hello(fd, &h, &memfd);
    if (r < 0 || h.magic != FAKEFS_RING_MAGIC ||
        h.version != FAKEFS_RING_VERSION || h.size != ring_map_size()) {
        if (memfd >= 0) {
            close(memfd);
        }
        close(fd);
        return fail(err, errcap, r < 0 ? -r : EPROTO,
                    r < 0 ? "no ring from the daemon"
                          : "the daemon's ring has another version or size");
    }
    struct stat st;
    void *map =
        fstat(memfd, &st) == 0 && (uint64_t)st.st_size == h.size
            ? mmap(NULL, h.size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0)
            : MAP_FAILED;
    close(memfd);
    if (map == MAP_FAILED || !header_ok(map)) {
        if (map != MAP_FAILED) {
            munmap(map, h.size);
        }
        close(fd);
        return fail(err, errcap, EPROTO, "the ring's header is not valid");
    }
    struct fakefs_ring_client *c = malloc(sizeof *c);
    if (!c) {
        munmap(map, h.size);
        close(fd);
        return fail(err, errcap, ENOMEM, "ring");
    }
    struct stat sst;
    fstat(fd, &sst);
    c->fd = fd;
    c->dev = sst.st_dev;
    c->ino = sst.st_ino;
    c->pid = getpid();
    c->map = map;
    c->hdr = map;
    *out = c;
    return 0;
}

void fakefs_ring_close(struct fakefs_ring_client *c)
{
    struct stat st;
    if (c) {
        munmap(c->map, ring_map_size());
        if (fstat(c->fd, &st) == 0 && st.st_dev == c->dev &&
            st.st_ino == c->ino) {
            close(c->fd);
        }
        free(c);
    }
}

pid_t fakefs_ring_pid(const struct fakefs_ring_client *c)
{
    return c->pid;
}

void *fakefs_ring_map(const struct fakefs_ring_client *c)
{
    return c->map;
}

const char *fakefs_ring_rules(const struct fakefs_ring_client *c)
{
    return c->hdr->rules;
}

/* Is the daemon's end of the control connection still there? */
static int daemon_alive(struct fakefs_ring_client *c)
{
    struct pollfd p = { c->fd, POLLIN | POLLRDHUP, 0 };
    if (poll(&p, 1, 0) < 0) {
        return 1;
    }
    return !(p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL));
}

static void slot_free(struct fakefs_ring_client *c, struct fakefs_ring_slot *sl,
                      uint32_t from)
{
    ring_free(sl, from);
    __atomic_add_fetch(&c->hdr->freed, 1, __ATOMIC_RELEASE);
    if (ring_load(&c->hdr->free_waits)) {
        ring_futex_wake(&c->hdr->freed, 0x7fffffff);
    }
}

/* Wait for *w to leave value v for one step.  -EPIPE: the daemon is gone,
 * -ETIMEDOUT: out of patience. */
static int wait_step(struct fakefs_ring_client *c, uint32_t *w, uint32_t v,
                     int step_ms, int *steps)
{
    int r = ring_futex_wait(w, v, step_ms);
    if (r != -ETIMEDOUT) {
        return 0;
    }
    if (!daemon_alive(c)) {
        return -EPIPE;
    }
    return ++*steps >= FAKEFS_RING_PATIENCE ? -ETIMEDOUT : 0;
}

static struct fakefs_ring_slot *claim(struct fakefs_ring_client *c, int step_ms,
                                      int *steps, int *err)
{
    static __thread unsigned hint;
    if (!hint) {
        hint = (unsigned)syscall(SYS_gettid);
    }
    for (;;) {
        uint32_t freed = ring_load(&c->hdr->freed);
        for (unsigned k = 0; k < FAKEFS_RING_SLOTS; k++) {
            unsigned i = (hint + k) % FAKEFS_RING_SLOTS;
            struct fakefs_ring_slot *sl = ring_slot(c->map, i);
            if (ring_state(&sl->state) == RING_FREE &&
                ring_move(&sl->state, RING_FREE, RING_CLAIMED)) {
                return sl;
            }
        }
        __atomic_add_fetch(&c->hdr->free_waits, 1, __ATOMIC_ACQ_REL);
        *err = wait_step(c, &c->hdr->freed, freed, step_ms, steps);
        __atomic_sub_fetch(&c->hdr->free_waits, 1, __ATOMIC_ACQ_REL);
        if (*err) {
            return NULL;
        }
    }
}

/* One request that fits a slot. */
static int call_once(struct fakefs_ring_client *c, struct fakefs_call *call,
                     int step_ms, long *result)
{
    size_t pathlen = strlen(call->path) + 1;
    int steps = 0, err = 0;

    if (pathlen > FAKEFS_RING_PATH_MAX || call->inlen > FAKEFS_RING_DATA ||
        pathlen + call->inlen > FAKEFS_RING_DATA ||
        call->outcap > FAKEFS_RING_DATA) {
        return -E2BIG;
    }
    struct fakefs_ring_slot *sl = claim(c, step_ms, &steps, &err);
    if (!sl) {
        return err;
    }
    __atomic_store_n(&sl->owner, (int32_t)getpid(), __ATOMIC_RELAXED);
    sl->op = (uint32_t)call->op;
    sl->flags = call->flags;
    sl->offset = call->offset;
    sl->cmd = (uint64_t)call->cmd;
    sl->fd = call->who.fd;
    sl->order = (uint32_t)call->who.order;
    sl->pathlen = (uint32_t)pathlen;
    sl->inlen = (uint32_t)call->inlen;
    sl->outcap = (uint32_t)call->outcap;
    memcpy(sl->data, call->path, pathlen);
    if (call->inlen) {
        memcpy(sl->data + pathlen, call->in, call->inlen);
    }
    if (!ring_move(&sl->state, RING_CLAIMED, RING_REQUEST)) {
        return -EPIPE; /* taken from us: the daemon thinks we are gone */
    }
    __atomic_add_fetch(&c->hdr->posted, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&c->hdr->sleepers, __ATOMIC_SEQ_CST)) {
        ring_futex_wake(&c->hdr->posted, 1);
    }

    uint32_t w = ring_load(&sl->state);
    for (int spin = 0; RING_ST(w) != RING_REPLY && spin < RING_SPIN; spin++) {
        ring_relax();
        w = ring_load(&sl->state);
    }
    while (RING_ST(w) != RING_REPLY && !err) {
        err = wait_step(c, &sl->state, w, step_ms, &steps);
        w = ring_load(&sl->state);
    }
    if (RING_ST(w) != RING_REPLY) {
        /* give the slot up: unseen, we take it back and free it; in
         * service, the server frees it; answered meanwhile, we free it */
        if (ring_move(&sl->state, RING_REQUEST, RING_CLAIMED)) {
            slot_free(c, sl, RING_CLAIMED);
        } else if (!ring_move(&sl->state, RING_SERVING, RING_ABANDONED)) {
            slot_free(c, sl, RING_REPLY);
        }
        return err;
    }
    uint32_t outlen = sl->outlen;
    if (outlen > call->outcap) {
        slot_free(c, sl, RING_REPLY);
        return -EPROTO;
    }
    if (sl->action == FAKEFS_RING_REFUSED) {
        slot_free(c, sl, RING_REPLY);
        return -EPERM;
    }
    *result = (long)sl->result;
    if (outlen) {
        memcpy(call->out, sl->data, outlen);
    }
    call->outlen = outlen;
    call->attr.type = (enum fakefs_type)sl->attr_type;
    call->attr.size = sl->attr_size;
    call->attr.mode = sl->attr_mode;
    call->action = sl->action;
    uint32_t notelen = sl->notelen;
    if (notelen && notelen <= FAKEFS_NOTE_MAX) {
        fakefs_note_append(&call->who, sl->note, notelen);
    }
    slot_free(c, sl, RING_REPLY);
    return 0;
}

/* A read, mmap or write larger than a slot: pieces at successive offsets, until
 * a short or failed piece (a failure after some bytes returns the bytes). */
static int call_pieces(struct fakefs_ring_client *c, struct fakefs_call *call,
                       int step_ms, long *result)
{
    size_t room = FAKEFS_RING_DATA - (strlen(call->path) + 1);
    int rd = call->op == FAKEFS_READ || call->op == FAKEFS_MMAP;
    size_t total = rd ? call->outcap : call->inlen;
    size_t done = 0, replied = 0;
    int err = 0;

    *result = 0;
    while (done < total) {
        struct fakefs_call p = *call;
        size_t n = total - done < room ? total - done : room;
        long r = 0;
        p.offset = call->offset + done;
        if (rd) {
            p.out = (char *)call->out + done;
            p.outcap = n;
            /* the reader's buffer bytes of this piece (ctx.data) */
            p.in = call->inlen > done ? (const char *)call->in + done : NULL;
            p.inlen = call->inlen > done
                          ? (call->inlen - done < n ? call->inlen - done : n)
                          : 0;
        } else {
            /* each piece's reply follows the previous ones */
            p.in = (const char *)call->in + done;
            p.inlen = n;
            p.out = call->out ? (char *)call->out + replied : NULL;
            p.outcap = call->outcap - replied < FAKEFS_RING_DATA
                           ? call->outcap - replied
                           : FAKEFS_RING_DATA;
        }
        err = call_once(c, &p, step_ms, &r);
        if (err || r < 0) {
            if (!done) {
                *result = r;
            }
            break;
        }
        replied += call->op == FAKEFS_WRITE ? p.outlen : 0;
        done += (size_t)r;
        if ((size_t)r < n) {
            break;
        }
    }
    if (done) {
        *result = (long)done;
        err = 0;
    }
    call->outlen = rd ? done : replied;
    return err;
}

int fakefs_ring_call(struct fakefs_ring_client *c, struct fakefs_call *call,
                     int step_ms, long *result)
{
    size_t pathlen = strlen(call->path) + 1;
    if (pathlen <= FAKEFS_RING_PATH_MAX &&
        (((call->op == FAKEFS_READ || call->op == FAKEFS_MMAP) &&
          (call->outcap > FAKEFS_RING_DATA - pathlen ||
           call->inlen > FAKEFS_RING_DATA - pathlen)) ||
         (call->op == FAKEFS_WRITE &&
          call->inlen > FAKEFS_RING_DATA - pathlen))) {
        return call_pieces(c, call, step_ms, result);
    }
    return call_once(c, call, step_ms, result);
}
