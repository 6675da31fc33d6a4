/*
 * Guest memory for rules.  Every access goes through the glue's checked
 * copy (QEMU's page table), so a bad guest address gives -EFAULT, never a
 * host fault.  Integers are read and written in the guest's byte order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "api/api.h"
#include "core/runtime.h"
#include "core/sandbox.h"

#define MEM_MAX_LEN (16u << 20) /* one read or write from a rule */

static uint64_t arg_addr(lua_State *L, int idx)
{
    return sfemu_guest_addr(luaL_checkinteger(L, idx));
}

static uint64_t swap_in(const uint8_t *b, int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++) {
        int k = sfemu_rt.t->big_endian ? i : n - 1 - i;
        v = (v << 8) | b[k];
    }
    return v;
}

static void swap_out(uint64_t v, uint8_t *b, int n)
{
    for (int i = 0; i < n; i++) {
        int k = sfemu_rt.t->big_endian ? n - 1 - i : i;
        b[k] = v & 0xff;
        v >>= 8;
    }
}

/* c_read_guest_string(addr[, max_len=4096]) -> content, rc */
static int c_read_guest_string(lua_State *L)
{
    uint64_t addr = arg_addr(L, 1);
    lua_Integer max = luaL_optinteger(L, 2, 4096);
    char *buf;
    long n;

    if (max < 0 || max > MEM_MAX_LEN) {
        lua_pushstring(L, "");
        lua_pushinteger(L, sfemu_api_neg_errno(EINVAL));
        return 2;
    }
    buf = malloc(max + 1);
    if (!buf) {
        return luaL_error(L, "out of memory");
    }
    n = sfemu_rt.ops->read_str(addr, buf, max);
    lua_pushlstring(L, buf, n < 0 ? 0 : n);
    lua_pushinteger(L, n < 0 ? sfemu_api_neg_errno(-n) : 0);
    free(buf);
    return 2;
}

/* c_read_guest_bytes(addr, len) -> data, rc */
static int c_read_guest_bytes(lua_State *L)
{
    uint64_t addr = arg_addr(L, 1);
    lua_Integer len = luaL_checkinteger(L, 2);
    luaL_Buffer b;
    int rc;

    if (len < 0 || len > MEM_MAX_LEN) {
        lua_pushstring(L, "");
        lua_pushinteger(L, sfemu_api_neg_errno(EINVAL));
        return 2;
    }
    rc = sfemu_rt.ops->read_mem(addr, luaL_buffinitsize(L, &b, len), len);
    luaL_pushresultsize(&b, rc ? 0 : len);
    lua_pushinteger(L, rc ? sfemu_api_neg_errno(-rc) : 0);
    return 2;
}

/* c_write_guest_bytes(addr, data) -> bytes_written, rc */
static int c_write_guest_bytes(lua_State *L)
{
    uint64_t addr = arg_addr(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    int rc =
        len > MEM_MAX_LEN ? -EINVAL : sfemu_rt.ops->write_mem(addr, data, len);

    lua_pushinteger(L, rc ? 0 : (lua_Integer)len);
    lua_pushinteger(L, rc ? sfemu_api_neg_errno(-rc) : 0);
    return 2;
}

static int read_uint(lua_State *L, int size)
{
    uint8_t b[8];
    int rc = sfemu_rt.ops->read_mem(arg_addr(L, 1), b, size);

    lua_pushinteger(L, rc ? 0 : (lua_Integer)swap_in(b, size));
    lua_pushinteger(L, rc ? sfemu_api_neg_errno(-rc) : 0);
    return 2;
}

static int write_uint(lua_State *L, int size)
{
    uint8_t b[8];
    int rc;

    swap_out((uint64_t)luaL_checkinteger(L, 2), b, size);
    rc = sfemu_rt.ops->write_mem(arg_addr(L, 1), b, size);
    lua_pushinteger(L, rc ? sfemu_api_neg_errno(-rc) : 0);
    return 1;
}

static int c_read_guest_u32(lua_State *L)
{
    return read_uint(L, 4);
}
static int c_read_guest_u64(lua_State *L)
{
    return read_uint(L, 8);
}
static int c_write_guest_u32(lua_State *L)
{
    return write_uint(L, 4);
}
static int c_write_guest_u64(lua_State *L)
{
    return write_uint(L, 8);
}

/* c_g2h(guest_addr) -> lightuserdata (no check: pointer arithmetic only) */
static int c_g2h(lua_State *L)
{
    lua_pushlightuserdata(L, sfemu_rt.ops->g2h(arg_addr(L, 1)));
    return 1;
}

/* c_h2g(host_ptr) -> guest address, or 0 if it is not guest memory */
static int c_h2g(lua_State *L)
{
    uint64_t g = 0;

    luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
    if (sfemu_rt.ops->h2g(lua_touserdata(L, 1), &g) != 0) {
        g = 0;
    }
    lua_pushinteger(L, (lua_Integer)g);
    return 1;
}

static const luaL_Reg mem_fns[] = {
    { "c_read_guest_string", c_read_guest_string },
    { "c_read_string", c_read_guest_string },
    { "c_read_guest_bytes", c_read_guest_bytes },
    { "c_read_bytes", c_read_guest_bytes },
    { "c_write_guest_bytes", c_write_guest_bytes },
    { "c_write_bytes", c_write_guest_bytes },
    { "c_read_guest_u32", c_read_guest_u32 },
    { "c_read_guest_u64", c_read_guest_u64 },
    { "c_write_guest_u32", c_write_guest_u32 },
    { "c_write_guest_u64", c_write_guest_u64 },
    { "c_g2h", c_g2h },
    { "c_h2g", c_h2g },
    { NULL, NULL },
};

void sfemu_api_mem_open(lua_State *L)
{
    sfemu_sandbox_register(L, mem_fns);
}
