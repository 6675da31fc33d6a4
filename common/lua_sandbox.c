/*
 * The restricted Lua environment (see lua_sandbox.h).  Code only ever runs
 * in environments built on the base table kept in the registry, so the real
 * globals (with io, os, package) are out of its reach.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lualib.h>

#include "lua_sandbox.h"
#include "path.h"

#define BASE_KEY "sfemu.base"
#define LOADED_KEY "sfemu.loaded"
#define HOST_KEY "sfemu.host"

static void *plain_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
}

static const struct lsb_host *host_of(lua_State *L)
{
    const struct lsb_host *h;

    lua_getfield(L, LUA_REGISTRYINDEX, HOST_KEY);
    h = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return h;
}

int lsb_in_root(const struct lsb_host *host, const char *resolved)
{
    return host && host->root && path_under(resolved, host->root);
}

/* Resolve a module or file name to a Lua file inside the rules tree (a
 * malloc'ed canonical path); raises a Lua error otherwise. */
static char *find_file(lua_State *L, const char *name, int module)
{
    const struct lsb_host *h = host_of(L);
    const char *root = h && h->root ? h->root : ".";
    const char *suffixes[] = { ".lua", "/init.lua", "" };
    char base[PATH_MAX], cand[PATH_MAX + 16];

    if (name[0] == '/') {
        snprintf(base, sizeof(base), "%s", name);
    } else {
        snprintf(base, sizeof(base), "%s/%s", root, name);
        /* "base.ai" -> "base/ai", as Lua's require; paths keep their dots */
        if (module && !strchr(name, '/')) {
            for (char *p = base + strlen(root) + 1; *p; p++) {
                if (*p == '.') {
                    *p = '/';
                }
            }
        }
    }
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++) {
        struct stat st;
        char *real;

        snprintf(cand, sizeof(cand), "%s%s", base, suffixes[i]);
        if (stat(cand, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        real = realpath(cand, NULL);
        if (!real) {
            continue;
        }
        if (!lsb_in_root(h, real)) {
            free(real);
            luaL_error(L, "'%s' is outside the rules tree", name);
        }
        return real;
    }
    luaL_error(L, "module or file '%s' not found inside the rules tree", name);
    return NULL;
}

static void new_env(lua_State *L)
{
    lua_newtable(L);
    lua_newtable(L);
    lsb_push_base(L);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
}

/* Loads path as text and gives it the environment on top of the stack
 * (which stays below the function or the error message). */
static int loadfile_env(lua_State *L, const char *path)
{
    int rc = luaL_loadfilex(L, path, "t");

    if (rc != LUA_OK) {
        return rc;
    }
    lua_pushvalue(L, -2);
    if (!lua_setupvalue(L, -2, 1)) {
        lua_pop(L, 1);
    }
    return LUA_OK;
}

int lsb_dofile(lua_State *L, const char *path, int nresults)
{
    int rc;

    new_env(L);                 /* env */
    rc = loadfile_env(L, path); /* env fn | env msg */
    if (rc == LUA_OK) {
        rc = lua_pcall(L, 0, nresults, 0);
    }
    if (rc != LUA_OK) {
        lua_remove(L, -2); /* msg */
    }
    return rc;
}

static int sb_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    char *path = find_file(L, name, 1);

    lua_getfield(L, LUA_REGISTRYINDEX, LOADED_KEY);
    lua_getfield(L, -1, path);
    if (!lua_isnil(L, -1)) {
        free(path);
        return 1;
    }
    lua_pop(L, 1);
    new_env(L);
    if (loadfile_env(L, path) != LUA_OK) {
        free(path);
        return lua_error(L);
    }
    lua_remove(L, -2);
    lua_pushstring(L, name);
    lua_pushstring(L, path);
    lua_call(L, 2, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, path);
    free(path);
    return 1;
}

static int sb_loadfile(lua_State *L)
{
    char *path = find_file(L, luaL_checkstring(L, 1), 0);
    int rc;

    if (lua_gettop(L) >= 3 && !lua_isnil(L, 3)) {
        lua_pushvalue(L, 3);
    } else {
        lsb_push_base(L);
    }
    rc = loadfile_env(L, path);
    free(path);
    if (rc != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    return 1;
}

static int sb_dofile(lua_State *L)
{
    int top = lua_gettop(L);
    char *path = find_file(L, luaL_checkstring(L, 1), 0);

    lsb_push_base(L);
    if (loadfile_env(L, path) != LUA_OK) {
        free(path);
        return lua_error(L);
    }
    free(path);
    lua_call(L, 0, LUA_MULTRET);
    return lua_gettop(L) - top - 1;
}

/* load(chunk [, name [, mode [, env]]]): text only, base environment. */
static int sb_load(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, "=(load)");
    int rc = luaL_loadbufferx(L, s, len, name, "t");

    if (rc != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (lua_gettop(L) >= 5 && !lua_isnone(L, 4)) {
        lua_pushvalue(L, 4);
    } else {
        lsb_push_base(L);
    }
    if (!lua_setupvalue(L, -2, 1)) {
        lua_pop(L, 1);
    }
    return 1;
}

static int sb_print(lua_State *L)
{
    const struct lsb_host *h = host_of(L);
    luaL_Buffer b;
    int n = lua_gettop(L);

    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1) {
            luaL_addchar(&b, '\t');
        }
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    if (h && h->print) {
        h->print(h->ud, lua_tostring(L, -1));
    }
    return 0;
}

/* os.getenv without secrets: names that look like credentials read as nil. */
static int sb_getenv(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    static const char *const secret[] = { "KEY",  "TOKEN",      "SECRET",
                                          "PASS", "CREDENTIAL", "AUTH" };
    char up[256];
    size_t i;

    for (i = 0; name[i] && i < sizeof(up) - 1; i++) {
        up[i] = (name[i] >= 'a' && name[i] <= 'z') ? name[i] - 32 : name[i];
    }
    up[i] = '\0';
    for (i = 0; i < sizeof(secret) / sizeof(*secret); i++) {
        if (strstr(up, secret[i])) {
            lua_pushnil(L);
            return 1;
        }
    }
    lua_pushstring(L, getenv(name));
    return 1;
}

static void copy_fields(lua_State *L, const char *lib, const char *const *keep,
                        const char *as)
{
    /* stack: base */
    lua_getglobal(L, lib);
    lua_newtable(L);
    for (; *keep; keep++) {
        lua_getfield(L, -2, *keep);
        lua_setfield(L, -2, *keep);
    }
    lua_setfield(L, -3, as);
    lua_pop(L, 1);
}

lua_State *lsb_new(lua_Alloc alloc, void *alloc_ud, const struct lsb_host *host)
{
    static const char *const base_fns[] = {
        "assert", "error",        "ipairs",         "next",     "pairs",
        "pcall",  "rawequal",     "rawget",         "rawlen",   "rawset",
        "select", "setmetatable", "getmetatable",   "tonumber", "tostring",
        "type",   "xpcall",       "collectgarbage", "_VERSION", NULL
    };
    static const char *const libs[] = { "string", "table",     "math",
                                        "utf8",   "coroutine", NULL };
    static const char *const os_keep[] = { "clock", "date", "difftime", "time",
                                           NULL };
    /* getinfo: the seed's idiom for finding the rules tree */
    static const char *const debug_keep[] = { "traceback", "getinfo", NULL };
    static const luaL_Reg opened[] = { { LUA_GNAME, luaopen_base },
                                       { LUA_STRLIBNAME, luaopen_string },
                                       { LUA_TABLIBNAME, luaopen_table },
                                       { LUA_MATHLIBNAME, luaopen_math },
                                       { LUA_UTF8LIBNAME, luaopen_utf8 },
                                       { LUA_COLIBNAME, luaopen_coroutine },
                                       { LUA_OSLIBNAME, luaopen_os },
                                       { LUA_DBLIBNAME, luaopen_debug },
                                       { NULL, NULL } };
    static const luaL_Reg sb_fns[] = {
        { "require", sb_require }, { "loadfile", sb_loadfile },
        { "dofile", sb_dofile },   { "load", sb_load },
        { "print", sb_print },     { NULL, NULL }
    };
    lua_State *L = lua_newstate(alloc ? alloc : plain_alloc, alloc_ud);

    if (!L) {
        return NULL;
    }
    lua_pushlightuserdata(L, (void *)host);
    lua_setfield(L, LUA_REGISTRYINDEX, HOST_KEY);
    for (const luaL_Reg *l = opened; l->name; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
    lua_newtable(L); /* base */
    for (const char *const *f = base_fns; *f; f++) {
        lua_getglobal(L, *f);
        lua_setfield(L, -2, *f);
    }
    for (const char *const *l = libs; *l; l++) {
        lua_getglobal(L, *l);
        lua_setfield(L, -2, *l);
    }
    copy_fields(L, "os", os_keep, "os");
    lua_getfield(L, -1, "os");
    lua_pushcfunction(L, sb_getenv);
    lua_setfield(L, -2, "getenv");
    lua_pop(L, 1);
    copy_fields(L, "debug", debug_keep, "debug");
    luaL_setfuncs(L, sb_fns, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "_G");
    lua_setfield(L, LUA_REGISTRYINDEX, BASE_KEY);
    lsb_forget_modules(L);
    return L;
}

void lsb_push_base(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, BASE_KEY);
}

void lsb_register(lua_State *L, const luaL_Reg *fns)
{
    lsb_push_base(L);
    luaL_setfuncs(L, fns, 0);
    lua_pop(L, 1);
}

void lsb_forget_modules(lua_State *L)
{
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LOADED_KEY);
}
