/*
 * The restricted Lua environment fakeconfigs and the plugin run in: no io,
 * no os.execute/io.popen, no package/loadlib, no load of binary chunks; a
 * require() that loads .lua files only from inside the rules tree.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>
#include "fakefs_internal.h"

static const char *const base_globals[] = {
    "assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall", "select",
    "tonumber", "tostring", "type", "rawget", "rawset", "rawequal", "rawlen",
    "setmetatable", "getmetatable", "string", "table", "math", "utf8",
    "_VERSION", NULL
};

static struct fakefs_engine *engine_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* Is abs (already canonical) inside the rules tree?  *rel gets the rest. */
int fakefs_path_in_rules(struct fakefs_engine *e, const char *abs, const char **rel)
{
    size_t n = strlen(e->rules_dir);
    if (strncmp(abs, e->rules_dir, n) != 0)
        return 0;
    if (rel)
        *rel = abs + n;
    return 1;
}

static int l_print(lua_State *L)
{
    struct fakefs_engine *e = engine_of(L);
    luaL_Buffer b;
    int n = lua_gettop(L);
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    fakefs_logf(e, "lua: %s", lua_tostring(L, -1));
    return 0;
}

/* Candidate files for a module name: X.lua then X/init.lua. */
static int resolve_module(struct fakefs_engine *e, const char *name, char *out)
{
    char base[PATH_MAX], cand[PATH_MAX + 16];
    if (name[0] == '/') {
        if (strlen(name) >= sizeof base)
            return -ENAMETOOLONG;
        strcpy(base, name);
    } else if (strchr(name, '/')) {
        if (snprintf(base, sizeof base, "%s%s", e->rules_dir, name) >= (int)sizeof base)
            return -ENAMETOOLONG;
    } else {
        /* dotted module name relative to the rules tree */
        if (snprintf(base, sizeof base, "%s%s", e->rules_dir, name) >= (int)sizeof base)
            return -ENAMETOOLONG;
        for (char *p = base + strlen(e->rules_dir); *p; p++)
            if (*p == '.')
                *p = '/';
    }
    const char *suffixes[] = { ".lua", "/init.lua" };
    for (int i = 0; i < 2; i++) {
        snprintf(cand, sizeof cand, "%s%s", base, suffixes[i]);
        if (realpath(cand, out) && fakefs_path_in_rules(e, out, NULL))
            return 0;
    }
    return -ENOENT;
}

static int l_require(lua_State *L)
{
    struct fakefs_engine *e = engine_of(L);
    const char *name = luaL_checkstring(L, 1);
    char abs[PATH_MAX];
    if (resolve_module(e, name, abs) < 0)
        return luaL_error(L, "require: module '%s' not found inside the rules tree", name);
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->modules_ref);
    if (lua_getfield(L, -1, abs) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    /* mark as loading to break cycles */
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, abs);
    if (fakefs_sandbox_dofile(e, abs) != 0) {
        lua_pushnil(L);
        lua_setfield(L, -3, abs);
        return lua_error(L);
    }
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, abs);
    return 1;
}

/* A limited load(): text chunks only, always in the sandbox. */
static int l_load(lua_State *L)
{
    struct fakefs_engine *e = engine_of(L);
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *chunkname = luaL_optstring(L, 2, "=(load)");
    if (luaL_loadbufferx(L, s, len, chunkname, "t") != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->base_ref);
    if (!lua_setupvalue(L, -2, 1))
        lua_pop(L, 1);
    return 1;
}

int fakefs_sandbox_init(struct fakefs_engine *e)
{
    lua_State *L = e->L;
    luaL_requiref(L, "_G", luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 1);
    luaL_requiref(L, LUA_DBLIBNAME, luaopen_debug, 1);
    lua_pop(L, 7);

    lua_newtable(L); /* base env */
    for (int i = 0; base_globals[i]; i++) {
        lua_getglobal(L, base_globals[i]);
        lua_setfield(L, -2, base_globals[i]);
    }
    /* os: time only */
    lua_newtable(L);
    lua_getglobal(L, "os");
    const char *osf[] = { "time", "clock", "date", "difftime", NULL };
    for (int i = 0; osf[i]; i++) {
        lua_getfield(L, -1, osf[i]);
        lua_setfield(L, -3, osf[i]);
    }
    lua_pop(L, 1);
    lua_setfield(L, -2, "os");
    /* debug: getinfo and traceback (the seed's rules_dir idiom) */
    lua_newtable(L);
    lua_getglobal(L, "debug");
    lua_getfield(L, -1, "getinfo");
    lua_setfield(L, -3, "getinfo");
    lua_getfield(L, -1, "traceback");
    lua_setfield(L, -3, "traceback");
    lua_pop(L, 1);
    lua_setfield(L, -2, "debug");

    lua_pushlightuserdata(L, e);
    lua_pushcclosure(L, l_print, 1);
    lua_setfield(L, -2, "print");
    lua_pushlightuserdata(L, e);
    lua_pushcclosure(L, l_require, 1);
    lua_setfield(L, -2, "require");
    lua_pushlightuserdata(L, e);
    lua_pushcclosure(L, l_load, 1);
    lua_setfield(L, -2, "load");

    lua_newtable(L);
    fakefs_hostfn_register(e, lua_gettop(L));
    lua_setfield(L, -2, "FAKEFILE_HOST");

    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "_G");
    e->base_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    /* Remove the dangerous parts from the real globals too: nothing but the
     * sandbox runs in this state, but be thorough. */
    lua_pushnil(L); lua_setglobal(L, "dofile");
    lua_pushnil(L); lua_setglobal(L, "loadfile");
    lua_pushnil(L); lua_setglobal(L, "os");

    lua_newtable(L);
    e->modules_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    e->mod_gen = 0;
    return 0;
}

void fakefs_sandbox_reset_modules(struct fakefs_engine *e)
{
    luaL_unref(e->L, LUA_REGISTRYINDEX, e->modules_ref);
    lua_newtable(e->L);
    e->modules_ref = luaL_ref(e->L, LUA_REGISTRYINDEX);
}

int fakefs_sandbox_dofile(struct fakefs_engine *e, const char *abs)
{
    lua_State *L = e->L;
    if (!fakefs_path_in_rules(e, abs, NULL)) {
        lua_pushfstring(L, "%s: outside the rules tree", abs);
        return -1;
    }
    if (luaL_loadfilex(L, abs, "t") != LUA_OK)
        return -1;
    /* fresh environment whose misses fall back to the base environment */
    lua_newtable(L);
    lua_newtable(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->base_ref);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    if (!lua_setupvalue(L, -2, 1))
        lua_pop(L, 1);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK)
        return -1;
    return 0;
}
