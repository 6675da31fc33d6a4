/*
 * The engine's Lua states, where fakeconfigs and the fakefile plugin run:
 * common/lua_sandbox.c's restricted environment (text-only loading from
 * inside the rules tree, no io/os.execute/package), plus FAKEFILE_HOST
 * (hostfn.c), the budget's guards (budget.c) and the counted pattern
 * functions (pattern.c); print() goes to the engine's log.  Each state has
 * its own memory account.
 */
#include <stdlib.h>
#include <string.h>
#include "fakefs_internal.h"

static void engine_print(void *ud, const char *line)
{
    fakefs_logf(ud, "lua: %s", line);
}

/* Is abs (already canonical) inside the rules tree?  *rel gets the rest. */
int fakefs_path_in_rules(struct fakefs_engine *e, const char *abs,
                         const char **rel)
{
    size_t n = strlen(e->rules_dir);
    if (strncmp(abs, e->rules_dir, n) != 0) {
        return 0;
    }
    if (rel) {
        *rel = abs + n;
    }
    return 1;
}

int fakefs_vm_open(struct fakefs_engine *e, struct fakefs_vm *vm)
{
    vm->lim = (struct fakefs_limits){ .cap = e->vm_cap,
                                      .total = &e->mem_used,
                                      .total_cap = e->mem_cap };
    vm->host = (struct lsb_host){ .root = e->rules_dir,
                                  .print = engine_print,
                                  .ud = e };
    vm->cfg_ref = vm->store_ref = LUA_NOREF;
    vm->mod_gen = 0;
    lua_State *L = lsb_new(fakefs_mem_alloc, &vm->lim, &vm->host);
    if (!L) {
        return -1;
    }
    fakefs_limits_attach(L, &vm->lim);
    lsb_push_base(L);
    lua_newtable(L);
    fakefs_hostfn_register(e, L, lua_gettop(L));
    lua_setfield(L, -2, "FAKEFILE_HOST");
    lua_pop(L, 1);
    fakefs_budget_guard(L);
    fakefs_patterns_register(L);
    vm->L = L;
    return 0;
}

void fakefs_vm_close(struct fakefs_vm *vm)
{
    if (vm->L) {
        /* finalizers run Lua code too: under a budget */
        fakefs_budget_start(vm->L, 10000000, 1000);
        lua_close(vm->L);
        vm->L = NULL;
    }
    free(vm->cfg_abs);
    vm->cfg_abs = NULL;
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
