/*
 * LinuxThreads (docs/emulator.md, "LinuxThreads"): old uClibc creates each
 * thread with clone(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
 * sig), without CLONE_THREAD, and expects a process per thread.  QEMU
 * answers that form with EINVAL.  Here it becomes a QEMU thread (the thread
 * form of clone) and the runtime gives the guest the LinuxThreads view: the
 * child's pid is its thread id (getpid, getppid), kill of that pid reaches
 * that thread only, wait4/waitpid (with __WCLONE) wait for its exit and
 * return its status, and its exit signal reaches the thread that cloned it.
 */
#ifndef SFEMU_LINUXTHREADS_H
#define SFEMU_LINUXTHREADS_H

#include "core/realcall.h"

/* Whether -linuxthreads is on (given, or by default with -rules). */
int sfemu_linuxthreads_wanted(void);
/* Looks up the syscall numbers; the handler for the real-call chain. */
const struct sfemu_rewriter *sfemu_linuxthreads_init(void);

#endif
