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

#endif
