/*
 * The context ring: the last -rules-ctx-keep syscalls of each guest thread
 * (number, decoded args, result, errno name, pc, time, intercepted), kept in
 * a buffer preallocated at the thread's first syscall so that recording costs
 * no malloc, lock or syscall.  The watchdog dumps it on every trigger and
 * rules read it with c_get_ctx().
 */
#ifndef SFEMU_CTXRING_H
#define SFEMU_CTXRING_H

#include <stdatomic.h>
#include <stdint.h>
#include "sfemu/host.h"

#define SFEMU_RING_ARGS 6
#define SFEMU_RING_PATH 96 /* bytes of a path argument kept (with NUL) */

struct sfemu_ring_ent {
    int64_t args[SFEMU_RING_ARGS];
    int64_t ret;
    uint64_t pc;
    int64_t t_ns;   /* CLOCK_MONOTONIC at entry */
    int64_t dur_ns; /* time inside the syscall */
    int num;
    int8_t path_arg, fd_arg; /* which argument, or -1 */
    uint8_t done, intercepted;
    char path[SFEMU_RING_PATH]; /* path_arg's string, truncated */
};

struct sfemu_ring {
    struct sfemu_ring_ent *ent;
    unsigned keep;  /* slots (0: the ring is off) */
    unsigned head;  /* next slot to write */
    unsigned count; /* valid slots */
    int tid;
    /* Read by the watchdog thread (relaxed atomics: plain stores on x86). */
    atomic_int in_sys;       /* syscall number + 1 while inside, else 0 */
    atomic_llong last_ns;    /* CLOCK_MONOTONIC of the last enter/exit */
    int64_t idle_mark;       /* watchdog thread only: last_ns reported */
    struct sfemu_ring *next; /* registry (under sfemu_ring_lock) */
};

/* Once, at watchdog start: per-syscall decoding tables, clocks; registers
 * the ring as a syscall observer (it records every syscall). */
void sfemu_ring_init(void);
/* The calling thread's ring, created on first use (NULL without memory). */
struct sfemu_ring *sfemu_ring_self(void);
/* Existing ring of the calling thread or NULL (never allocates). */
struct sfemu_ring *sfemu_ring_peek(void);
/* The calling thread's syscall in flight (after the ring's exit: the one
 * just completed): its ring entry (NULL when the ring keeps none) and
 * times. */
struct sfemu_ring_call {
    struct sfemu_ring_ent *ent;
    int64_t enter_ns, exit_ns;
};
const struct sfemu_ring_call *sfemu_ring_call(void);
/* Entry i of the ring, oldest first (i < r->count). */
const struct sfemu_ring_ent *sfemu_ring_at(const struct sfemu_ring *r,
                                           unsigned i);

/* Iterate over all rings: lock, walk sfemu_ring_list, unlock. */
void sfemu_ring_lock(void);
void sfemu_ring_unlock(void);
extern struct sfemu_ring *sfemu_ring_list;

/* CLOCK_MONOTONIC in ns; and a monotonic time as CLOCK_REALTIME. */
int64_t sfemu_mono_ns(void);
void sfemu_mono_to_real(int64_t mono_ns, int64_t *sec, int64_t *nsec);

#include "core/errnames.h"
/* Nonzero if a syscall result is an error (-4095..-1). */
static inline int sfemu_is_err(int64_t ret)
{
    return ret < 0 && ret >= -4095;
}

#endif
