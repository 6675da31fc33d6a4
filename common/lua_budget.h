/*
 * The budget of a Lua call, one mechanism for the rule runtime (a Lua state
 * per guest thread, a call on every hooked syscall) and the fakefile engine
 * (handlers called from FUSE threads).
 *
 * A call that ends quickly pays an atomic increment, two stores and a load
 * (lua_budget_enter/leave, inline): a monitor thread looks at every registered
 * budget each 10 ms, and only a call it finds still running at its next look
 * is armed.  From then on the call is stopped with an error once it has
 * executed max_insns VM instructions (a count hook) or used max_ms of CPU
 * time (the monitor reads the calling thread's CPU clock).  Time spent
 * blocked outside Lua (a syscall the rule makes) uses no CPU and executes no
 * instruction, so it is never counted.
 *
 * Once the budget has stopped a call, the error cannot be caught: pcall,
 * xpcall and the coroutine functions raise it again, and the hook raises it
 * at every instruction, until the call returns.  lua_budget_harden_libs puts
 * in the library functions that make this hold (coroutines, pcall, table.move,
 * collectgarbage, setmetatable's __gc); common/lua_sandbox.c's string library
 * polls the budget inside pattern matching (lua_budget_poll).
 */
#ifndef SFEMU_LUA_BUDGET_H
#define SFEMU_LUA_BUDGET_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <lua.h>

struct lua_budget_frame; /* a coroutine being resumed (lua_budget.c) */

/* What a call may use once armed, and what the errors name. */
struct lua_budget_limits {
    long max_insns;            /* VM instructions */
    long max_ms;               /* ms of CPU time, 0: no limit */
    const char *who;           /* "rule", "handler" */
    const char *insns_setting; /* how to change max_insns, or NULL */
    const char *ms_setting;    /* how to change max_ms, or NULL */
};

struct lua_budget {
    /* Set by lua_budget_register. */
    lua_State *L;
    struct lua_budget_limits lim;
    int one_thread; /* L runs on the registering thread only */
    pthread_t owner;
    atomic_int clock;     /* CPU clock of the thread running the calls */
    atomic_int has_clock; /* clock is set */

    atomic_uint call_seq; /* bumped by every call */
    atomic_int in_call;
    atomic_uint armed_seq;   /* the call the hook counts for, 0: none */
    atomic_uint expired_seq; /* a call out of CPU time (the monitor) */
    atomic_uint stopped_seq; /* a call stopped by lua_budget_stop */
    const char *stop_reason; /* its reason ("memory limit (64 MiB)") */
    unsigned fired_seq;      /* the call whose budget error was raised */
    int fired_why;
    long insns; /* counted since the hook was set (hook only) */

    /* The monitor's own. */
    unsigned seen_seq;  /* call at its last look */
    unsigned timed_seq; /* call cpu_start belongs to */
    long long cpu_start;

    /* The coroutines being resumed, innermost first: the monitor sets the
     * hook on each of them too. */
    pthread_mutex_t co_lock;
    struct lua_budget_frame *frames;

    struct lua_budget *next;
};

/* Puts b (zeroed by the caller) under the monitor.  one_thread: only the
 * calling thread runs L, so a forked child (where only the forking thread
 * lives on) drops b unless it is the forking thread's. */
void lua_budget_register(struct lua_budget *b, lua_State *L,
                         const struct lua_budget_limits *lim, int one_thread);
/* Takes b from the monitor: before lua_close(b->L) or freeing b. */
void lua_budget_unregister(struct lua_budget *b);

extern int lua_budget_monitor_running;
void lua_budget_start_monitor(void);
void lua_budget_disarm(struct lua_budget *b);
void lua_budget_note_thread(struct lua_budget *b);

/* Around every call that is to be budgeted (not nested). */
static inline void lua_budget_enter(struct lua_budget *b)
{
    if (__builtin_expect(!lua_budget_monitor_running, 0)) {
        lua_budget_start_monitor(); /* first call, or in a forked child */
    }
    if (__builtin_expect(!b->one_thread, 0)) {
        lua_budget_note_thread(b); /* whose CPU time the call uses */
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

/* lua_pcall under L's budget (a budget registered for L's state), unless a
 * budgeted call is already running: loading a file, a plugin's init. */
int lua_budget_pcall(lua_State *L, int nargs, int nresults, int msgh);

/* Raises the budget's error if the running call has been stopped (its
 * budget fired or its CPU time is over): for C code that works long without
 * executing a VM instruction (pattern matching). */
void lua_budget_poll(lua_State *L);
/* Stops the running call of b from outside the VM (an allocator over its
 * cap): from its next instruction on it fails as if its budget had run out,
 * with "WHO exceeded its REASON" (reason: a static string). */
void lua_budget_stop(struct lua_budget *b, const char *reason);
/* 1 if the running call has been stopped by its budget: an error the caller
 * must pass on rather than treat as the callee's own failure. */
int lua_budget_stopped(lua_State *L);

/* Replaces, in L's global tables, the library functions a runaway could
 * hide in: pcall, xpcall, coroutine.resume/wrap/close (the budget reaches
 * every coroutine and its error passes through), table.move (polls),
 * setmetatable (no __gc: a finalizer runs where no budget can stop it) and
 * collectgarbage (no "stop" or tuning: the memory cap needs the collector).
 * Call it after opening the libraries, before copying them anywhere. */
void lua_budget_harden_libs(lua_State *L);

#endif
