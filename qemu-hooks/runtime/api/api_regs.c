/*
 * Registers for rules, as gdbstub describes them (names from the target's
 * gdb XML: r0..r15/pc/cpsr on arm, r0..r31/pc/hi/lo on mips, x0..x30/pc on
 * aarch64).  Values travel in guest byte order through the glue.
 */
#include <errno.h>
#include <string.h>

#include <lauxlib.h>

#include "api/api.h"
#include "core/runtime.h"
#include "core/regs.h"
#include "core/sandbox.h"

/* gdb regnum of a name or number argument, or -1 */
static int reg_lookup(lua_State *L, int idx)
{
    if (lua_type(L, idx) == LUA_TNUMBER) {
        return (int)lua_tointeger(L, idx);
    }
    return sfemu_reg_num(luaL_checkstring(L, idx));
}

/* c_list_regs() -> { {num=, name=, feature=}, ... } */
static int c_list_regs(lua_State *L)
{
    const struct sfemu_host_ops *ops = sfemu_rt.ops;
    int n = ops->reg_count();

    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        int num;
        const char *name, *feature;
        if (ops->reg_info(i, &num, &name, &feature) != 0) {
            continue;
        }
        lua_createtable(L, 0, 3);
        lua_pushinteger(L, num);
        lua_setfield(L, -2, "num");
        lua_pushstring(L, name ? name : "");
        lua_setfield(L, -2, "name");
        lua_pushstring(L, feature ? feature : "");
        lua_setfield(L, -2, "feature");
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    }
    return 1;
}

/* c_get_reg(name_or_num) -> value, size, rc */
static int c_get_reg(lua_State *L)
{
    uint8_t b[REG_MAX];
    int num = reg_lookup(L, 1);
    int n = num < 0 ? -EINVAL : sfemu_rt.ops->reg_read(num, b, sizeof(b));

    if (n <= 0) {
        lua_pushinteger(L, 0);
        lua_pushinteger(L, 0);
        lua_pushinteger(L, sfemu_api_neg_errno(n < 0 ? -n : EINVAL));
        return 3;
    }
    if (n <= 8) {
        lua_pushinteger(L, (lua_Integer)sfemu_reg_bytes_to_u64(b, n));
    } else {
        lua_pushlstring(L, (const char *)b, n);
    }
    lua_pushinteger(L, n);
    lua_pushinteger(L, 0);
    return 3;
}

/* c_set_reg(name_or_num, value_or_bytes) -> bytes_written, rc */
static int c_set_reg(lua_State *L)
{
    uint8_t b[REG_MAX];
    int num = reg_lookup(L, 1);
    int size, rc;

    if (num < 0 || (size = sfemu_rt.ops->reg_read(num, b, sizeof(b))) <= 0) {
        lua_pushinteger(L, 0);
        lua_pushinteger(L, sfemu_api_neg_errno(EINVAL));
        return 2;
    }
    if (lua_type(L, 2) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, 2, &len);
        if ((int)len != size) {
            lua_pushinteger(L, 0);
            lua_pushinteger(L, sfemu_api_neg_errno(ERANGE));
            return 2;
        }
        memcpy(b, s, len);
    } else {
        uint64_t v = (uint64_t)luaL_checkinteger(L, 2);
        if (size > 8) {
            lua_pushinteger(L, 0);
            lua_pushinteger(L, sfemu_api_neg_errno(ERANGE));
            return 2;
        }
        for (int i = 0; i < size; i++) {
            b[sfemu_rt.t->big_endian ? size - 1 - i : i] = v & 0xff;
            v >>= 8;
        }
    }
    rc = sfemu_rt.ops->reg_write(num, b, size);
    lua_pushinteger(L, rc > 0 ? rc : 0);
    lua_pushinteger(L, rc > 0 ? 0 : sfemu_api_neg_errno(rc < 0 ? -rc : EIO));
    return 2;
}

static const luaL_Reg regs_fns[] = {
    { "c_list_regs", c_list_regs },
    { "c_get_reg", c_get_reg },
    { "c_set_reg", c_set_reg },
    { NULL, NULL },
};

void sfemu_api_regs_open(lua_State *L)
{
    sfemu_sandbox_register(L, regs_fns);
}
