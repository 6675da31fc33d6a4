/*
 * Managed fake sockets (sock.h): the guest's fd is one end of a real
 * socketpair of its type, and one pump thread per process serves the other
 * ends through fake.c's dispatch (the mount's daemon over the ring, or the
 * engine inside qemu).  A message from the guest is a "write" (its
 * ctx.reply is queued back), then "read" is asked: > 0 bytes are queued to
 * the guest, 0 is EOF, -EAGAIN nothing now.  The guest's last close is a
 * "close".
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "call.h"
#include "fakefile/fake.h"
#include "fakefile/sock.h"
#include "core/log.h"

/* One read or stream message: fits one ring slot whole, so a handler is
 * asked once per message whether the root is mounted or not. */
#define SOCK_IO_MAX (16u << 10)
#define SOCK_DGRAM_MAX (64u << 10) /* a datagram the pump receives whole */
#define SOCK_QUEUE_MAX (1u << 20)  /* bytes waiting for the guest to read */
#define SOCK_BATCH 64              /* messages per wake-up, for fairness */

struct chunk {
    struct chunk *next;
    size_t len, off;
    char data[];
};

struct peer {
    struct peer *next;
    int end;      /* the pump's end (CLOEXEC) */
    int type;     /* SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET */
    int guest_fd; /* ctx.fd */
    pid_t pid;
    char *path;
    struct chunk *head, *tail; /* queued for the guest */
    size_t queued;
    uint64_t rd_off, wr_off; /* bytes read / written so far (ctx.offset) */
    int eof;                 /* the read handler said EOF */
    int shut;                /* ... and the guest was told */
    int rd_closed;           /* the guest shut its writing side (stream) */
    int guest_closed;        /* sfemu_sock_guest_close ended it (datagram) */
    int said_full, said_cut;
};

/* pump_lock guards the list, the epoll fd and the ends' life (fork). */
static pthread_mutex_t pump_lock = PTHREAD_MUTEX_INITIALIZER;
static struct peer *peers;
static int pump_ep = -1;

static struct fakefs_caller who(const struct peer *p)
{
    return sfemu_fake_caller(p->pid, p->guest_fd);
}

/* ---- bytes for the guest */

static void drop_queue(struct peer *p)
{
    while (p->head) {
        struct chunk *ch = p->head;
        p->head = ch->next;
        free(ch);
    }
    p->tail = NULL;
    p->queued = 0;
}

/* Write what the guest has room for; then EOF if the handler said so. */
static void flush(struct peer *p)
{
    while (p->head) {
        struct chunk *ch = p->head;
        ssize_t w = send(p->end, ch->data + ch->off, ch->len - ch->off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            if (errno != EAGAIN) {
                drop_queue(p); /* the guest cannot read any more */
            }
            return;
        }
        ch->off += (size_t)w;
        if (p->type == SOCK_STREAM && ch->off < ch->len) {
            continue;
        }
        p->head = ch->next;
        p->queued -= ch->len;
        free(ch);
    }
    p->tail = NULL;
    if (p->eof && !p->shut) {
        /* a datagram has no EOF: an empty one reads as 0, like EOF */
        p->shut = 1;
        if (p->type == SOCK_DGRAM) {
            send(p->end, "", 0, MSG_DONTWAIT | MSG_NOSIGNAL);
        } else {
            shutdown(p->end, SHUT_WR);
        }
    }
}

static void enqueue(struct peer *p, const void *data, size_t n)
{
    struct chunk *ch;

    if (p->eof) {
        return; /* after EOF the guest reads nothing more */
    }
    if (p->queued + n > SOCK_QUEUE_MAX) {
        if (!p->said_full) {
            p->said_full = 1;
            sfemu_log("fakefile: %s: the guest reads too slowly: more than "
                      "%u bytes queued, %zu dropped (and later ones)",
                      p->path, SOCK_QUEUE_MAX, n);
        }
        return;
    }
    ch = malloc(sizeof(*ch) + n);
    if (!ch) {
        return;
    }
    ch->next = NULL;
    ch->len = n;
    ch->off = 0;
    memcpy(ch->data, data, n);
    if (p->tail) {
        p->tail->next = ch;
    } else {
        p->head = ch;
    }
    p->tail = ch;
    p->queued += n;
    flush(p);
}

/* ---- the handlers */

/* Ask the read handler for what the server says now. */
static void ask_read(struct peer *p)
{
    char buf[SOCK_IO_MAX];
    struct fakefs_call c = { .op = FAKEFS_READ,
                             .path = p->path,
                             .offset = p->rd_off,
                             .out = buf,
                             .outcap = sizeof(buf),
                             .who = who(p) };
    long r;

    if (p->eof) {
        return;
    }
    r = sfemu_fake_dispatch(&c);
    if (r > 0) {
        size_t n = (size_t)r < c.outlen ? (size_t)r : c.outlen;
        p->rd_off += n;
        enqueue(p, buf, n);
    } else if (r == 0) {
        p->eof = 1;
        flush(p);
    }
    /* -EAGAIN: nothing now; another error: the engine logged it */
}

/* One message (a datagram, or what a stream read gave) from the guest. */
static void message(struct peer *p, const void *data, size_t n)
{
    char reply[SOCK_IO_MAX];
    struct fakefs_call c = { .op = FAKEFS_WRITE,
                             .path = p->path,
                             .offset = p->wr_off,
                             .in = data,
                             .inlen = n,
                             .out = reply,
                             .outcap = sizeof(reply),
                             .who = who(p) };

    if (sfemu_fake_dispatch(&c) >= 0 && c.outlen) {
        enqueue(p, reply, c.outlen);
    }
    p->wr_off += n;
    ask_read(p);
}

/* Read what the guest sent.  hup: the socket is down (a 0 is the end,
 * not an empty datagram). */
static void from_guest(struct peer *p, int hup)
{
    static char buf[SOCK_DGRAM_MAX]; /* the pump thread's only */
    size_t cap = p->type == SOCK_STREAM ? SOCK_IO_MAX : sizeof(buf);

    for (int k = 0; k < SOCK_BATCH; k++) {
        ssize_t n =
            recv(p->end, buf, cap,
                 MSG_DONTWAIT | (p->type == SOCK_STREAM ? 0 : MSG_TRUNC));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            p->rd_closed = errno != EAGAIN;
            return;
        }
        if (n == 0 && (p->type == SOCK_STREAM || hup)) {
            p->rd_closed = 1;
            return;
        }
        if ((size_t)n > cap) {
            if (!p->said_cut) {
                p->said_cut = 1;
                sfemu_log("fakefile: %s: a datagram of %zd bytes is cut to %zu",
                          p->path, n, cap);
            }
            n = (ssize_t)cap;
        }
        message(p, buf, (size_t)n);
    }
}

/* ---- the pump */

static void peer_free(struct peer *p)
{
    drop_queue(p);
    free(p->path);
    free(p);
}

/* The guest is done with it: run close, forget the socket. */
static void peer_end(struct peer *p)
{
    struct fakefs_call c = { .op = FAKEFS_CLOSE,
                             .path = p->path,
                             .who = who(p) };

    sfemu_fake_dispatch(&c);
    pthread_mutex_lock(&pump_lock);
    for (struct peer **pp = &peers; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    epoll_ctl(pump_ep, EPOLL_CTL_DEL, p->end, NULL);
    close(p->end);
    pthread_mutex_unlock(&pump_lock);
    peer_free(p);
}

/* What to wait for: the guest's messages (until it shuts its side), room
 * for queued bytes.  Hang-ups are always reported. */
static uint32_t interest(const struct peer *p)
{
    return (p->rd_closed ? 0 : EPOLLIN | EPOLLRDHUP) | (p->head ? EPOLLOUT : 0);
}

static void peer_event(struct peer *p, uint32_t ev)
{
    int hup = (ev & (EPOLLHUP | EPOLLERR)) != 0;

    if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) && !p->rd_closed) {
        from_guest(p, hup);
    }
    if (ev & EPOLLOUT) {
        flush(p);
    }
    if (hup) {
        peer_end(p);
        return;
    }
    struct epoll_event e = { .events = interest(p), .data.ptr = p };
    epoll_ctl(pump_ep, EPOLL_CTL_MOD, p->end, &e);
}

static void *pump_main(void *arg)
{
    int ep = (int)(intptr_t)arg;
    struct epoll_event ev[16];

    for (;;) {
        int n = epoll_wait(ep, ev, 16, -1);
        if (n < 0 && errno != EINTR) {
            sfemu_log("fakefile: the fake socket pump stops: %s",
                      strerror(errno));
            return NULL;
        }
        for (int i = 0; i < n; i++) {
            peer_event(ev[i].data.ptr, ev[i].events);
        }
    }
}

/* fork: the child has no pump; its copies of the pump's ends go, so the
 * guest's sockets stay served by the parent (a dead pump reads as EOF). */
static void fork_prepare(void)
{
    pthread_mutex_lock(&pump_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&pump_lock);
}

static void fork_child(void)
{
    while (peers) {
        struct peer *p = peers;
        peers = p->next;
        close(p->end);
        peer_free(p);
    }
    if (pump_ep >= 0) {
        close(pump_ep);
        pump_ep = -1;
    }
    pthread_mutex_unlock(&pump_lock);
}

static void atfork_once(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* The pump of this process, started on first use (pump_lock held). */
static int pump_start(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    sigset_t all, old;
    pthread_t t;
    int ep, rc;

    pthread_once(&once, atfork_once);
    if (pump_ep >= 0) {
        return 0;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        return -errno;
    }
    /* It must not receive the guest's signals. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&t, NULL, pump_main, (void *)(intptr_t)ep);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        close(ep);
        return -rc;
    }
    pthread_detach(t);
    pump_ep = ep;
    return 0;
}

/* What the guest set on its socket before connect carries over. */
static int take_settings(int from, int to)
{
    int fl = fcntl(from, F_GETFL), fdfl = fcntl(from, F_GETFD);
    int owner = fcntl(from, F_GETOWN);
    static const int timeouts[] = { SO_RCVTIMEO, SO_SNDTIMEO };

    if (fl < 0 || fdfl < 0) {
        return -errno;
    }
    for (int i = 0; i < 2; i++) {
        struct timeval tv;
        socklen_t l = sizeof(tv);
        if (getsockopt(from, SOL_SOCKET, timeouts[i], &tv, &l) == 0 &&
            (tv.tv_sec || tv.tv_usec)) {
            setsockopt(to, SOL_SOCKET, timeouts[i], &tv, l);
        }
    }
    if (owner > 0) {
        fcntl(to, F_SETOWN, owner);
    }
    if (dup3(to, from, fdfl & FD_CLOEXEC ? O_CLOEXEC : 0) < 0) {
        return -errno;
    }
    fcntl(from, F_SETFL, fl & (O_NONBLOCK | O_ASYNC));
    return 0;
}

int sfemu_sock_serve(int fd, const char *path)
{
    int type, sv[2], rc;
    socklen_t l = sizeof(type);
    struct peer *p;

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0) {
        return -errno;
    }
    if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET) {
        return -EPROTOTYPE;
    }
    p = calloc(1, sizeof(*p));
    if (!p || !(p->path = strdup(path))) {
        free(p);
        return -ENOMEM;
    }
    pthread_mutex_lock(&pump_lock);
    rc = pump_start();
    pthread_mutex_unlock(&pump_lock);
    if (rc == 0 && socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0) {
        rc = -errno;
    }
    if (rc == 0 && (rc = take_settings(fd, sv[0])) < 0) {
        close(sv[1]);
    }
    if (rc == 0) {
        close(sv[0]);
    } else {
        peer_free(p);
        return rc;
    }
    p->end = sv[1];
    p->type = type;
    p->guest_fd = fd;
    p->pid = getpid();
    ask_read(p); /* a server that speaks first */
    pthread_mutex_lock(&pump_lock);
    struct epoll_event e = { .events = interest(p), .data.ptr = p };
    if (epoll_ctl(pump_ep, EPOLL_CTL_ADD, p->end, &e) < 0) {
        rc = -errno;
        close(p->end);
        pthread_mutex_unlock(&pump_lock);
        sfemu_log("fakefile: %s: cannot serve the socket: %s", path,
                  strerror(-rc));
        peer_free(p);
        return 0; /* the guest's end reads EOF: not a hang */
    }
    p->next = peers;
    peers = p;
    pthread_mutex_unlock(&pump_lock);
    return 0;
}

void sfemu_sock_guest_close(int fd)
{
    pthread_mutex_lock(&pump_lock);
    for (struct peer *p = peers; p; p = p->next) {
        if (p->guest_fd == fd && !p->guest_closed && p->type == SOCK_DGRAM) {
            /* the pump sees a hang-up and closes it */
            p->guest_closed = 1;
            shutdown(p->end, SHUT_RDWR);
            break;
        }
    }
    pthread_mutex_unlock(&pump_lock);
}
