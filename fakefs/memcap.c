/*
 * The memory of the engine's Lua states: a cap per state and one for all
 * states together.  Memory is only refused while a run is going on
 * (everything then runs under lua_pcall), so the engine's own bookkeeping
 * between runs never meets an allocation failure outside a protected call.
 * The time a run may take is common/lua_budget.c's (sandbox.c).
 *
 * A run that goes over a cap is stopped through its budget, so the error
 * names the fakeconfig's file and line and no pcall catches it; the
 * allocation that went over is still granted up to a quarter more than the
 * cap (Lua's "not enough memory" carries no position), and refused after.
 */
#include <stdlib.h>
#include "fakefs_internal.h"

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
        size_t total = __atomic_load_n(lim->total, __ATOMIC_RELAXED);
        if (lim->used + grow > lim->cap || total + grow > lim->total_cap) {
            if (!lim->refused) {
                lim->refused = 1;
                lua_budget_stop(lim->budget, "memory limit");
            }
            if (lim->used + grow > lim->cap + lim->cap / 4 ||
                total + grow > lim->total_cap + lim->total_cap / 4) {
                return NULL; /* Lua raises "not enough memory" in the run */
            }
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
