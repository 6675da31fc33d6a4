/*
 * The real syscall as the runtime runs it: QEMU's do_syscall1, through the
 * syscall rewriter when one is set (the true root rewrites path arguments so
 * they resolve inside the rootfs).  Rules reach it with c_do_syscall.
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

struct sfemu_rewriter {
    const char *name;
    /* Whether syscall num must go through enter/leave (the hook map asks). */
    int (*takes)(int num);
    /* Rewrites args (and c->num) in place; 0 to run the syscall (or to take
     * c->ret when it set c->done), or a negative guest errno that becomes
     * its result (then leave is not called). */
    int (*enter)(int num, int64_t args[SFEMU_NARGS],
                 struct sfemu_rewrite_call *c);
    /* After the syscall: release what enter took, fix the result. */
    void (*leave)(struct sfemu_rewrite_call *c, int64_t *ret);
};

/* Sets the rewriter (one at most; NULL removes it). */
void sfemu_realcall_set_rewriter(const struct sfemu_rewriter *rw);
/* Whether the rewriter wants syscall num (0 without a rewriter). */
int sfemu_realcall_takes(int num);

/* The real syscall, without rules but through the rewriter. */
int64_t sfemu_real_syscall(int num, const int64_t args[SFEMU_NARGS]);

#endif
