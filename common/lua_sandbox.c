/*
 * The restricted Lua environment (see lua_sandbox.h).  Code only ever runs
 * in environments copied from the base table kept in the registry, so the
 * real globals (with io, os, package) are out of its reach, and so is the
 * base itself: what one file changes in its environment (a global, _G.x,
 * string.format, getmetatable("").__index) no other file sees.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lualib.h>

#include "lua_budget.h"
#include "lua_sandbox.h"
#include "path.h"

#define BASE_KEY "sfemu.base"
#define LOADED_KEY "sfemu.loaded"
#define HOST_KEY "sfemu.host"
#define SHARED_KEY "sfemu.shared" /* names of the base's shared tables */

/* The patched copy of Lua's string library (common/meson.build). */
int lsb_luaopen_string(lua_State *L);

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
    return host && host->root && path_under(resolved, host->root) &&
           !(host->deny && host->deny(resolved));
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

static int sb_load(lua_State *L);
static int sb_loadfile(lua_State *L);
static int sb_dofile(lua_State *L);
static int sb_getmetatable(lua_State *L);

/* Is the key at idx the name of a table the base shares on purpose? */
static int shared_name(lua_State *L, int idx)
{
    int shared;

    if (lua_type(L, idx) != LUA_TSTRING) {
        return 0;
    }
    idx = lua_absindex(L, idx);
    lua_getfield(L, LUA_REGISTRYINDEX, SHARED_KEY);
    lua_pushvalue(L, idx);
    shared = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    return shared;
}

/* Replaces the table on top with a shallow copy of it. */
static void copy_top(lua_State *L)
{
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, -3)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    lua_remove(L, -2);
}

/* A file's environment: the base's values, with copies of its tables (but
 * the shared ones), _G, and load/loadfile/dofile/getmetatable of its own. */
static void new_env(lua_State *L)
{
    static const luaL_Reg own[] = { { "load", sb_load },
                                    { "loadfile", sb_loadfile },
                                    { "dofile", sb_dofile },
                                    { NULL, NULL } };
    int env;

    lsb_push_base(L);
    lua_newtable(L);
    env = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, env - 1)) { /* base env k v */
        if (lua_type(L, -2) == LUA_TSTRING &&
            !strcmp(lua_tostring(L, -2), "_G")) {
            lua_pop(L, 1); /* set below */
            continue;
        }
        if (lua_type(L, -1) == LUA_TTABLE && !shared_name(L, -2)) {
            copy_top(L);
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, env);
    }
    lua_remove(L, env - 1); /* env */
    env--;
    lua_pushvalue(L, env);
    lua_setfield(L, env, "_G");
    for (const luaL_Reg *f = own; f->name; f++) {
        lua_pushvalue(L, env);
        lua_pushcclosure(L, f->func, 1);
        lua_setfield(L, env, f->name);
    }
    /* what getmetatable("") gives this file: its own string table */
    lua_createtable(L, 0, 1);
    lua_getfield(L, env, "string");
    lua_setfield(L, -2, "__index");
    lua_pushcclosure(L, sb_getmetatable, 1);
    lua_setfield(L, env, "getmetatable");
}

/* The environment code loaded by the calling file gets by default: that
 * file's (an upvalue), or the base for the base's own functions. */
static void push_default_env(lua_State *L)
{
    if (lua_type(L, lua_upvalueindex(1)) == LUA_TTABLE) {
        lua_pushvalue(L, lua_upvalueindex(1));
    } else {
        lsb_push_base(L);
    }
}

/* getmetatable, but a string's metatable is the file's own stand-in:
 * the real one (shared by every file) is out of reach. */
static int sb_getmetatable(lua_State *L)
{
    luaL_checkany(L, 1);
    if (lua_type(L, 1) == LUA_TSTRING &&
        lua_type(L, lua_upvalueindex(1)) == LUA_TTABLE) {
        lua_pushvalue(L, lua_upvalueindex(1));
        return 1;
    }
    if (!lua_getmetatable(L, 1)) {
        lua_pushnil(L);
        return 1;
    }
    luaL_getmetafield(L, 1, "__metatable");
    return 1;
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
        rc = lua_budget_pcall(L, 0, nresults, 0);
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
        push_default_env(L);
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

    push_default_env(L);
    if (loadfile_env(L, path) != LUA_OK) {
        free(path);
        return lua_error(L);
    }
    free(path);
    lua_call(L, 0, LUA_MULTRET);
    return lua_gettop(L) - top - 1;
}

/* load(chunk [, name [, mode [, env]]]): text only, by default in the
 * calling file's environment. */
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
        push_default_env(L);
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

/* os.getenv without secrets: names that look like credentials read as nil.
 * The whole name is looked at (getenv reads it up to its first NUL). */
static int sb_getenv(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    static const char *const secret[] = { "KEY",  "TOKEN",      "SECRET",
                                          "PASS", "CREDENTIAL", "AUTH" };

    for (size_t i = 0; i < sizeof(secret) / sizeof(*secret); i++) {
        if (strcasestr(name, secret[i])) {
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
                                       { LUA_STRLIBNAME, lsb_luaopen_string },
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
    lua_budget_harden_libs(L);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, SHARED_KEY);
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

void lsb_share(lua_State *L, const char *name)
{
    lua_getfield(L, LUA_REGISTRYINDEX, SHARED_KEY);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

const char *lsb_error_text(lua_State *L, int idx, char *buf, size_t cap)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: return lua_tostring(L, idx);
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            snprintf(buf, cap, "%lld", (long long)lua_tointeger(L, idx));
        } else {
            snprintf(buf, cap, "%.14g", (double)lua_tonumber(L, idx));
        }
        return buf;
    default:
        snprintf(buf, cap, "(error object is a %s value)",
                 luaL_typename(L, idx));
        return buf;
    }
}

void lsb_forget_modules(lua_State *L)
{
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LOADED_KEY);
}
