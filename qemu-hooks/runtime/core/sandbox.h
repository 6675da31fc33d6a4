/* The restricted Lua environment every rule, module and fakeconfig runs in. */
#ifndef SFEMU_SANDBOX_H
#define SFEMU_SANDBOX_H

#include <lua.h>
#include <lauxlib.h>

/* A new state whose allocations stop at limit bytes (ud: size_t[2] used,limit). */
lua_State *sfemu_sandbox_new(size_t *accounting);
/* Pushes the shared base environment (globals every file sees). */
void sfemu_sandbox_push_base(lua_State *L);
/*
 * Loads and runs a Lua file with a fresh environment whose reads fall back to
 * the base.  Pushes the environment table and returns LUA_OK, or returns an
 * error code with the message pushed.
 */
int sfemu_sandbox_dofile(lua_State *L, const char *path);
/* Registers a luaL_Reg table into the base environment. */
void sfemu_sandbox_register(lua_State *L, const luaL_Reg *fns);
/* Whether an absolute, resolved path lies inside the rules tree (and is not
 * the secrets file). */
int sfemu_path_in_rules(const char *resolved);
/* Whether a resolved path is the AI env file (secrets): rules never read it. */
int sfemu_path_is_secret(const char *resolved);

#endif
