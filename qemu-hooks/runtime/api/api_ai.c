/*
 * AI repair's c_* functions (docs/ai-repair.md), for rules_examples/base/
 * ai.lua; the work is in ai/:
 *   c_ai_settings()                 -> {enabled=, cmd=, timeout_s=, ...}
 *                                      (settings only: never a secret)
 *   c_ai_take_claim()               -> nil | run_dir, run_id, kind: the
 *                                      attempt a re-exec handed to this
 *                                      process (given once)
 *   c_ai_begin(kind)                -> run_id, run_dir | nil, -errno
 *                                      (-EBUSY: one repair in flight)
 *   c_ai_end()                      -> the attempt in flight is over
 *   c_ai_snapshot(run_dir, run_id, kind, detail, report|nil, sc|nil)
 *                                   -> path | nil, err   sc: {num=, args=,
 *                                      ret=}
 *   c_ai_run_tool(run_dir)          (RUN_DIR/snapshot.json, RUN_DIR/patch)
 *                                   -> status, code, reason, seconds
 *   c_ai_fixes(run_dir, "fix"|"observe") -> {paths} written by the tool
 *   c_ai_check_rule(path)           -> name | nil, why
 *   c_ai_install(run_dir, path, name) -> dest | nil, why
 *   c_ai_rollback(run_dir)          -> files undone
 *   c_ai_export(run_dir, run_id)    -> dir, files | nil, -errno
 *   c_ai_write(run_dir, name, text) -> true | nil, -errno
 *   c_ai_record(run_dir, json)      -> true | nil, -errno: merged into
 *                                      verdict.json (top-level keys)
 *   c_ai_pending(run_dir|nil)       -> the attempt in validation (for a
 *                                      fatal signal)
 *   c_ai_retry()                    -> true: once finish returns, the
 *                                      syscall runs again through its rule
 *   c_ai_retry_result()             -> the last retry's result, once, or nil
 *   c_ai_reexec(run_dir, run_id, kind) -> only on refusal: false, why
 *   c_ai_now_ms()                   -> monotonic milliseconds
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "ai/ai.h"
#include "api/api.h"
#include "core/envfile.h"
#include "core/errnames.h"
#include "core/log.h"
#include "core/hooks.h"
#include "core/options.h"
#include "core/syscall_names.h"
#include "core/sandbox.h"
#include "watchdog/ctxring.h"

static atomic_int claim_given;

static void set_str(lua_State *L, const char *k, const char *v)
{
    if (v) {
        lua_pushstring(L, v);
        lua_setfield(L, -2, k);
    }
}

static void set_num(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, int v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

/* {[-guest errno] = "NAME"} for SFEMU_AI_REPAIR_ERRNOS: finish compares a
 * result with one table lookup.  An unknown name is logged once. */
static void push_errno_set(lua_State *L, const char *list)
{
    char name[32];
    static atomic_int said;

    lua_newtable(L);
    while (list && *list) {
        size_t n = strcspn(list, ", ");
        int num;
        if (n && n < sizeof(name)) {
            memcpy(name, list, n);
            name[n] = '\0';
            num = sfemu_errno_num(name);
            if (num > 0) {
                lua_pushstring(L, name);
                lua_rawseti(L, -2, -num);
            } else if (!atomic_exchange(&said, 1)) {
                sfemu_log("ai: SFEMU_AI_REPAIR_ERRNOS: '%s' is no errno name "
                          "of this guest: ignored",
                          name);
            }
        }
        list += n + (list[n] != '\0');
    }
}

static int c_ai_settings(lua_State *L)
{
    lua_createtable(L, 0, 16);
    set_bool(L, "enabled", sfemu_ai_enabled());
    set_bool(L, "auto_continue",
             sfemu_opt_long(SFEMU_OPT_ai_auto_continue) > 0 ||
                 sfemu_opt_long(SFEMU_OPT_auto_ai) > 0);
    set_str(L, "cmd", sfemu_opt_str(SFEMU_OPT_ai_cmd));
    set_bool(L, "mcp", sfemu_opt_long(SFEMU_OPT_ai_mcp_enable) > 0);
    set_str(L, "env_path", sfemu_envfile_path());
    set_num(L, "timeout_s", sfemu_opt_long(SFEMU_OPT_ai_timeout_s));
    set_bool(L, "on_error", sfemu_opt_long(SFEMU_OPT_ai_repair_on_error) > 0);
    set_str(L, "syscalls", sfemu_opt_str(SFEMU_OPT_ai_repair_syscalls));
    set_str(L, "errnos", sfemu_opt_str(SFEMU_OPT_ai_repair_errnos));
    set_bool(L, "reexec_on_exit_fix",
             sfemu_opt_long(SFEMU_OPT_ai_reexec_on_exit_fix) > 0);
    set_num(L, "reexec_max", sfemu_opt_long(SFEMU_OPT_reexec_max));
    set_num(L, "reexec_count", sfemu_ai_reexec_count());
    set_num(L, "validate_ms", sfemu_opt_long(SFEMU_OPT_ai_validate_ms));
    set_num(L, "validate_syscalls",
            sfemu_opt_long(SFEMU_OPT_ai_validate_syscalls));
    set_str(L, "probe_http", sfemu_opt_str(SFEMU_OPT_probe_http));
    push_errno_set(L, sfemu_opt_str(SFEMU_OPT_ai_repair_errnos));
    lua_setfield(L, -2, "errno_set");
    return 1;
}

static int c_ai_take_claim(lua_State *L)
{
    const char *id, *kind, *dir = sfemu_ai_claimed(&id, &kind);

    if (!dir || atomic_exchange(&claim_given, 1)) {
        lua_pushnil(L);
        return 1;
    }
    sfemu_ai_flight_take(); /* its validation is the repair in flight */
    lua_pushstring(L, dir);
    lua_pushstring(L, id);
    lua_pushstring(L, kind);
    return 3;
}

static int c_ai_begin(lua_State *L)
{
    const char *kind = luaL_checkstring(L, 1);
    char id[SFEMU_AI_ID_MAX], dir[PATH_MAX];
    int rc;

    if (!sfemu_ai_flight_take()) {
        lua_pushnil(L);
        lua_pushinteger(L, sfemu_api_neg_errno(EBUSY));
        return 2;
    }
    rc = sfemu_ai_begin(kind, id, sizeof(id), dir, sizeof(dir));
    if (rc < 0) {
        sfemu_ai_flight_done();
        return sfemu_api_push_fail(L, rc);
    }
    lua_pushstring(L, id);
    lua_pushstring(L, dir);
    return 2;
}

static int c_ai_end(lua_State *L)
{
    (void)L;
    sfemu_ai_flight_done();
    return 0;
}

static int64_t field_int(lua_State *L, int t, const char *k)
{
    int64_t v;

    lua_getfield(L, t, k);
    v = (int64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return v;
}

static int c_ai_snapshot(lua_State *L)
{
    struct sfemu_ai_syscall sc = { 0 };
    struct sfemu_ai_trigger t = {
        .run_id = luaL_checkstring(L, 2),
        .kind = luaL_checkstring(L, 3),
        .detail = luaL_optstring(L, 4, ""),
        .report = luaL_optstring(L, 5, NULL),
    };
    const char *dir = luaL_checkstring(L, 1);
    char path[PATH_MAX];
    int rc;

    if (!sfemu_ai_is_run_dir(dir)) {
        return luaL_argerror(L, 1, "not an AI run directory");
    }
    if (lua_istable(L, 6)) {
        sc.num = (int)field_int(L, 6, "num");
        lua_getfield(L, 6, "args");
        for (int i = 0; i < 6 && lua_istable(L, -1); i++) {
            lua_rawgeti(L, -1, i + 1);
            sc.args[i] = (int64_t)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        lua_getfield(L, 6, "ret");
        sc.has_ret = lua_isinteger(L, -1);
        sc.ret = (int64_t)lua_tointeger(L, -1);
        lua_pop(L, 1);
        t.sc = &sc;
    }
    rc = sfemu_ai_snapshot(dir, &t, path, sizeof(path));
    if (rc < 0) {
        return sfemu_api_push_fail(L, rc);
    }
    lua_pushstring(L, path);
    return 1;
}

/* A rule file the tool wrote: RUN_DIR/patch/{fix,observe}/syscall/NAME.lua
 * of an attempt's directory.  Rules (AI-generated ones among them) must
 * not use these functions to read or copy other host files. */
static int is_patch_file(const char *path)
{
    char dir[PATH_MAX];
    const char *p = strstr(path, "/patch/");
    size_t n;

    if (!p || strstr(path, "/..") || (size_t)(p - path) >= sizeof(dir)) {
        return 0;
    }
    n = (size_t)(p - path);
    memcpy(dir, path, n);
    dir[n] = '\0';
    p += strlen("/patch/");
    if (strncmp(p, "fix/syscall/", 12) && strncmp(p, "observe/syscall/", 16)) {
        return 0;
    }
    p = strchr(p, '/') + strlen("/syscall/");
    return sfemu_ai_is_run_dir(dir) && *p && !strchr(p, '/');
}

static int c_ai_run_tool(lua_State *L)
{
    struct sfemu_ai_tool_result r;
    const char *dir = luaL_checkstring(L, 1);
    char snap[PATH_MAX + 32], patch[PATH_MAX + 8];

    if (!sfemu_ai_is_run_dir(dir)) {
        return luaL_argerror(L, 1, "not an AI run directory");
    }
    snprintf(snap, sizeof(snap), "%s/snapshot.json", dir);
    snprintf(patch, sizeof(patch), "%s/patch", dir);
    sfemu_ai_run_tool(snap, patch, dir, &r);
    lua_pushstring(L, r.status);
    lua_pushinteger(L, r.code);
    lua_pushstring(L, r.reason);
    lua_pushnumber(L, r.secs);
    return 4;
}

static int c_ai_fixes(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    const char *what = luaL_optstring(L, 2, "fix");
    char p[PATH_MAX];
    DIR *d;
    struct dirent *e;
    int n = 0;

    if (!sfemu_ai_is_run_dir(dir) ||
        (strcmp(what, "fix") && strcmp(what, "observe"))) {
        return luaL_argerror(L, 1, "not an AI run directory and fix|observe");
    }
    snprintf(p, sizeof(p), "%s/patch/%s/syscall", dir, what);
    lua_newtable(L);
    d = opendir(p);
    while (d && (e = readdir(d))) {
        char f[PATH_MAX + 256];
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(f, sizeof(f), "%s/%s", p, e->d_name);
        lua_pushstring(L, f);
        lua_rawseti(L, -2, ++n);
    }
    if (d) {
        closedir(d);
    }
    return 1;
}

static int c_ai_check_rule(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char name[64], why[256];

    if (!is_patch_file(path)) {
        return luaL_argerror(L, 1, "not a rule file of an AI run's patch/");
    }
    if (sfemu_ai_check_rule(L, path, name, sizeof(name), why, sizeof(why))) {
        lua_pushnil(L);
        lua_pushstring(L, why);
        return 2;
    }
    lua_pushstring(L, name);
    return 1;
}

static int c_ai_install(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    const char *src = luaL_checkstring(L, 2);
    const char *name = luaL_checkstring(L, 3);
    char dest[PATH_MAX], why[PATH_MAX + 64];

    if (!sfemu_ai_is_run_dir(dir)) {
        return luaL_argerror(L, 1, "not an AI run directory");
    }
    if (!is_patch_file(src) || strncmp(src, dir, strlen(dir))) {
        return luaL_argerror(L, 2, "not a rule file of this run's patch/");
    }
    if (sfemu_syscall_num(name) < 0) {
        return luaL_argerror(L, 3, "not a syscall name of this guest");
    }
    if (sfemu_ai_install(dir, src, name, dest, sizeof(dest), why,
                         sizeof(why))) {
        lua_pushnil(L);
        lua_pushstring(L, why);
        return 2;
    }
    lua_pushstring(L, dest);
    return 1;
}

static int c_ai_rollback(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);

    if (!sfemu_ai_is_run_dir(dir)) {
        return luaL_argerror(L, 1, "not an AI run directory");
    }
    lua_pushinteger(L, sfemu_ai_rollback(dir));
    return 1;
}

static int c_ai_export(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    char dest[PATH_MAX];
    int n;

    if (!sfemu_ai_is_run_dir(dir)) {
        return luaL_argerror(L, 1, "not an AI run directory");
    }
    n = sfemu_ai_export(dir, luaL_checkstring(L, 2), dest, sizeof(dest));
    if (n < 0) {
        return sfemu_api_push_fail(L, n);
    }
    lua_pushstring(L, dest);
    lua_pushinteger(L, n);
    return 2;
}

static int c_ai_write(lua_State *L)
{
    int rc = sfemu_ai_write(luaL_checkstring(L, 1), luaL_checkstring(L, 2),
                            luaL_checkstring(L, 3));

    if (rc < 0) {
        return sfemu_api_push_fail(L, rc);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int c_ai_record(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    int rc;

    if (!sfemu_ai_is_run_dir(dir)) {
        return luaL_argerror(L, 1, "not an AI run directory");
    }
    rc = sfemu_ai_record(dir, luaL_checkstring(L, 2));
    if (rc < 0) {
        return sfemu_api_push_fail(L, rc);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int c_ai_pending(lua_State *L)
{
    const char *dir = luaL_optstring(L, 1, NULL);

    sfemu_ai_pending(dir && sfemu_ai_is_run_dir(dir) ? dir : NULL);
    return 0;
}

static int c_ai_retry(lua_State *L)
{
    lua_pushboolean(L, sfemu_hooks_request_retry() == 0);
    return 1;
}

static int c_ai_retry_result(lua_State *L)
{
    int64_t ret;

    if (!sfemu_hooks_retry_result(&ret)) {
        lua_pushnil(L);
    } else {
        lua_pushinteger(L, ret);
    }
    return 1;
}

static int c_ai_reexec(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    char why[PATH_MAX + 64];

    if (!sfemu_ai_is_run_dir(dir)) {
        return luaL_argerror(L, 1, "not an AI run directory");
    }
    sfemu_ai_reexec(dir, luaL_checkstring(L, 2), luaL_checkstring(L, 3), why,
                    sizeof(why));
    lua_pushboolean(L, 0);
    lua_pushstring(L, why);
    return 2;
}

static int c_ai_now_ms(lua_State *L)
{
    lua_pushinteger(L, sfemu_mono_ns() / 1000000);
    return 1;
}

static const luaL_Reg ai_fns[] = {
    { "c_ai_settings", c_ai_settings },
    { "c_ai_take_claim", c_ai_take_claim },
    { "c_ai_begin", c_ai_begin },
    { "c_ai_end", c_ai_end },
    { "c_ai_snapshot", c_ai_snapshot },
    { "c_ai_run_tool", c_ai_run_tool },
    { "c_ai_fixes", c_ai_fixes },
    { "c_ai_check_rule", c_ai_check_rule },
    { "c_ai_install", c_ai_install },
    { "c_ai_rollback", c_ai_rollback },
    { "c_ai_export", c_ai_export },
    { "c_ai_write", c_ai_write },
    { "c_ai_record", c_ai_record },
    { "c_ai_pending", c_ai_pending },
    { "c_ai_retry", c_ai_retry },
    { "c_ai_retry_result", c_ai_retry_result },
    { "c_ai_reexec", c_ai_reexec },
    { "c_ai_now_ms", c_ai_now_ms },
    { NULL, NULL },
};

void sfemu_api_ai_open(lua_State *L)
{
    sfemu_sandbox_register(L, ai_fns);
}
