/*
 * Address resolution for rules (seed section 4).
 *
 * c_resolve_addr(addr[, max_bytes]) -> "lib!symbol+0xoff" | "lib+0xoff" | "0x...", rc
 *   A guest address.  Symbols of the main program and every shared library
 *   come from the guest's mappings (loaded on first use, reloaded when an
 *   address falls in a library mapped later).  max_bytes: the largest offset
 *   from the nearest preceding symbol still shown as symbol+off; beyond it
 *   the answer is "lib+0xoff" with off the link-time address (what objdump
 *   and addr2line take).  Omitted or negative: within the symbol's size (or
 *   4096 bytes when the symbol has no size).  rc: 0 when a symbol was used,
 *   else -ENOENT (the string is still useful).
 * c_resolve_host_addr(ptr_or_int[, max_bytes]) -> string, rc
 *   A host address (a lightuserdata from c_g2h, or an integer): QEMU's own
 *   functions and host libraries, through the file's .symtab and dladdr();
 *   "host+0x..." when no host mapping holds it.
 * Both work with or without -sfanalysis.
 * c_analysis_note(source, text) -> nil
 *   A note for the run record (analysis/notes.h): logged once per distinct
 *   (source, text), and listed with its count in the record's "notes".
 */
#include <errno.h>

#include <lauxlib.h>

#include "analysis/analysis.h"
#include "analysis/notes.h"
#include "api/api.h"
#include "core/runtime.h"
#include "core/sandbox.h"

static int64_t opt_max(lua_State *L, int idx)
{
    lua_Integer m = luaL_optinteger(L, idx, -1);

    return m < 0 ? -1 : (int64_t)m;
}

static int push_result(lua_State *L, const char *s, int rc)
{
    lua_pushstring(L, s);
    lua_pushinteger(L, rc ? sfemu_api_neg_errno(-rc) : 0);
    return 2;
}

static int c_resolve_addr(lua_State *L)
{
    uint64_t a = sfemu_guest_addr(luaL_checkinteger(L, 1));
    char buf[512];
    int rc = sfemu_syms_resolve_max(a, opt_max(L, 2), buf, sizeof(buf));

    return push_result(L, buf, rc);
}

static int c_resolve_host_addr(lua_State *L)
{
    const void *p;
    char buf[512];
    int rc;

    if (lua_type(L, 1) == LUA_TLIGHTUSERDATA) {
        p = lua_touserdata(L, 1);
    } else {
        p = (const void *)(uintptr_t)(uint64_t)luaL_checkinteger(L, 1);
    }
    rc = sfemu_host_resolve(p, opt_max(L, 2), buf, sizeof(buf));
    return push_result(L, buf, rc);
}

static int c_analysis_note(lua_State *L)
{
    size_t n;
    const char *source = luaL_checkstring(L, 1);
    const char *text = luaL_checklstring(L, 2, &n);

    (void)n;
    sfemu_note(source, text);
    return 0;
}

static const luaL_Reg analysis_fns[] = {
    { "c_analysis_note", c_analysis_note },
    { "c_resolve_addr", c_resolve_addr },
    { "c_resolve_host_addr", c_resolve_host_addr },
    { NULL, NULL },
};

void sfemu_api_analysis_open(lua_State *L)
{
    sfemu_sandbox_register(L, analysis_fns);
}
