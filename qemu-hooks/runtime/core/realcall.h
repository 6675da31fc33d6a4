/*
 * The real syscall as the runtime runs it: QEMU's do_syscall1, through an
 * ordered chain of features that wrap it (the true root rewrites path
 * arguments so they resolve inside the rootfs; the emulator features of
 * emu/ answer or retry some syscalls).  Rules reach it with c_do_syscall.
 */
#ifndef SFEMU_REALCALL_H
#define SFEMU_REALCALL_H

#include <stdint.h>

#include "sfemu/host.h"

/* Per-call bookkeeping a rewriter keeps between enter and leave, on the
 * caller's stack: data is opaque here, laid out by the rewriter. */
struct sfemu_rewrite_call {
    int num;  /* the syscall to run: enter may substitute one (mkdirat) */
    int done; /* set by enter when it ran the call itself: ret is the result */
    int64_t ret;
    _Alignas(8) unsigned char data[192];
};

/* Where a handler is in the chain (for sfemu_realcall_next). */
struct sfemu_realcall_next {
    int pos;
};

/*
 * One link of the chain, in one of two forms:
 *  - a rewriter (enter/leave): entered for every syscall that reaches the
 *    real one, it changes the arguments on the way in and the result on the
 *    way out;
 *  - a handler (call): called for the syscalls it takes, it runs the rest of
 *    the chain with sfemu_realcall_next as often as it needs (zero times:
 *    it answers itself; twice: it retries).
 */
struct sfemu_rewriter {
    const char *name;
    /* Whether syscall num must go through this link (the hook map asks). */
    int (*takes)(int num);
    /* Rewrites args (and c->num) in place; 0 to run the syscall (or to take
     * c->ret when it set c->done), or a negative guest errno that becomes
     * its result (then leave is not called). */
    int (*enter)(int num, int64_t args[SFEMU_NARGS],
                 struct sfemu_rewrite_call *c);
    /* After the syscall: release what enter took, fix the result. */
    void (*leave)(struct sfemu_rewrite_call *c, int64_t *ret);
    /* The handler form (enter and leave NULL). */
    int64_t (*call)(int num, int64_t args[SFEMU_NARGS],
                    const struct sfemu_realcall_next *next);
};

/* Appends a link: the first added is the outermost.  At start-up, after
 * the syscall name table (handlers' takes are cached per number). */
void sfemu_realcall_add(const struct sfemu_rewriter *rw);
/* A handler's takes() now answers differently: ask again (the hook map
 * too).  Safe while guest threads run: they see the old or the new answer. */
void sfemu_realcall_retake(void);
/* Whether some link wants syscall num (0 with an empty chain). */
int sfemu_realcall_takes(int num);
/* How many links the chain has. */
int sfemu_realcall_count(void);

/* The real syscall, without rules but through the chain. */
int64_t sfemu_real_syscall(int num, const int64_t args[SFEMU_NARGS]);
/* From a handler: the rest of the chain after it, then the real syscall. */
int64_t sfemu_realcall_next(const struct sfemu_realcall_next *next, int num,
                            int64_t args[SFEMU_NARGS]);

#endif
