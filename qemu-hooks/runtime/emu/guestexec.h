/*
 * Guest exec (docs/emulator.md, "Guest exec"): an execve/execveat of a
 * guest-architecture ELF, or of a "#!" script whose interpreter is one,
 * runs the file in this same patched qemu (a host execve of /proc/self/exe)
 * with the running settings: -L, the SFEmu options of sfemu/options.h that
 * were given, the root mode, -cpu only when it was given (otherwise the
 * child chooses again from its own ELF), argv[0] as the guest passed it
 * (-0) and the guest's environment.  The file runs from the fd it was
 * opened on (/proc/self/fd/N), never from a host path looked up again.
 */
#ifndef SFEMU_GUESTEXEC_H
#define SFEMU_GUESTEXEC_H

#include "core/realcall.h"

/* In a program a guest exec started: the name the guest's execve gave (its
 * AT_EXECFN), NULL otherwise; sets sfemu_rt.execs (0 again after a fork).
 * Our variables leave the environment.  Called once, at start-up. */
const char *sfemu_guestexec_started(void);
/* -guest-exec given on, or by default with -rules. */
int sfemu_guestexec_wanted(void);
/* Plugs the runner into the true root's exec; returns the execve handler
 * that opens the file as QEMU's -L does, for the chain when the true root
 * is off (NULL when the syscalls are unknown). */
const struct sfemu_rewriter *sfemu_guestexec_init(void);

#endif
