/* The c_* functions rules call, one binding file per concern. */
#ifndef SFEMU_API_H
#define SFEMU_API_H

#include <lua.h>

void sfemu_api_open(lua_State *L); /* all of them, into the base env */

void sfemu_api_sys_open(lua_State *L);  /* api_sys.c: syscalls, time, info */
void sfemu_api_log_open(lua_State *L);  /* api_log.c: c_log */
void sfemu_api_mem_open(lua_State *L);  /* api_mem.c: guest memory */
void sfemu_api_regs_open(lua_State *L); /* api_regs.c: registers */
void sfemu_api_host_open(lua_State *L); /* api_host.c: c_mkdir_p, c_open_host */
void sfemu_api_fakefile_open(lua_State *L); /* api_fakefile.c: fake resources */
void sfemu_api_shadow_open(lua_State *L); /* api_shadow.c: c_get_shadowstack */
void sfemu_api_watchdog_open(lua_State *L); /* api_watchdog.c: c_get_ctx ... */
void sfemu_api_analysis_open(lua_State *L); /* api_analysis.c: c_resolve_* */
void sfemu_api_init_open(lua_State *L);     /* api_init.c: c_init_rootfs */
void sfemu_api_vsock_open(lua_State *L);    /* api_vsock.c: virtual sockets */
void sfemu_api_proc_open(lua_State *L);     /* api_proc.c: c_proc_info ... */
void sfemu_api_cert_open(lua_State *L);     /* api_cert.c: c_make_cert */
void sfemu_api_ai_open(lua_State *L);       /* api_ai.c: AI repair */

/* A guest errno as the negative value rules and syscalls use. */
int sfemu_api_neg_errno(int host_errno);
/* The failure of a call that returns a value: pushes nil and the guest's
 * -errno for rc (a negative host errno); returns 2 (values pushed). */
int sfemu_api_push_fail(lua_State *L, int rc);

#endif
