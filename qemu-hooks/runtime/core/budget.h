/*
 * Instruction budget for rules.  Short calls pay nothing: a monitor thread
 * notices a call that has run for a while and only then arms a Lua count
 * hook, which aborts the call once it has executed the budget.
 */
#ifndef SFEMU_BUDGET_H
#define SFEMU_BUDGET_H

#include "core/luastate.h"

void sfemu_budget_init(void);
void sfemu_budget_start_monitor(void);
void sfemu_budget_after_fork(void);

extern int sfemu_budget_monitor_running;

static inline void sfemu_budget_enter(struct sfemu_luastate *c)
{
    if (__builtin_expect(!sfemu_budget_monitor_running, 0)) {
        sfemu_budget_start_monitor(); /* first call, or in a forked child */
    }
    atomic_fetch_add_explicit(&c->call_seq, 1, memory_order_relaxed);
    atomic_store_explicit(&c->in_call, 1, memory_order_relaxed);
}

void sfemu_budget_disarm(struct sfemu_luastate *c);

static inline void sfemu_budget_leave(struct sfemu_luastate *c)
{
    atomic_store_explicit(&c->in_call, 0, memory_order_relaxed);
    if (atomic_load_explicit(&c->armed_seq, memory_order_relaxed)) {
        sfemu_budget_disarm(c);
    }
}

#endif
