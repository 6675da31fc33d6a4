/*
 * The watchdog's c_* functions (docs/watchdog.md):
 *   c_get_ctx()                      -> this thread's ring, oldest first
 *   c_async_probe_http(host, ms)     -> probe id (> 0) or -errno, at once
 *   c_probe_result(id)               -> nil (pending) | ok, status, ms
 *   c_watchdog_suspend(on)           -> the previous state (boolean)
 *   c_wait_user_continue(prompt)     -> continued (boolean), how (string)
 *   c_watchdog_last_report([seen])   -> nil | {seq=, kind=, path=, tid=}
 *                                       (nil when no report is newer than seen)
 *   c_watchdog_take_report()         -> nil | {seq=, kind=, path=, tid=}
 *                                       (each report once per process)
 */
#include <errno.h>
#include <limits.h>

#include <lauxlib.h>

#include "api/api.h"
#include "watchdog/ctxring.h"
#include "watchdog/probe.h"
#include "core/runtime.h"
#include "core/sandbox.h"
#include "core/syscall_names.h"
#include "watchdog/watchdog.h"

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

/* One entry, with the field names of the JSON reports. */
static void push_ent(lua_State *L, const struct sfemu_ring_ent *e)
{
    const char *name = sfemu_syscall_name(e->num);
    int64_t sec, nsec;

    lua_createtable(L, 0, 14);
    set_int(L, "num", e->num);
    lua_pushstring(L, name ? name : "?");
    lua_setfield(L, -2, "name");
    lua_createtable(L, SFEMU_RING_ARGS, 0);
    for (int i = 0; i < SFEMU_RING_ARGS; i++) {
        lua_pushinteger(L, e->args[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "args");
    if (e->fd_arg >= 0) {
        set_int(L, "fd", (int32_t)e->args[(int)e->fd_arg]);
    }
    if (e->path_arg >= 0) {
        lua_pushstring(L, e->path);
        lua_setfield(L, -2, "path");
    }
    lua_pushboolean(L, e->done);
    lua_setfield(L, -2, "done");
    if (e->done) {
        set_int(L, "ret", e->ret);
        if (sfemu_is_err(e->ret) && sfemu_errno_name((int)-e->ret)) {
            lua_pushstring(L, sfemu_errno_name((int)-e->ret));
            lua_setfield(L, -2, "errno");
        }
        lua_pushboolean(L, e->intercepted);
        lua_setfield(L, -2, "intercepted");
        set_int(L, "dur_us", e->dur_ns / 1000);
    }
    set_int(L, "pc", (lua_Integer)e->pc);
    sfemu_mono_to_real(e->t_ns, &sec, &nsec);
    set_int(L, "sec", sec);
    set_int(L, "nsec", nsec);
}

static int c_get_ctx(lua_State *L)
{
    const struct sfemu_ring *r = sfemu_ring_peek();
    unsigned n = r ? r->count : 0;

    lua_createtable(L, (int)n, 0);
    for (unsigned i = 0; i < n; i++) {
        push_ent(L, sfemu_ring_at(r, i));
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int c_async_probe_http(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1);
    long ms = (long)luaL_optinteger(L, 2, 1000);
    long id = sfemu_probe_http_start(host, ms);

    lua_pushinteger(L, id > 0 ? id : sfemu_api_neg_errno((int)-id));
    return 1;
}

static int c_probe_result(lua_State *L)
{
    long id = (long)luaL_checkinteger(L, 1);
    int ok = 0, status = 0;
    long ms = 0;
    int rc = sfemu_probe_http_result(id, &ok, &status, &ms);

    if (rc == 0) {
        lua_pushnil(L);
        return 1;
    }
    if (rc < 0) {
        lua_pushboolean(L, 0);
        lua_pushinteger(L, sfemu_api_neg_errno(-rc));
        lua_pushinteger(L, 0);
        return 3;
    }
    lua_pushboolean(L, ok);
    lua_pushinteger(L, status > 0 ? status : sfemu_api_neg_errno(-status));
    lua_pushinteger(L, ms);
    return 3;
}

static int c_watchdog_suspend(lua_State *L)
{
    lua_pushboolean(L, sfemu_watch_suspend(lua_toboolean(L, 1)));
    return 1;
}

static int c_wait_user_continue(lua_State *L)
{
    const char *prompt = luaL_optstring(L, 1, "continue?");
    const char *how = "";
    int yes = sfemu_watch_wait_user(prompt, &how);

    lua_pushboolean(L, yes);
    lua_pushstring(L, how);
    return 2;
}

static void push_report(lua_State *L, unsigned seq, const char *kind,
                        const char *path, int tid)
{
    lua_createtable(L, 0, 4);
    set_int(L, "seq", seq);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, path);
    lua_setfield(L, -2, "path");
    set_int(L, "tid", tid);
}

/* Each report once per process, whichever thread's state asks first: the
 * threads' Lua states do not share a "seen" (entry.lua logs it once). */
static int c_watchdog_take_report(lua_State *L)
{
    char kind[32], path[PATH_MAX];
    int tid = 0;
    unsigned seq =
        sfemu_watch_take_report(kind, sizeof(kind), path, sizeof(path), &tid);

    if (!seq) {
        lua_pushnil(L);
    } else {
        push_report(L, seq, kind, path, tid);
    }
    return 1;
}

static int c_watchdog_last_report(lua_State *L)
{
    char kind[32], path[PATH_MAX];
    int tid = 0;
    unsigned seq = sfemu_watch_report_seq();

    /* c_watchdog_last_report(seen): nil unless newer than seen.  entry.lua
     * asks on every syscall, so the usual answer costs one atomic load. */
    if (!seq || (lua_isinteger(L, 1) && (unsigned)lua_tointeger(L, 1) == seq)) {
        lua_pushnil(L);
        return 1;
    }
    seq = sfemu_watch_last_report(kind, sizeof(kind), path, sizeof(path), &tid);
    if (!seq) {
        lua_pushnil(L);
        return 1;
    }
    push_report(L, seq, kind, path, tid);
    return 1;
}

static const luaL_Reg watchdog_fns[] = {
    { "c_get_ctx", c_get_ctx },
    { "c_async_probe_http", c_async_probe_http },
    { "c_probe_result", c_probe_result },
    { "c_watchdog_suspend", c_watchdog_suspend },
    { "c_wait_user_continue", c_wait_user_continue },
    { "c_watchdog_last_report", c_watchdog_last_report },
    { "c_watchdog_take_report", c_watchdog_take_report },
    { NULL, NULL },
};

void sfemu_api_watchdog_open(lua_State *L)
{
    sfemu_sandbox_register(L, watchdog_fns);
}
