/*
 * The Lua budget monitor (see lua_budget.h): every 10 ms it looks at the
 * registered budgets; one still inside the same call as at its previous
 * look gets a count hook, which raises an error after max_insns VM
 * instructions.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include "helper_thread.h"
#include "lua_budget.h"

#define BUDGET_TICK_NS (10 * 1000 * 1000)
#define BUDGET_HOOK_EVERY 1000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct lua_budget *budgets; /* registered, under lock */
static pthread_once_t once = PTHREAD_ONCE_INIT;
int lua_budget_monitor_running;
static pthread_mutex_t monitor_lock = PTHREAD_MUTEX_INITIALIZER;
static const char budget_key = 'b'; /* registry key: the state's budget */

static struct lua_budget *budget_of(lua_State *L)
{
    struct lua_budget *b;

    lua_rawgetp(L, LUA_REGISTRYINDEX, &budget_key);
    b = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return b;
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    struct lua_budget *b = budget_of(L);
    unsigned seq;

    (void)ar;
    if (!b) {
        lua_sethook(L, NULL, 0, 0);
        return;
    }
    seq = atomic_load(&b->call_seq);
    if (atomic_load(&b->armed_seq) != seq) {
        /* Set for a call that has ended: count this one from here (its
         * leave disarms), so that it never runs unbudgeted. */
        atomic_store(&b->armed_seq, seq);
        b->insns = 0;
    }
    b->insns += BUDGET_HOOK_EVERY;
    if (b->insns >= b->max_insns) {
        luaL_error(L,
                   "%s exceeded its instruction budget (%I instructions%s%s)",
                   b->who, (lua_Integer)b->max_insns, b->setting ? ", " : "",
                   b->setting ? b->setting : "");
    }
}

void lua_budget_disarm(struct lua_budget *b)
{
    lua_sethook(b->L, NULL, 0, 0);
    atomic_store(&b->armed_seq, 0);
    b->insns = 0;
}

static void *monitor(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec ts = { 0, BUDGET_TICK_NS };

        nanosleep(&ts, NULL);
        pthread_mutex_lock(&lock);
        for (struct lua_budget *b = budgets; b; b = b->next) {
            unsigned seq = atomic_load(&b->call_seq);
            if (atomic_load(&b->in_call) && atomic_load(&b->armed_seq) == 0 &&
                b->seen_seq == seq) { /* the same call as at the last look */
                atomic_store(&b->armed_seq, seq);
                lua_sethook(b->L, budget_hook, LUA_MASKCOUNT,
                            BUDGET_HOOK_EVERY);
            }
            b->seen_seq = seq;
        }
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

void lua_budget_start_monitor(void)
{
    pthread_mutex_lock(&monitor_lock);
    if (!lua_budget_monitor_running) {
        static int said;
        int rc = sfemu_thread_start(monitor, NULL);
        if (rc == 0) {
            lua_budget_monitor_running = 1;
        } else if (!said++) {
            fprintf(stderr,
                    "sfemu: cannot start the Lua budget monitor (%s); "
                    "runaway Lua calls will not be stopped\n",
                    strerror(-rc));
        }
    }
    pthread_mutex_unlock(&monitor_lock);
}

static void atfork_prepare(void)
{
    pthread_mutex_lock(&monitor_lock);
    pthread_mutex_lock(&lock);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&lock);
    pthread_mutex_unlock(&monitor_lock);
}

/* Only the forking thread lives on: no monitor yet, and the budgets of
 * states that only other threads ran are dropped. */
static void atfork_child(void)
{
    pthread_t self = pthread_self();

    pthread_mutex_init(&lock, NULL);
    pthread_mutex_init(&monitor_lock, NULL);
    lua_budget_monitor_running = 0;
    for (struct lua_budget **p = &budgets; *p;) {
        if ((*p)->one_thread && !pthread_equal((*p)->owner, self)) {
            *p = (*p)->next;
        } else {
            p = &(*p)->next;
        }
    }
}

static void init_once(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

void lua_budget_register(struct lua_budget *b, lua_State *L, long max_insns,
                         const char *who, const char *setting, int one_thread)
{
    pthread_once(&once, init_once);
    b->L = L;
    b->max_insns = max_insns;
    b->who = who;
    b->setting = setting;
    b->one_thread = one_thread;
    b->owner = pthread_self();
    lua_pushlightuserdata(L, b);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &budget_key);
    pthread_mutex_lock(&lock);
    b->next = budgets;
    budgets = b;
    pthread_mutex_unlock(&lock);
}

void lua_budget_unregister(struct lua_budget *b)
{
    pthread_mutex_lock(&lock);
    for (struct lua_budget **p = &budgets; *p; p = &(*p)->next) {
        if (*p == b) {
            *p = b->next;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
}
