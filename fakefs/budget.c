/*
 * The limits of the engine's Lua states: an instruction budget for every
 * run (a handler, a fakeconfig load, fakefile.init) and a memory cap per
 * state and for all states together.
 *
 * The budget counts VM instructions (a count hook) and pattern-matching
 * steps (pattern.c), and a run also has a wall-clock deadline (a loop of
 * slow host calls runs few instructions).  Once exhausted it stays exhausted until the run ends:
 * the hook fires on every instruction, and the sandbox's pcall, xpcall and
 * coroutine.resume pass the error on instead of catching it, so a handler
 * cannot loop around pcall.  Memory is only refused while a run is armed
 * (everything then runs under lua_pcall), so the engine's own bookkeeping
 * between runs never meets an allocation failure outside a protected call.
 *
 * fakefs_budget_* and fakefs_mem_* are the boundary a common budget (shared
 * with the qemu runtime) can replace.
 */
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "fakefs_internal.h"

#define HOOK_STEP 1000 /* instructions between two hook calls */

static struct fakefs_limits *limits_of(lua_State *L)
{
    return *(struct fakefs_limits **)lua_getextraspace(L);
}

void fakefs_limits_attach(lua_State *L, struct fakefs_limits *lim)
{
    *(struct fakefs_limits **)lua_getextraspace(L) = lim;
}

/* ------------------------------------------------------------ memory */

void *fakefs_mem_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct fakefs_limits *lim = ud;
    if (!ptr) {
        osize = 0;
    }
    if (nsize == 0) {
        free(ptr);
        lim->used -= osize;
        __atomic_sub_fetch(lim->total, osize, __ATOMIC_RELAXED);
        return NULL;
    }
    if (nsize > osize && lim->running) {
        size_t grow = nsize - osize;
        if (lim->used + grow > lim->cap ||
            __atomic_load_n(lim->total, __ATOMIC_RELAXED) + grow >
                lim->total_cap) {
            lim->refused = 1;
            return NULL; /* Lua raises "not enough memory" in the run */
        }
    }
    void *p = realloc(ptr, nsize);
    if (p) {
        lim->used = lim->used - osize + nsize;
        if (nsize > osize) {
            __atomic_add_fetch(lim->total, nsize - osize, __ATOMIC_RELAXED);
        } else {
            __atomic_sub_fetch(lim->total, osize - nsize, __ATOMIC_RELAXED);
        }
    }
    return p;
}

/* ------------------------------------------------------------ budget */

static void note_where(lua_State *L, lua_Debug *ar, struct fakefs_limits *lim)
{
    lim->where[0] = 0;
    if (ar && lua_getinfo(L, "Sl", ar) && ar->currentline > 0) {
        snprintf(lim->where, sizeof lim->where, "%s:%d: ", ar->short_src,
                 ar->currentline);
    }
}

static int past(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec ||
           (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    struct fakefs_limits *lim = limits_of(L);
    if (!lim || !lim->running) {
        lua_sethook(L, NULL, 0, 0); /* a coroutine left from an old run */
        return;
    }
    if (!lim->exhausted) {
        lim->budget -= lua_gethookcount(L);
        if (lim->budget > 0 && !past(&lim->deadline) && !lim->refused) {
            if (lua_gethookcount(L) != HOOK_STEP) {
                lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_STEP);
            }
            return;
        }
        /* a state at its memory cap would spend the rest of the run in
         * emergency collections: that ends the run too */
        lim->exhausted = 1;
        note_where(L, ar, lim);
    }
    /* from now on every instruction fails, whoever catches the error */
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    lua_pushfstring(L, "%sfakeconfig %s", lim->where,
                    lim->refused ? "exceeded its memory limit"
                                 : "ran too long (budget exhausted)");
    lua_error(L);
}

void fakefs_budget_start(lua_State *L, long insns, long ms)
{
    struct fakefs_limits *lim = limits_of(L);
    lim->budget = insns;
    clock_gettime(CLOCK_MONOTONIC, &lim->deadline);
    lim->deadline.tv_sec += ms / 1000;
    lim->deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (lim->deadline.tv_nsec >= 1000000000L) {
        lim->deadline.tv_sec++;
        lim->deadline.tv_nsec -= 1000000000L;
    }
    lim->exhausted = 0;
    lim->refused = 0;
    lim->running = 1;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_STEP);
}

void fakefs_budget_stop(lua_State *L)
{
    struct fakefs_limits *lim = limits_of(L);
    lim->running = 0;
    lua_sethook(L, NULL, 0, 0);
}

int fakefs_budget_exhausted(lua_State *L)
{
    struct fakefs_limits *lim = limits_of(L);
    return lim && lim->exhausted;
}

void fakefs_budget_charge(lua_State *L, long steps)
{
    struct fakefs_limits *lim = limits_of(L);
    if (!lim || !lim->running) {
        return;
    }
    if (!lim->exhausted) {
        lim->budget -= steps;
        if (lim->budget > 0 && !past(&lim->deadline)) {
            return;
        }
        lim->exhausted = 1;
        lua_Debug ar;
        note_where(L, lua_getstack(L, 1, &ar) ? &ar : NULL, lim);
    }
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "%sfakeconfig ran too long (budget exhausted in a pattern)",
               lim->where);
}

/* ------------------------------------------------------------ guards */

/* pcall/xpcall/coroutine.resume that do not catch a runaway. */
static int pcall_done(lua_State *L, int status, lua_KContext first)
{
    if (status != LUA_OK && status != LUA_YIELD && fakefs_budget_exhausted(L)) {
        return lua_error(L);
    }
    lua_pushboolean(L, status == LUA_OK || status == LUA_YIELD);
    lua_insert(L, (int)first);
    return lua_gettop(L) - (int)first + 1;
}

static int guarded_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    int st = lua_pcallk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, 1, pcall_done);
    return pcall_done(L, st, 1);
}

static int guarded_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2); /* f msgh a... msgh */
    lua_insert(L, 1);    /* msgh f msgh a... */
    lua_remove(L, 3);    /* msgh f a... */
    int st = lua_pcallk(L, n - 2, LUA_MULTRET, 1, 2, pcall_done);
    return pcall_done(L, st, 2);
}

static int guarded_resume(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    if (!lua_toboolean(L, 1) && fakefs_budget_exhausted(L)) {
        lua_pushvalue(L, 2);
        return lua_error(L);
    }
    return lua_gettop(L);
}

void fakefs_budget_guard(lua_State *L)
{
    static const luaL_Reg fns[] = { { "pcall", guarded_pcall },
                                    { "xpcall", guarded_xpcall },
                                    { NULL, NULL } };
    lsb_register(L, fns);
    lsb_push_base(L);
    if (lua_getfield(L, -1, "coroutine") == LUA_TTABLE) {
        lua_getfield(L, -1, "resume");
        lua_pushcclosure(L, guarded_resume, 1);
        lua_setfield(L, -2, "resume");
    }
    lua_pop(L, 2);
}
