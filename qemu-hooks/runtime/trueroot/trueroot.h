/*
 * True root for -L: every guest path resolves inside the rootfs, like chroot.
 */
#ifndef SFEMU_TRUEROOT_H
#define SFEMU_TRUEROOT_H

#include <stdint.h>
#include "core/realcall.h"
#include "sfemu/host.h"

#define SFEMU_TR_MAX_FDS 4

/* Per-call bookkeeping between enter and leave (on the caller's stack). */
struct sfemu_tr_call {
    int nfds;
    int fds[SFEMU_TR_MAX_FDS]; /* temporary O_PATH fds to close on leave */
    int kind;                  /* what leave() must fix up (e.g. getcwd) */
    int64_t args[SFEMU_NARGS]; /* the guest's original arguments */
};

extern int sfemu_trueroot_active;

/*
 * root: the rootfs directory (the -L argument).  host_paths: colon-separated
 * guest path prefixes that stay on the host (NULL: the documented default,
 * /proc /sys /dev/null ...).  0 or -errno.
 */
int sfemu_trueroot_init(const char *root, const char *host_paths);

/*
 * Before the real syscall: rewrite path arguments in args[] so the real
 * syscall resolves inside the root.  0 to go on, or a negative guest errno
 * that becomes the syscall's result without running it.
 */
int sfemu_trueroot_enter(int num, const char *name, int64_t args[SFEMU_NARGS],
                         struct sfemu_tr_call *c);

/* Whether a syscall takes paths (and so must pass through enter/leave). */
int sfemu_trueroot_takes_paths(int num, const char *name);

/* After the real syscall: release temporaries, fix results (getcwd). */
void sfemu_trueroot_leave(struct sfemu_tr_call *c, int64_t *ret);

/* The three above as the runtime's syscall rewriter (core/realcall.h). */
extern const struct sfemu_rewriter sfemu_trueroot_rewriter;

#endif
