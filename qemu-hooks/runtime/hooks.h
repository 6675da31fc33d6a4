/* The two call sites' entry points and the real syscall as rules see it. */
#ifndef SFEMU_HOOKS_H
#define SFEMU_HOOKS_H

#include <stdint.h>
#include "sfemu/host.h"

/* The real syscall, without rules but with true-root path handling. */
int64_t sfemu_real_syscall(int num, const int64_t args[SFEMU_NARGS]);

#endif
