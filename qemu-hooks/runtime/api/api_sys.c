/*
 * c_do_syscall (the real syscall, never re-entering the rules),
 * c_get_timestamp, syscall names, and the read-only `sfemu` table that
 * carries the run's options to rules.
 */
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "api/api.h"
#include "core/options.h"
#include "core/realcall.h"
#include "core/rules.h"
#include "core/runtime.h"
#include "core/sandbox.h"
#include "core/syscall_names.h"
#include "trueroot/trueroot.h"

/* An argument that is not an integer: a float is truncated, nil is 0. */
static lua_Integer arg_slow(lua_State *L, int idx)
{
    if (lua_type(L, idx) == LUA_TNUMBER) {
        return (lua_Integer)lua_tonumber(L, idx);
    }
    if (!lua_isnoneornil(L, idx)) {
        luaL_argerror(L, idx, "expected an integer");
    }
    return 0;
}

static int c_do_syscall(lua_State *L)
{
    int64_t a[SFEMU_NARGS] = { 0 };
    int n = lua_gettop(L) - 1, isnum;
    int narrow = sfemu_rt.t->abi_bits == 32 ? 32 : 0;
    int num = (int)lua_tointegerx(L, 1, &isnum);

    if (!isnum) {
        num = (int)luaL_checkinteger(L, 1); /* raises the error */
    }
    n = n < SFEMU_NARGS ? n : SFEMU_NARGS; /* missing ones are 0 */
    for (int i = 0; i < n; i++) {
        int64_t v = lua_tointegerx(L, i + 2, &isnum);
        if (__builtin_expect(!isnum, 0)) {
            v = arg_slow(L, i + 2);
        }
        /* sfemu_abi_long, with the word size looked up once */
        a[i] = (int64_t)((uint64_t)v << narrow) >> narrow;
    }
    lua_pushinteger(L, sfemu_real_syscall(num, a));
    return 1;
}

static int c_get_timestamp(lua_State *L)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushinteger(L, ts.tv_sec);
    lua_pushinteger(L, ts.tv_nsec);
    return 2;
}

static int c_syscall_name(lua_State *L)
{
    lua_pushstring(L, sfemu_syscall_name((int)luaL_checkinteger(L, 1)));
    return 1;
}

static int c_syscall_num(lua_State *L)
{
    int n = sfemu_syscall_num(luaL_checkstring(L, 1));

    if (n < 0) {
        lua_pushnil(L);
    } else {
        lua_pushinteger(L, n);
    }
    return 1;
}

static int c_gettid(lua_State *L)
{
    lua_pushinteger(L, sfemu_rt.ops->gettid());
    return 1;
}

static const luaL_Reg sys_fns[] = {
    { "c_do_syscall", c_do_syscall },
    { "c_get_timestamp", c_get_timestamp },
    { "c_syscall_name", c_syscall_name },
    { "c_syscall_num", c_syscall_num },
    { "c_gettid", c_gettid },
    { NULL, NULL },
};

static void set_str(lua_State *L, const char *k, const char *v)
{
    if (v) {
        lua_pushstring(L, v);
        lua_setfield(L, -2, k);
    }
}

/* The read-only facts of the run, and every setting (core/options.c). */
void sfemu_api_sys_open(lua_State *L)
{
    const char *const *dirs;
    int n = sfemu_rules_dirs(&dirs);

    sfemu_sandbox_register(L, sys_fns);
    sfemu_sandbox_push_base(L);
    lua_newtable(L);
    set_str(L, "arch", sfemu_rt.t->arch);
    lua_pushinteger(L, sfemu_rt.t->abi_bits);
    lua_setfield(L, -2, "abi_bits");
    lua_pushboolean(L, sfemu_rt.t->big_endian);
    lua_setfield(L, -2, "big_endian");
    set_str(L, "exec_path", sfemu_rt.exec_path);
    set_str(L, "ld_prefix", sfemu_rt.t->ld_prefix);
    set_str(L, "cpu", sfemu_rt.t->cpu_model);
    lua_pushboolean(L, sfemu_trueroot_active);
    lua_setfield(L, -2, "true_root");
    sfemu_options_push_lua(L);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, dirs[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "rule_dirs");
    lua_setfield(L, -2, "sfemu");
    lua_pop(L, 1);
}
