/*
 * Guest threads' Lua states.  Each guest thread gets its own Lua state on its
 * first hooked syscall (rules keep per-thread globals, as the V2 seed says);
 * a forked child keeps its parent's state (fork copies it).  The state is
 * closed when the guest thread exits (pthread key destructor).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "core/options.h"
#include "core/luastate.h"
#include "core/log.h"
#include "core/rules.h"
#include "core/runtime.h"
#include "core/sandbox.h"
#include "core/syscall_names.h"

__thread struct sfemu_luastate *sfemu_luastate_tls;
static pthread_key_t state_key;
static pthread_once_t state_once = PTHREAD_ONCE_INIT;

static void (*open_bindings)(lua_State *L);

static void state_free(struct sfemu_luastate *c)
{
    if (c->L) {
        lua_budget_unregister(&c->budget);
        lua_close(c->L);
    }
    for (int i = 0; i < c->nfiles; i++) {
        free(c->files[i].path);
    }
    free(c->files);
    free(c->slot);
    free(c);
}

static void state_destroy(void *p)
{
    struct sfemu_luastate *c = p;

    if (sfemu_luastate_tls == c) {
        sfemu_luastate_tls = NULL;
    }
    state_free(c);
}

/* Only the forking thread lives on in the child (the budgets of the other
 * threads' states are dropped by lua_budget.c). */
static void state_atfork_child(void)
{
    if (sfemu_luastate_tls) {
        sfemu_luastate_tls->tid = sfemu_rt.ops->gettid();
    }
}

static void state_once_init(void)
{
    pthread_key_create(&state_key, state_destroy);
    pthread_atfork(NULL, NULL, state_atfork_child);
}

static struct sfemu_luastate *state_create(void)
{
    struct sfemu_luastate *c = calloc(1, sizeof(*c));
    int n = sfemu_syscall_count();
    const struct lua_budget_limits lim = {
        .max_insns = sfemu_opt_long(SFEMU_OPT_rule_max_insns),
        .max_ms = sfemu_opt_long(SFEMU_OPT_rule_max_ms),
        .who = "rule",
        .insns_setting = "SFEMU_RULE_MAX_INSNS",
        .ms_setting = "SFEMU_RULE_MAX_MS",
    };

    if (!c) {
        return NULL;
    }
    c->mem_limit = (size_t)sfemu_opt_long(SFEMU_OPT_rule_max_mem);
    c->slot = malloc(sizeof(int) * (n ? n : 1));
    c->L = sfemu_sandbox_new(&c->mem_used);
    if (!c->slot || !c->L) {
        sfemu_log("cannot create a Lua state for thread %d",
                  sfemu_rt.ops->gettid());
        state_free(c);
        return NULL;
    }
    c->slot_base = sfemu_syscall_base();
    c->nslots = n;
    for (int i = 0; i < n; i++) {
        c->slot[i] = SFEMU_SLOT_UNRESOLVED;
    }
    c->entry_file = c->finish_file = SFEMU_SLOT_UNRESOLVED;
    c->tid = sfemu_rt.ops->gettid();
    lua_budget_register(&c->budget, c->L, &lim, 1);
    if (open_bindings) {
        open_bindings(c->L);
    }
    sfemu_rules_state_init(c);
    return c;
}

struct sfemu_luastate *sfemu_luastate_scratch(void)
{
    return state_create();
}

void sfemu_luastate_scratch_free(struct sfemu_luastate *c)
{
    if (c) {
        state_free(c);
    }
}

void sfemu_luastate_set_bindings(void (*open)(lua_State *L))
{
    open_bindings = open;
}

/* The slow path of sfemu_luastate_get: the thread's first hooked syscall. */
struct sfemu_luastate *sfemu_luastate_create(void)
{
    struct sfemu_luastate *c;

    pthread_once(&state_once, state_once_init);
    c = state_create();
    if (!c) {
        return NULL;
    }
    sfemu_luastate_tls = c;
    pthread_setspecific(state_key, c);
    return c;
}
