/* What both ends of the ring share (ring.h): futexes on the mapping's
 * words (never FUTEX_PRIVATE: the waiters are in other processes), slot
 * addressing and the control socket's hello message. */
#ifndef SFEMU_FAKEFS_RING_SHM_H
#define SFEMU_FAKEFS_RING_SHM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "ring.h"

/* What the daemon sends on a new control connection, with the memfd. */
struct ring_hello {
    uint32_t magic, version;
    uint64_t size; /* bytes of the memfd */
};

/* The hello with one fd beside it (SCM_RIGHTS), for sendmsg/recvmsg. */
struct ring_fdmsg {
    struct iovec iov;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m;
};
void ring_fdmsg_init(struct ring_fdmsg *f, struct ring_hello *h);

/* The layout docs/ring.md documents. */
_Static_assert(sizeof(struct fakefs_ring_slot) == 1112, "ring slot header");
_Static_assert(offsetof(struct fakefs_ring_slot, note) == 88, "ring note");
_Static_assert(sizeof(struct fakefs_ring_hdr) <= FAKEFS_RING_HDR_SIZE,
               "ring header");
_Static_assert(offsetof(struct fakefs_ring_hdr, rules) == 40, "ring rules");

static inline size_t ring_slot_size(void)
{
    return sizeof(struct fakefs_ring_slot) + FAKEFS_RING_DATA;
}

static inline size_t ring_map_size(void)
{
    return FAKEFS_RING_HDR_SIZE + FAKEFS_RING_SLOTS * ring_slot_size();
}

static inline struct fakefs_ring_slot *ring_slot(void *map, unsigned i)
{
    return (struct fakefs_ring_slot *)((char *)map + FAKEFS_RING_HDR_SIZE +
                                       i * ring_slot_size());
}

static inline uint32_t ring_load(const uint32_t *w)
{
    return __atomic_load_n(w, __ATOMIC_ACQUIRE);
}

static inline void ring_store(uint32_t *w, uint32_t v)
{
    __atomic_store_n(w, v, __ATOMIC_RELEASE);
}

static inline int ring_cas(uint32_t *w, uint32_t from, uint32_t to)
{
    return __atomic_compare_exchange_n(w, &from, to, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

/* A pause in a bounded spin. */
static inline void ring_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    __asm__ volatile("" ::: "memory");
#endif
}

/* A slot's state word: the state (RING_*) in the low 3 bits, above it an
 * epoch that every change increments, so that a compare-and-swap from a
 * stale reading fails (ring_server.c's reclaim relies on it). */
#define RING_ST(w) ((w)&7u)

static inline uint32_t ring_state(const uint32_t *w)
{
    return RING_ST(ring_load(w));
}

static inline uint32_t ring_next(uint32_t w, uint32_t st)
{
    return ((w + 8u) & ~7u) | st;
}

/* Move the slot from state from to state to; 1 if this call did. */
static inline int ring_move(uint32_t *w, uint32_t from, uint32_t to)
{
    uint32_t v = ring_load(w);
    while (RING_ST(v) == from) {
        if (__atomic_compare_exchange_n(w, &v, ring_next(v, to), 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            return 1;
        }
    }
    return 0;
}

/* Free a slot the caller holds in state from: its owner is cleared first,
 * so whoever claims it next never shows a stale owner. */
static inline int ring_free(struct fakefs_ring_slot *sl, uint32_t from)
{
    __atomic_store_n(&sl->owner, 0, __ATOMIC_RELAXED);
    return ring_move(&sl->state, from, RING_FREE);
}

/* Sleep while *w == v, at most ms milliseconds (< 0: no limit).  0 woken
 * or the value differs, -ETIMEDOUT, -EINTR. */
int ring_futex_wait(uint32_t *w, uint32_t v, int ms);
void ring_futex_wake(uint32_t *w, int n);

#endif
