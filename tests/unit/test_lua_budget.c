/*
 * Unit test of common/lua_budget.c with real Lua 5.4 states: a runaway call
 * is stopped with its error, short and blocked calls are not, the hook is
 * gone after a call, and a forked child still has a monitor.
 */
#include <lauxlib.h>
#include <lualib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "lua_budget.h"

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
    lua_register(L, "sleep_ms", c_sleep_ms);
    return L;
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
    snprintf(msg, cap, "%s", rc == LUA_OK ? "" : lua_tostring(L, -1));
    lua_settop(L, 0);
    return rc;
}

int main(void)
{
    struct lua_budget rule = { 0 }, handler = { 0 };
    char msg[256];
    pid_t pid;
    int rc, st;

    rule.L = new_state();
    handler.L = new_state();
    lua_budget_register(&rule, rule.L, 2000000, "rule", "SFEMU_RULE_MAX_INSNS",
                        1);
    lua_budget_register(&handler, handler.L, 1000000, "handler", NULL, 0);

    rc = run(&rule, "local x = 0 for i = 1, 1000 do x = x + i end", msg,
             sizeof(msg));
    check(rc == LUA_OK && lua_gethook(rule.L) == NULL &&
              atomic_load(&rule.armed_seq) == 0,
          "a short call runs, and no hook is left set");

    rc = run(&rule, "while true do end", msg, sizeof(msg));
    check(rc == LUA_ERRRUN &&
              strstr(msg, "rule exceeded its instruction budget (2000000 "
                          "instructions, SFEMU_RULE_MAX_INSNS)"),
          "a runaway rule call is stopped: %s", msg);
    check(lua_gethook(rule.L) == NULL, "the hook is removed after the call");

    rc = run(&handler, "while true do end", msg, sizeof(msg));
    check(rc == LUA_ERRRUN &&
              strstr(msg, "handler exceeded its instruction budget (1000000 "
                          "instructions)"),
          "a runaway handler call is stopped: %s", msg);

    /* Time blocked outside Lua executes no instruction: a call that
     * sleeps 100 ms (ten monitor looks) and then works a little is fine. */
    rc = run(&handler,
             "sleep_ms(100) local x = 0 for i = 1, 10000 do x = x + i end", msg,
             sizeof(msg));
    check(rc == LUA_OK, "a call blocked outside Lua is not stopped (%s)", msg);

    /* A long call within its budget: counted, not stopped. */
    rc = run(&rule,
             "sleep_ms(30) local x = 0 for i = 1, 100000 do x = x + i end", msg,
             sizeof(msg));
    check(rc == LUA_OK, "a counted call within its budget runs (%s)", msg);

    /* A forked child has its own monitor. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        alarm(20); /* no monitor: killed, and the check fails */
        rc = run(&rule, "while true do end", msg, sizeof(msg));
        _exit(rc == LUA_ERRRUN && strstr(msg, "instruction budget") ? 0 : 1);
    }
    check(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
              WEXITSTATUS(st) == 0,
          "a runaway call in a forked child is stopped");

    lua_budget_unregister(&rule);
    lua_budget_unregister(&handler);
    lua_close(rule.L);
    lua_close(handler.L);
    return checks_done();
}
