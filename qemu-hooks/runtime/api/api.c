/* Opens every c_* binding into the sandbox's base environment. */
#include "api/api.h"
#include "core/runtime.h"

int sfemu_api_neg_errno(int host_errno)
{
    return -(sfemu_rt.ops ? sfemu_rt.ops->errno_to_guest(host_errno)
                          : host_errno);
}

int sfemu_api_push_fail(lua_State *L, int rc)
{
    lua_pushnil(L);
    lua_pushinteger(L, sfemu_api_neg_errno(-rc));
    return 2;
}

void sfemu_api_open(lua_State *L)
{
    sfemu_api_sys_open(L);
    sfemu_api_log_open(L);
    sfemu_api_mem_open(L);
    sfemu_api_regs_open(L);
    sfemu_api_fakefile_open(L);
    sfemu_api_shadow_open(L);
    sfemu_api_host_open(L);
    sfemu_api_watchdog_open(L);
    sfemu_api_analysis_open(L);
    sfemu_api_init_open(L);
    sfemu_api_vsock_open(L);
    sfemu_api_proc_open(L);
    sfemu_api_cert_open(L);
    sfemu_api_ai_open(L);
}
