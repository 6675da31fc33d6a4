/*
 * Unit test of common/lua_sandbox.c with a real Lua 5.4 state: what one file
 * changes in its environment (globals, _G, load, string.format,
 * getmetatable("").__index, a module's view) no other file sees, while the
 * shared table is shared; os.getenv hides credential-like names of any
 * length; error values that are not strings read usefully.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "check.h"
#include "lua_sandbox.h"

static char root[] = "/tmp/sfemu-sbtest-XXXXXX";

static void put(const char *name, const char *text)
{
    char p[256];
    FILE *f;

    snprintf(p, sizeof(p), "%s/%s", root, name);
    f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

/* Runs a file; its result (a string) into out. */
static int run_file(lua_State *L, const char *name, char *out, size_t cap)
{
    char p[256], buf[64];
    int rc;

    snprintf(p, sizeof(p), "%s/%s", root, name);
    rc = lsb_dofile(L, p, 1);
    snprintf(out, cap, "%s",
             rc == LUA_OK ? (lua_isstring(L, -1) ? lua_tostring(L, -1) : "")
                          : lsb_error_text(L, -1, buf, sizeof(buf)));
    lua_settop(L, 0);
    return rc;
}

int main(void)
{
    struct lsb_host host = { .root = root };
    char out[1024], buf[64], longname[400];
    lua_State *L;
    int rc;

    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    L = lsb_new(NULL, NULL, &host);
    lsb_push_base(L);
    lua_newtable(L);
    lua_setfield(L, -2, "shared");
    lua_pop(L, 1);
    lsb_share(L, "shared");

    put("mod.lua", "string.rep = nil return { n = 1 }\n");
    put("a.lua",
        "x_from_a = 1\n"
        "_G.y_from_a = 2\n"
        "rawset(_G, 'w_from_a', 4)\n"
        "load('v_from_a = 6')()\n"
        "string.format = function() return 'evil' end\n"
        "string.evil = true\n"
        "getmetatable('').__index.upper = function() return 'evil' end\n"
        "table.insert = nil\n"
        "os.time = nil\n"
        "assert(getmetatable(_ENV) == nil)\n"
        "shared.from_a = 5\n"
        "require('mod').n = 2\n"
        "assert(y_from_a == 2 and w_from_a == 4 and v_from_a == 6)\n"
        "assert(string.format('%d', 1) == 'evil')\n"
        "return 'a ran'\n");
    put("b.lua",
        "return table.concat({ tostring(x_from_a), tostring(y_from_a),\n"
        "  tostring(w_from_a), tostring(v_from_a), string.format('%d', 7),\n"
        "  ('abc'):upper(), string.upper('abc'),\n"
        "  getmetatable('').__index.upper('q'), tostring(string.evil),\n"
        "  type(table.insert), type(os.time), tostring(shared.from_a),\n"
        "  tostring(require('mod').n), type(string.rep),\n"
        "  tostring(_G == _ENV) }, ' ')\n");

    rc = run_file(L, "a.lua", out, sizeof(out));
    check(rc == LUA_OK && !strcmp(out, "a ran"),
          "a file changes its own environment (%s)", out);
    rc = run_file(L, "b.lua", out, sizeof(out));
    check(rc == LUA_OK && !strcmp(out, "nil nil nil nil 7 ABC ABC Q nil "
                                       "function function 5 2 function true"),
          "another file sees none of it but shared and the module (%s)", out);

    /* os.getenv: credential-like names read nil, whatever their length. */
    memset(longname, 'X', 300);
    memcpy(longname + 300, "_key", 5); /* 304 characters */
    setenv(longname, "sk-long-secret", 1);
    setenv("my_Api_Token", "sk-secret", 1);
    setenv("SFEMU_TEST_PLAIN", "visible", 1);
    put("env.lua", "return table.concat({ tostring(os.getenv(('X'):rep(300) "
                   ".. '_key')), tostring(os.getenv('my_Api_Token')), "
                   "tostring(os.getenv('SFEMU_TEST_PLAIN')) }, ' ')\n");
    rc = run_file(L, "env.lua", out, sizeof(out));
    check(rc == LUA_OK && !strcmp(out, "nil nil visible"),
          "os.getenv hides credential-like names of any length (%s)", out);

    /* Error values as text, without running Lua code. */
    lua_newtable(L);
    check(!strcmp(lsb_error_text(L, -1, buf, sizeof(buf)),
                  "(error object is a table value)"),
          "a table error reads as such: %s", buf);
    lua_pushnil(L);
    check(!strcmp(lsb_error_text(L, -1, buf, sizeof(buf)),
                  "(error object is a nil value)"),
          "a nil error reads as such: %s", buf);
    lua_pushinteger(L, 42);
    check(!strcmp(lsb_error_text(L, -1, buf, sizeof(buf)), "42") &&
              lua_type(L, -1) == LUA_TNUMBER,
          "a number error reads as the number, left a number");
    lua_settop(L, 0);
    put("err.lua", "error(setmetatable({}, {__tostring = function() "
                   "while true do end end}))\n");
    rc = run_file(L, "err.lua", out, sizeof(out));
    check(rc == LUA_ERRRUN && !strcmp(out, "(error object is a table value)"),
          "an error object's __tostring is not run: %s", out);

    lua_close(L);
    for (const char *f = "mod.lua\0a.lua\0b.lua\0env.lua\0err.lua\0"; *f;
         f += strlen(f) + 1) {
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", root, f);
        unlink(p);
    }
    rmdir(root);
    return checks_done();
}
