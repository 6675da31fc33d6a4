/*
 * The rules' Lua states: common/lua_sandbox.c's restricted environment
 * (rules and AI-generated rules are code), with a memory limit per state and
 * print() going to the log.  Host files only through c_open_host.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/envfile.h"
#include "core/log.h"
#include "lua_sandbox.h"
#include "core/options.h"
#include "core/runtime.h"
#include "core/sandbox.h"

static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    size_t *acct = ud; /* [0] used, [1] limit */

    if (!ptr) {
        osize = 0;
    }
    if (nsize == 0) {
        free(ptr);
        acct[0] -= osize;
        return NULL;
    }
    if (nsize > osize && acct[0] + (nsize - osize) > acct[1]) {
        return NULL; /* Lua raises "not enough memory" in the rule */
    }
    ptr = realloc(ptr, nsize);
    if (ptr) {
        acct[0] += nsize - osize;
    }
    return ptr;
}

static void sandbox_print(void *ud, const char *line)
{
    (void)ud;
    sfemu_log("%s", line);
}

/* The AI env file (core/envfile.h) holds secrets (OPENAI_API_KEY): no rule
 * reads it, whatever the way (require, loadfile, c_rules_file, c_open_host),
 * generated rules included. */
int sfemu_path_is_secret(const char *resolved)
{
    const char *p = sfemu_envfile_path();
    char real[PATH_MAX];

    return p && *p && realpath(p, real) && !strcmp(real, resolved);
}

/* The rules tree is fixed for the process once options are parsed. */
static struct lsb_host rules_host = { .print = sandbox_print,
                                      .deny = sfemu_path_is_secret };

static const struct lsb_host *host(void)
{
    rules_host.root = sfemu_opt_str(SFEMU_OPT_rules);
    return &rules_host;
}

int sfemu_path_in_rules(const char *resolved)
{
    return lsb_in_root(host(), resolved);
}

int sfemu_sandbox_dofile(lua_State *L, const char *path)
{
    return lsb_dofile(L, path, 0);
}

lua_State *sfemu_sandbox_new(size_t *acct)
{
    lua_State *L = lsb_new(sandbox_alloc, acct, host());

    if (!L) {
        return NULL;
    }
    lsb_push_base(L);
    lua_newtable(L);
    lua_setfield(L, -2, "shared"); /* state shared by all rule files */
    lua_pop(L, 1);
    /* every other table of the base (string, os, ...) is each file's own */
    lsb_share(L, "shared");
    lsb_share(L, "sfemu");
    return L;
}

void sfemu_sandbox_push_base(lua_State *L)
{
    lsb_push_base(L);
}

void sfemu_sandbox_register(lua_State *L, const luaL_Reg *fns)
{
    lsb_register(L, fns);
}
