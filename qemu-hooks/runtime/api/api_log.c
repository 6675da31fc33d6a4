/* c_log(msg): a line in the runtime's log. */
#include <lauxlib.h>

#include "api/api.h"
#include "core/log.h"
#include "core/sandbox.h"

static int c_log(lua_State *L)
{
    sfemu_log("%s", luaL_tolstring(L, 1, NULL));
    return 0;
}

static const luaL_Reg log_fns[] = {
    { "c_log", c_log },
    { NULL, NULL },
};

void sfemu_api_log_open(lua_State *L)
{
    sfemu_sandbox_register(L, log_fns);
}
