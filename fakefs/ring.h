/*
 * The shared-memory ring between sfemu-mount and the qemu processes running
 * on its mount (docs/ring.md): requests are struct fakefs_call (call.h)
 * carried in fixed slots of a memfd the daemon creates and hands out over
 * a unix control socket (SCM_RIGHTS, SO_PEERCRED checked).  Wake-ups are
 * futexes on shared words; no thread polls.
 *
 * Layout (native byte order: both ends run on one host), version 3:
 *   offset 0:           struct fakefs_ring_hdr (FAKEFS_RING_HDR_SIZE bytes)
 *   hdr_size + i*slot_size: struct fakefs_ring_slot i (nslots of them),
 *                       each followed by data_cap bytes of data.
 */
#ifndef SFEMU_FAKEFS_RING_H
#define SFEMU_FAKEFS_RING_H

#include <stdint.h>
#include <sys/types.h>
#include "call.h"

#define FAKEFS_RING_MAGIC 0x47524653u /* "SFRG" in memory, little end */
#define FAKEFS_RING_VERSION 3u
#define FAKEFS_RING_HDR_SIZE 8192u
#define FAKEFS_RING_SLOTS 32u
#define FAKEFS_RING_DATA (32u << 10) /* bytes of data per slot */
#define FAKEFS_RING_PATH_MAX 4096u   /* path bytes with its NUL */
/* The extended attribute the daemon answers on the mount's root: the
 * path of the control socket. */
#define FAKEFS_RING_XATTR "user.sfemu.ring"
/* The daemon's pid: a qemu under chroot(8) cannot reach the socket's host
 * path, and reaches it as /proc/PID/root/<socket> (docs/chroot.md). */
#define FAKEFS_RING_PID_XATTR "user.sfemu.ring_pid"

/* Slot states: the low 3 bits of the slot's futex word (the bits above
 * count changes, see ring_shm.h). */
enum {
    RING_FREE = 0,      /* nobody's */
    RING_CLAIMED = 1,   /* a client fills the request */
    RING_REQUEST = 2,   /* posted, waiting for a server thread */
    RING_SERVING = 3,   /* a server thread runs it */
    RING_REPLY = 4,     /* the reply is in; the client reads it, frees */
    RING_ABANDONED = 5, /* the client gave up: the server frees it */
};

struct fakefs_ring_hdr {
    uint32_t magic, version;
    uint32_t hdr_size;  /* offset of slot 0 */
    uint32_t slot_size; /* sizeof(struct fakefs_ring_slot) + data_cap */
    uint32_t nslots;
    uint32_t data_cap;
    uint32_t posted;     /* futex: +1 per posted request (servers wait) */
    uint32_t freed;      /* futex: +1 per freed slot (clients wait) */
    uint32_t free_waits; /* clients waiting for a free slot */
    uint32_t sleepers;   /* server threads asleep on posted */
    char rules[4096];    /* the rules tree that serves (NUL-terminated) */
};

/* The reply's action when the daemon refused the request (not run). */
#define FAKEFS_RING_REFUSED (-1)

struct fakefs_ring_slot {
    uint32_t state; /* futex word: epoch << 3 | RING_* */
    int32_t owner;  /* claimer's pid (tgid); checked against the control
                       connections' SO_PEERCRED pids */
    /* request */
    uint32_t op; /* enum fakefs_op */
    int32_t flags;
    uint64_t offset;
    uint64_t cmd;
    int32_t fd;       /* the caller's fd (for ctx.fd) */
    uint32_t pathlen; /* bytes of the path at data[0], its NUL included */
    uint32_t inlen;   /* bytes in after the path */
    uint32_t outcap;  /* bytes the reply may place at data[0] */
    /* reply */
    int64_t result;
    uint32_t outlen;
    uint32_t attr_type;
    uint64_t attr_size;
    uint32_t attr_mode;
    int32_t action;
    uint32_t order;   /* request: the caller's enum fakefs_order */
    uint32_t notelen; /* reply: bytes of note (the handlers' fakefile.note
                         lines, "text\n" each; no NUL) */
    char note[FAKEFS_NOTE_MAX];
    unsigned char data[];
};

/* ---------------------------------------------------------------- server */

struct fakefs_ring_server;

/* How the server runs a call (the daemon: its fake_call). */
typedef long (*fakefs_ring_fn)(void *ud, struct fakefs_call *c);

/* Listen on the unix socket sock_path (replaced if present), map the ring,
 * start nthreads server threads and the control thread.  allow_other: any
 * uid may connect (else only the daemon's uid and root).  rules: shown in
 * the header.  log: one line per message.  NULL on error (errno set). */
struct fakefs_ring_server *fakefs_ring_serve(const char *sock_path,
                                             int allow_other, const char *rules,
                                             unsigned nthreads,
                                             fakefs_ring_fn fn, void *ud,
                                             void (*log)(const char *msg));
/* Stop the threads, unlink the socket, unmap. */
void fakefs_ring_stop(struct fakefs_ring_server *s);
/* Requests served, rejected (for tests and benchmarks). */
void fakefs_ring_counts(struct fakefs_ring_server *s, uint64_t *served,
                        uint64_t *rejected);

/* ---------------------------------------------------------------- client */

struct fakefs_ring_client;

/* Connect to the control socket and map the ring.  0 or -errno; err gets
 * a reason on failure. */
int fakefs_ring_connect(const char *sock_path, struct fakefs_ring_client **out,
                        char *err, size_t errcap);
/* Unmap, and close the control connection if its fd is still the socket
 * we connected (a guest may have closed it and reused the number). */
void fakefs_ring_close(struct fakefs_ring_client *c);
/* The pid that connected (a forked child must connect for itself). */
pid_t fakefs_ring_pid(const struct fakefs_ring_client *c);
/* The shared mapping (tests and tools that forge slots). */
void *fakefs_ring_map(const struct fakefs_ring_client *c);
/* The rules tree the daemon serves from. */
const char *fakefs_ring_rules(const struct fakefs_ring_client *c);

/* Run call over the ring.  Returns 0 and sets *result when the daemon
 * answered; -errno when the transport failed (the call may or may not have
 * run): -EPIPE the daemon is gone, -ETIMEDOUT no answer within
 * step_ms * FAKEFS_RING_PATIENCE, -EPERM the daemon refused the request
 * without running it (e.g. it lost our control connection), -E2BIG
 * the request cannot fit a slot.  Reads and writes larger than a slot go
 * in pieces at successive offsets (stopping at a short one).  step_ms:
 * how long to wait before checking that the daemon is still there. */
#define FAKEFS_RING_PATIENCE 20
int fakefs_ring_call(struct fakefs_ring_client *c, struct fakefs_call *call,
                     int step_ms, long *result);

#endif
