/*
 * What the runtime learns about a rule's function when it loads it, so that
 * calling it costs no more than it must: how many arguments it can see,
 * whether it does nothing at all (then it is never called), and, for a C
 * function used as a whole rule (`do_syscall = c_fake_syscall`), a check in
 * C that tells it would return nothing (run the real syscall) without
 * entering Lua.
 */
#ifndef SFEMU_RULEFN_H
#define SFEMU_RULEFN_H

#include <stdint.h>

#include <lua.h>

#include "sfemu/host.h"

/* Nonzero: the rule, called with these arguments, would return nothing. */
typedef int (*sfemu_rule_declines)(int num, const int64_t a[SFEMU_NARGS]);

struct sfemu_rule_fn {
    int nparams; /* arguments it can see (INT_MAX: vararg or C) */
    int empty;   /* its body is empty: calling it changes nothing */
    sfemu_rule_declines declines; /* or NULL */
};

/* A C binding that works as a whole rule, with its check (at start-up). */
void sfemu_rulefn_register(lua_CFunction fn, sfemu_rule_declines declines);
/* The check registered for fn, or NULL. */
sfemu_rule_declines sfemu_rulefn_declines_of(lua_CFunction fn);
/* Inspects the function at idx. */
void sfemu_rulefn_inspect(lua_State *L, int idx, struct sfemu_rule_fn *out);

#endif
