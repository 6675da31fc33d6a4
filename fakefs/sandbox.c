/*
 * The engine's Lua state, where fakeconfigs and the fakefile plugin run:
 * common/lua_sandbox.c's restricted environment (text-only loading from
 * inside the rules tree, no io/os.execute/package), plus FAKEFILE_HOST
 * (hostfn.c); print() goes to the engine's log.
 */
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

int fakefs_sandbox_init(struct fakefs_engine *e)
{
    e->sb_host = (struct lsb_host){ .root = e->rules_dir,
                                    .print = engine_print,
                                    .ud = e };
    e->L = lsb_new(NULL, NULL, &e->sb_host);
    if (!e->L) {
        return -1;
    }
    lsb_push_base(e->L);
    lua_newtable(e->L);
    fakefs_hostfn_register(e, lua_gettop(e->L));
    lua_setfield(e->L, -2, "FAKEFILE_HOST");
    lua_pop(e->L, 1);
    e->mod_gen = 0;
    return 0;
}

void fakefs_sandbox_reset_modules(struct fakefs_engine *e)
{
    lsb_forget_modules(e->L);
}

int fakefs_sandbox_dofile(struct fakefs_engine *e, const char *abs)
{
    if (!fakefs_path_in_rules(e, abs, NULL)) {
        lua_pushfstring(e->L, "%s: outside the rules tree", abs);
        return -1;
    }
    if (lsb_dofile(e->L, abs, 1) != LUA_OK) {
        return -1;
    }
    lua_remove(e->L, -2); /* the file's environment */
    return 0;
}
