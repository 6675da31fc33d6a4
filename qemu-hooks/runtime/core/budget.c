/*
 * The rule budget monitor: every 10 ms it looks at the live Lua states; a
 * state still inside the same Lua call as at the previous look gets a
 * count hook, and the hook aborts the call after $SFEMU_RULE_MAX_INSNS VM
 * instructions (default 20 million, about a fifth of a second).  Time spent
 * blocked in c_do_syscall executes no instruction and so is never counted.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include <lauxlib.h>

#include "core/options.h"
#include "core/budget.h"
#include "core/log.h"
#include "core/thread.h"

#define BUDGET_TICK_NS (10 * 1000 * 1000)
#define BUDGET_HOOK_EVERY 1000

extern pthread_mutex_t sfemu_luastate_lock;
extern struct sfemu_luastate *sfemu_luastate_list;

static long budget_max = 20 * 1000 * 1000;
int sfemu_budget_monitor_running;
static pthread_mutex_t monitor_lock = PTHREAD_MUTEX_INITIALIZER;

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    struct sfemu_luastate *c = sfemu_luastate_of(L);

    (void)ar;
    if (atomic_load(&c->armed_seq) != atomic_load(&c->call_seq)) {
        lua_sethook(L, NULL, 0, 0); /* armed for a call that has ended */
        return;
    }
    c->insns += BUDGET_HOOK_EVERY;
    if (c->insns >= budget_max) {
        luaL_error(L,
                   "rule exceeded its instruction budget (%d instructions, "
                   "SFEMU_RULE_MAX_INSNS)",
                   (int)budget_max);
    }
}

void sfemu_budget_disarm(struct sfemu_luastate *c)
{
    lua_sethook(c->L, NULL, 0, 0);
    atomic_store(&c->armed_seq, 0);
    c->insns = 0;
}

static void *budget_monitor(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec ts = { 0, BUDGET_TICK_NS };

        nanosleep(&ts, NULL);
        pthread_mutex_lock(&sfemu_luastate_lock);
        for (struct sfemu_luastate *c = sfemu_luastate_list; c; c = c->next) {
            unsigned seq = atomic_load(&c->call_seq);
            if (atomic_load(&c->in_call) && atomic_load(&c->armed_seq) == 0) {
                if (c->seen_seq == seq) { /* same call as last tick */
                    atomic_store(&c->armed_seq, seq);
                    lua_sethook(c->L, budget_hook, LUA_MASKCOUNT,
                                BUDGET_HOOK_EVERY);
                }
            }
            c->seen_seq = seq;
        }
        pthread_mutex_unlock(&sfemu_luastate_lock);
    }
    return NULL;
}

void sfemu_budget_init(void)
{
    budget_max = sfemu_opt_long(SFEMU_OPT_rule_max_insns);
}

void sfemu_budget_start_monitor(void)
{
    pthread_mutex_lock(&monitor_lock);
    if (!sfemu_budget_monitor_running) {
        if (sfemu_thread_start(budget_monitor, NULL) == 0) {
            sfemu_budget_monitor_running = 1;
        } else {
            sfemu_log("cannot start the rule budget monitor; runaway rules "
                      "will not be stopped");
        }
    }
    pthread_mutex_unlock(&monitor_lock);
}

void sfemu_budget_after_fork(void)
{
    pthread_mutex_init(&monitor_lock, NULL);
    sfemu_budget_monitor_running = 0;
}
