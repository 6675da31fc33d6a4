/*
 * c_get_shadowstack([detail]) -> array of return addresses, innermost first
 * (detail=true: of {callee=, ret=, site=} tables); nil, -ENOSYS without
 * -shadowstack.
 */
#include <errno.h>

#include <lauxlib.h>

#include "api/api.h"
#include "core/runtime.h"
#include "core/sandbox.h"
#include "analysis/shadow.h"

#define SHADOW_MAX 1024

static int c_get_shadowstack(lua_State *L)
{
    static __thread struct sfemu_shadow_frame f[SHADOW_MAX];
    int detail = lua_toboolean(L, 1);
    int n = sfemu_shadow_get(f, SHADOW_MAX);

    if (n < 0) {
        return sfemu_api_push_fail(L, n);
    }
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        if (detail) {
            lua_createtable(L, 0, 3);
            lua_pushinteger(L, (lua_Integer)f[i].callee);
            lua_setfield(L, -2, "callee");
            lua_pushinteger(L, (lua_Integer)f[i].ret);
            lua_setfield(L, -2, "ret");
            lua_pushinteger(L, (lua_Integer)f[i].site);
            lua_setfield(L, -2, "site");
        } else {
            lua_pushinteger(L, (lua_Integer)f[i].ret);
        }
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static const luaL_Reg shadow_fns[] = {
    { "c_get_shadowstack", c_get_shadowstack },
    { NULL, NULL },
};

void sfemu_api_shadow_open(lua_State *L)
{
    sfemu_sandbox_register(L, shadow_fns);
}
