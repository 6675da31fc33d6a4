/*
 * The instruction budget of a Lua call, one mechanism for the rule runtime
 * (a Lua state per guest thread, a call on every hooked syscall) and the
 * fakefile engine (handlers called from FUSE threads).
 *
 * A call that ends quickly pays an atomic increment, two stores and a load
 * (lua_budget_enter/leave, inline): a monitor thread looks at every registered
 * budget each 10 ms, and only a call it finds still running at its next
 * look gets a count hook, which raises an error once the call has executed
 * max_insns VM instructions from then.  Time spent blocked outside Lua (a
 * syscall the rule makes) executes no instruction and is never counted.
 *
 * The hook finds its budget through the Lua registry, so it can be set on
 * any lua_State sharing that registry (a coroutine), and the check it makes
 * is one place to add more limits (a deadline) later.
 */
#ifndef SFEMU_LUA_BUDGET_H
#define SFEMU_LUA_BUDGET_H

#include <pthread.h>
#include <stdatomic.h>
#include <lua.h>

struct lua_budget {
    /* Set by lua_budget_register. */
    lua_State *L;
    long max_insns;
    const char *who;     /* what the error names: "rule", "handler" */
    const char *setting; /* how to change max_insns, or NULL */
    int one_thread;      /* L runs on the registering thread only */
    pthread_t owner;

    atomic_uint call_seq; /* bumped by every call */
    atomic_int in_call;
    atomic_uint armed_seq; /* the call the hook counts for, 0: none */
    unsigned seen_seq;     /* the monitor's last look */
    long insns;            /* counted since the hook was set (hook only) */
    struct lua_budget *next;
};

/* Puts b (zeroed by the caller) under the monitor.  one_thread: only the
 * calling thread runs L, so a forked child (where only the forking thread
 * lives on) drops b unless it is the forking thread's. */
void lua_budget_register(struct lua_budget *b, lua_State *L, long max_insns,
                         const char *who, const char *setting, int one_thread);
/* Takes b from the monitor: before lua_close(b->L) or freeing b. */
void lua_budget_unregister(struct lua_budget *b);

extern int lua_budget_monitor_running;
void lua_budget_start_monitor(void);
void lua_budget_disarm(struct lua_budget *b);

/* Around every call that is to be budgeted (not nested). */
static inline void lua_budget_enter(struct lua_budget *b)
{
    if (__builtin_expect(!lua_budget_monitor_running, 0)) {
        lua_budget_start_monitor(); /* first call, or in a forked child */
    }
    atomic_fetch_add_explicit(&b->call_seq, 1, memory_order_relaxed);
    atomic_store_explicit(&b->in_call, 1, memory_order_relaxed);
}

static inline void lua_budget_leave(struct lua_budget *b)
{
    atomic_store_explicit(&b->in_call, 0, memory_order_relaxed);
    if (atomic_load_explicit(&b->armed_seq, memory_order_relaxed)) {
        lua_budget_disarm(b);
    }
}

#endif
