/*
 * Around every hooked guest syscall (sfemu_rt_syscall, sfemu/host.h): the
 * observers, entry.lua, the syscall's rule, the real syscall, finish.lua.
 */
#ifndef SFEMU_HOOKS_H
#define SFEMU_HOOKS_H

/* Once the syscall names are known. */
void sfemu_hooks_init(void);

/* The guest threads of this process (1 + its live clone(CLONE_VM) threads,
 * as seen through the hooks): the plain exit of the last one ends it. */
int sfemu_guest_threads(void);

#include <stdint.h>

/* From a rule running in finish: once finish returns, the syscall runs
 * again through its rule as the rules are then (a fix just installed), and
 * that result goes to the guest (AI repair's retry in place).  0, or -1
 * outside a rule call. */
int sfemu_hooks_request_retry(void);
/* The result of the last retry on this thread, once: 1 with *ret, or 0. */
int sfemu_hooks_retry_result(int64_t *ret);

#endif
