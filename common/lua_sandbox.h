/* The restricted Lua environment shared by the rule runtime (inside qemu)
 * and the fakefile engine: pure libraries, a harmless part of os and debug,
 * and require/dofile/loadfile/load that only take Lua text from inside the
 * rules tree.  No io, no os.execute/remove/exit, no package.loadlib, no
 * binary chunks; os.getenv hides credential-like variables.  The libraries
 * are hardened for the budget (lua_budget.h): pattern matching polls it, and
 * no setmetatable(__gc) or collectgarbage("stop").  Each file runs in an
 * environment of its own, copied from the base: only the tables named with
 * lsb_share are the same for every file. */
#ifndef SFEMU_LUA_SANDBOX_H
#define SFEMU_LUA_SANDBOX_H

#include <lua.h>
#include <lauxlib.h>

struct lsb_host {
    const char *root; /* canonical rules tree, or NULL */
    void (*print)(void *ud, const char *line); /* where print() goes */
    void *ud;
    /* Nonzero for a resolved path inside root that rules must not read (a
     * file of secrets); NULL: none. */
    int (*deny)(const char *resolved);
};

/* A new state (alloc NULL: plain realloc) whose base environment holds the
 * safe globals.  host must outlive the state. */
lua_State *lsb_new(lua_Alloc alloc, void *alloc_ud,
                   const struct lsb_host *host);
/* Push the base environment (every file's environment falls back to it). */
void lsb_push_base(lua_State *L);
/* Add C functions to the base environment. */
void lsb_register(lua_State *L, const luaL_Reg *fns);
/* Run a Lua text file in a fresh environment copied from the base one,
 * under the state's budget if it has one (lua_budget_pcall): LUA_OK with
 * the environment and nresults results pushed, or an error code with the
 * message pushed. */
int lsb_dofile(lua_State *L, const char *path, int nresults);
/* The base's table `name` is shared by every file (not copied). */
void lsb_share(lua_State *L, const char *name);
/* An error value as text, without running any Lua code or allocating:
 * a string as it is, a number, or "(error object is a table value)". */
const char *lsb_error_text(lua_State *L, int idx, char *buf, size_t cap);
/* Forget the modules require() loaded (they are reloaded on next use). */
void lsb_forget_modules(lua_State *L);
/* Is resolved (a canonical path) inside host's rules tree? */
int lsb_in_root(const struct lsb_host *host, const char *resolved);

#endif
