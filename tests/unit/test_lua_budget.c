/*
 * Unit test of common/lua_budget.c with real Lua 5.4 states (the libraries
 * hardened by lua_budget_harden_libs, the patched string library): every
 * kind of runaway call is stopped with its error and the next call runs;
 * short and blocked calls are not stopped, the hook is gone after a call,
 * the hardened functions keep Lua's behaviour, and a forked child still has
 * a monitor.
 */
#include <lauxlib.h>
#include <lualib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "lua_budget.h"

int lsb_luaopen_string(lua_State *L);

static int c_sleep_ms(lua_State *L)
{
    long ms = (long)luaL_checkinteger(L, 1);
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
    return 0;
}

static lua_State *new_state(void)
{
    lua_State *L = luaL_newstate();

    luaL_openlibs(L);
    /* the patched string library instead of Lua's */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushnil(L);
    lua_setfield(L, -2, LUA_STRLIBNAME);
    lua_pop(L, 1);
    luaL_requiref(L, LUA_STRLIBNAME, lsb_luaopen_string, 1);
    lua_pop(L, 1);
    lua_budget_harden_libs(L);
    lua_register(L, "sleep_ms", c_sleep_ms);
    return L;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs code as one budgeted call; LUA_OK or the error code, msg gets the
 * error. */
static int run(struct lua_budget *b, const char *code, char *msg, size_t cap)
{
    lua_State *L = b->L;
    int rc = luaL_loadstring(L, code);

    if (rc == LUA_OK) {
        lua_budget_enter(b);
        rc = lua_pcall(L, 0, 0, 0);
        lua_budget_leave(b);
    }
    snprintf(msg, cap, "%s",
             rc == LUA_OK          ? ""
             : lua_isstring(L, -1) ? lua_tostring(L, -1)
                                   : "(not a string)");
    lua_settop(L, 0);
    return rc;
}

/* A runaway: stopped by the budget (its error, in time), and the state runs
 * a normal call right after. */
static void stopped(struct lua_budget *b, const char *what, const char *code,
                    const char *want)
{
    char msg[512];
    double t0 = now_s();
    int rc = run(b, code, msg, sizeof(msg));
    double took = now_s() - t0;

    check(rc == LUA_ERRRUN && strstr(msg, want) && took < 10,
          "%s is stopped (%.2f s): %s", what, took, msg);
    rc = run(b, "local ok, e = pcall(error, 'x') assert(not ok and e == 'x')",
             msg, sizeof(msg));
    check(rc == LUA_OK && lua_gethook(b->L) == NULL,
          "after %s, the next call runs (%s)", what, msg);
}

/* A call that runs to its end. */
static void runs(struct lua_budget *b, const char *what, const char *code)
{
    char msg[512];
    int rc = run(b, code, msg, sizeof(msg));

    check(rc == LUA_OK, "%s (%s)", what, msg);
}

/* A call that fails with want in its error. */
static void fails(struct lua_budget *b, const char *what, const char *code,
                  const char *want)
{
    char msg[512];
    int rc = run(b, code, msg, sizeof(msg));

    check(rc == LUA_ERRRUN && strstr(msg, want), "%s: %s", what, msg);
}

/* The same in a forked child, where the monitor must start anew. */
static void fails_in_child(struct lua_budget *b, const char *what,
                           const char *code, const char *want)
{
    char msg[512];
    pid_t pid;
    int st;

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        alarm(20); /* no monitor: killed, and the check fails */
        int rc = run(b, code, msg, sizeof(msg));
        _exit(rc == LUA_ERRRUN && strstr(msg, want) ? 0 : 1);
    }
    check(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
              WEXITSTATUS(st) == 0,
          "%s", what);
}

int main(void)
{
    static const struct lua_budget_limits rule_lim = {
        .max_insns = 2000000,
        .max_ms = 300,
        .who = "rule",
        .insns_setting = "SFEMU_RULE_MAX_INSNS",
        .ms_setting = "SFEMU_RULE_MAX_MS",
    };
    static const struct lua_budget_limits handler_lim = { .max_insns = 1000000,
                                                          .max_ms = 300,
                                                          .who = "handler" };
    struct lua_budget rule = { 0 }, handler = { 0 };
    char msg[512];
    int rc;

    rule.L = new_state();
    handler.L = new_state();
    lua_budget_register(&rule, rule.L, &rule_lim, 1);
    lua_budget_register(&handler, handler.L, &handler_lim, 0);

    rc = run(&rule, "local x = 0 for i = 1, 1000 do x = x + i end", msg,
             sizeof(msg));
    check(rc == LUA_OK && lua_gethook(rule.L) == NULL &&
              atomic_load(&rule.armed_seq) == 0,
          "a short call runs, and no hook is left set");

    stopped(&rule, "a loop", "while true do end",
            "rule exceeded its instruction budget (2000000 instructions, "
            "SFEMU_RULE_MAX_INSNS)");
    stopped(&handler, "a handler's loop", "while true do end",
            "handler exceeded its instruction budget (1000000 "
            "instructions)");

    /* Coroutines: each has its own hook. */
    stopped(&rule, "a loop in a coroutine",
            "coroutine.resume(coroutine.create(function() while true do end "
            "end))",
            "instruction budget");
    run(&rule, "co = coroutine.create(function() while true do end end)", msg,
        sizeof(msg));
    stopped(&rule, "a coroutine made by an earlier call",
            "coroutine.resume(co)", "instruction budget");
    stopped(&rule, "a loop in coroutine.wrap",
            "coroutine.wrap(function() while true do end end)()",
            "instruction budget");
    stopped(&rule, "a loop across nested coroutines",
            "local inner = coroutine.wrap(function() while true do "
            "coroutine.yield() end end) "
            "coroutine.resume(coroutine.create(function() while true do "
            "inner() end end))",
            "rule exceeded its");
    stopped(&rule, "a loop resuming new coroutines",
            "while true do coroutine.resume(coroutine.create(function() "
            "while true do end end)) end",
            "instruction budget");
    stopped(&rule, "a loop in a __close of a closed coroutine",
            "local co = coroutine.create(function() local x <close> = "
            "setmetatable({}, {__close = function() while true do end end}) "
            "coroutine.yield() end) coroutine.resume(co) "
            "while true do coroutine.close(co) end",
            "instruction budget");

    stopped(&rule, "a loop in __close of a wrapped coroutine killed by it",
            "coroutine.wrap(function() local x <close> = setmetatable({}, "
            "{__close = function() while true do end end}) while true do end "
            "end)()",
            "instruction budget");
    run(&rule,
        "k = coroutine.create(function() local x <close> = setmetatable({}, "
        "{__close = function() while true do end end}) while true do end "
        "end) coroutine.resume(k)",
        msg, sizeof(msg));
    fails(&rule, "a coroutine the budget killed is not closed later",
          "local ok, e = coroutine.close(k) assert(not ok) error(e)",
          "to-be-closed variables are not closed");

    /* The error cannot be caught. */
    stopped(&rule, "a loop that pcalls the budget away",
            "while true do pcall(function() while true do end end) end",
            "instruction budget");
    stopped(&rule, "a runaway xpcall handler",
            "while true do xpcall(error, function() while true do end end) end",
            "instruction budget");
    stopped(&rule, "exponential recursion with pcall at each level",
            "local function f(n) if n > 0 then pcall(f, n - 1) "
            "pcall(f, n - 1) end end f(60)",
            "instruction budget");
    stopped(&rule, "a loop in __close while unwinding",
            "local x <close> = setmetatable({}, {__close = function() "
            "while true do end end}) while true do end",
            "instruction budget");

    /* Time in C functions, where no VM instruction runs. */
    stopped(&rule, "a backtracking pattern",
            "return (('a'):rep(40)):match(('a*'):rep(40) .. 'b')",
            "rule exceeded its CPU time budget (300 ms, SFEMU_RULE_MAX_MS)");
    stopped(&rule, "a plain find of a near match",
            "local s = ('a'):rep(1 << 22) "
            "return s:find(('a'):rep(1 << 16) .. 'b', 1, true)",
            "CPU time budget");
    stopped(&rule, "an unbalanced %b", "return ('('):rep(1 << 20):find('%b()')",
            "CPU time budget");
    stopped(&rule, "a gmatch over a long class",
            "local s = ('x'):rep(1 << 16) "
            "for _ in s:gmatch('[' .. ('a'):rep(1 << 16) .. ']') do end",
            "CPU time budget");
    stopped(&rule, "a huge table.move",
            "table.move({}, 1, math.maxinteger - 1, 2)", "CPU time budget");
    stopped(&handler, "a loop of full collections",
            "local t = {} for i = 1, 200000 do t[i] = {} end "
            "while true do collectgarbage('collect') end",
            "handler exceeded");

    /* Restricted functions. */
    fails(&rule, "collectgarbage('stop') is refused", "collectgarbage('stop')",
          "collectgarbage(\"stop\") is not allowed");
    fails(&rule, "collectgarbage tuning is refused",
          "collectgarbage('incremental', 1000)", "is not allowed");
    runs(&rule, "collectgarbage('count') and () work",
         "assert(collectgarbage('count') > 0) collectgarbage()");
    fails(&rule, "setmetatable with __gc is refused",
          "setmetatable({}, {__gc = function() end})", "__gc is not allowed");
    runs(&rule, "setmetatable otherwise as Lua's",
         "local mt = {} local t = setmetatable({}, mt) "
         "assert(getmetatable(t) == mt) "
         "setmetatable(t, {__metatable = 'locked'}) "
         "assert(not pcall(setmetatable, t, {}))");

    /* The hardened functions behave as Lua's. */
    runs(&rule, "coroutines, pcall and xpcall keep Lua's behaviour",
         "local co = coroutine.wrap(function(a) local ok, v = "
         "pcall(coroutine.yield, a + 1) return v * 2 end) "
         "assert(co(1) == 2) assert(co(21) == 42) "
         "local ok, e = pcall(co) assert(not ok and e:find('dead')) "
         "local c2 = coroutine.create(function() error({code = 7}) end) "
         "local ok2, e2 = coroutine.resume(c2) "
         "assert(not ok2 and e2.code == 7) "
         "assert(coroutine.close(c2) == false) "
         "assert(select('#', coroutine.resume(coroutine.create(function() "
         "return 1, 2, 3 end))) == 4) "
         "local ok3, e3 = xpcall(error, function(m) return 'h:' .. m end, "
         "'boom') assert(not ok3 and e3 == 'h:boom') "
         "assert(select(2, pcall(coroutine.wrap(function() error('w') "
         "end))):find(':1: w')) "
         "assert(not pcall(coroutine.close, coroutine.running()))");
    runs(&rule, "table.move and the string library as Lua's",
         "local t = {} for i = 1, 200000 do t[i] = i end "
         "table.move(t, 1, 150000, 50001) "
         "assert(t[50001] == 1 and t[200000] == 150000 and t[1] == 1) "
         "for i = 1, 200000 do t[i] = i end "
         "table.move(t, 50001, 200000, 1) "
         "assert(t[1] == 50001 and t[150000] == 200000 and t[200000] == "
         "200000) "
         "local u = table.move(t, 1, 100000, 1, {}) assert(#u == 100000) "
         "assert(('abc'):find('b', 1, true) == 2 and "
         "('x=1, y=2'):gsub('(%w+)=(%w+)', '%2=%1') == '1=x, 2=y')");

    /* Time blocked outside Lua executes no instruction and uses no CPU: a
     * call that sleeps 500 ms (more than its CPU budget) and then works a
     * little is fine. */
    runs(&handler, "a call blocked outside Lua is not stopped",
         "sleep_ms(500) local x = 0 for i = 1, 10000 do x = x + i end");
    /* A long call within its budget: counted, not stopped. */
    runs(&rule, "a counted call within its budget runs",
         "sleep_ms(30) local x = 0 for i = 1, 100000 do x = x + i end");

    /* Loading under the budget: lua_budget_pcall. */
    luaL_loadstring(rule.L, "while true do end");
    rc = lua_budget_pcall(rule.L, 0, 0, 0);
    check(rc == LUA_ERRRUN &&
              strstr(lua_tostring(rule.L, -1), "instruction budget"),
          "lua_budget_pcall budgets a call");
    lua_settop(rule.L, 0);

    /* A forked child has its own monitor, and its thread's CPU clock. */
    fails_in_child(&rule, "a runaway call in a forked child is stopped",
                   "while true do end", "instruction budget");
    fails_in_child(&rule, "a forked child's CPU time is its own thread's",
                   "return (('a'):rep(40)):match(('a*'):rep(40) .. 'b')",
                   "CPU time budget");

    lua_budget_unregister(&rule);
    lua_budget_unregister(&handler);
    lua_close(rule.L);
    lua_close(handler.L);
    return checks_done();
}
