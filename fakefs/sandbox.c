/*
 * The engine's Lua states, where fakeconfigs and the fakefile plugin run:
 * common/lua_sandbox.c's restricted environment (text-only loading from
 * inside the rules tree, no io/os.execute/package), plus FAKEFILE_HOST
 * (hostfn.c) and the budget's hardened library functions (pcall, coroutines:
 * common/lua_budget.c; the string library's patterns poll the same budget);
 * print() goes to the engine's log.  Each state has its own budget and its
 * own memory account (memcap.c).
 */
#include <stdlib.h>
#include <string.h>
#include "fakefs_internal.h"
#include "path.h"

static void engine_print(void *ud, const char *line)
{
    fakefs_logf(ud, "lua: %s", line);
}

/* Is abs (already canonical) the rules tree or inside it?  *rel gets the
 * rest ("" for the tree itself). */
int fakefs_path_in_rules(struct fakefs_engine *e, const char *abs,
                         const char **rel)
{
    const char *rest = path_under(abs, e->rules_dir);
    if (rest && rel) {
        *rel = rest;
    }
    return rest != NULL;
}

int fakefs_vm_open(struct fakefs_engine *e, struct fakefs_vm *vm)
{
    /* the caps are set by each run (fakefs_run_begin) */
    vm->lim =
        (struct fakefs_limits){ .total = &e->mem_used, .budget = &vm->budget };
    vm->host = (struct lsb_host){ .root = e->rules_dir,
                                  .print = engine_print,
                                  .ud = e };
    vm->cfg_ref = vm->store_ref = LUA_NOREF;
    vm->mod_gen = 0;
    lua_State *L = lsb_new(fakefs_mem_alloc, &vm->lim, &vm->host);
    if (!L) {
        return -1;
    }
    lsb_push_base(L);
    lua_newtable(L);
    fakefs_hostfn_register(e, L, lua_gettop(L));
    lua_setfield(L, -2, "FAKEFILE_HOST");
    lua_pop(L, 1);
    const struct lua_budget_limits lim = { .max_insns = e->budget,
                                           .max_ms = e->time_ms,
                                           .who = "fakeconfig" };
    /* not one_thread: any FUSE worker may run a resource's calls */
    lua_budget_register(&vm->budget, L, &lim, 0);
    vm->L = L;
    return 0;
}

void fakefs_vm_close(struct fakefs_vm *vm)
{
    if (vm->L) {
        /* no Lua runs in lua_close: the sandbox refuses __gc */
        lua_budget_unregister(&vm->budget);
        lua_close(vm->L);
        vm->L = NULL;
    }
    free(vm->cfg_abs);
    vm->cfg_abs = NULL;
}

void fakefs_run_begin(struct fakefs_engine *e, struct fakefs_vm *vm)
{
    vm->lim.cap = e->vm_cap;
    vm->lim.total_cap = e->mem_cap;
    vm->lim.refused = 0;
    vm->lim.running = 1;
    lua_budget_enter(&vm->budget);
}

void fakefs_run_end(struct fakefs_vm *vm)
{
    lua_budget_leave(&vm->budget);
    vm->lim.running = 0;
}

int fakefs_sandbox_dofile(struct fakefs_engine *e, lua_State *L,
                          const char *abs)
{
    if (!fakefs_path_in_rules(e, abs, NULL)) {
        lua_pushfstring(L, "%s: outside the rules tree", abs);
        return -1;
    }
    if (lsb_dofile(L, abs, 1) != LUA_OK) {
        return -1;
    }
    lua_remove(L, -2); /* the file's environment */
    return 0;
}
