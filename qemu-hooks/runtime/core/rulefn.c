/* Rule functions, looked at once when loaded (see rulefn.h). */
#include <limits.h>
#include <string.h>

#include <lauxlib.h>

#include "core/log.h"
#include "core/rulefn.h"

#define MAX_NATIVE 8

static struct {
    lua_CFunction fn;
    sfemu_rule_declines declines;
} natives[MAX_NATIVE];
static int n_natives;

void sfemu_rulefn_register(lua_CFunction fn, sfemu_rule_declines declines)
{
    for (int i = 0; i < n_natives; i++) {
        if (natives[i].fn == fn) {
            return;
        }
    }
    if (n_natives == MAX_NATIVE) {
        sfemu_log("too many native rules: one not registered");
        return;
    }
    natives[n_natives].fn = fn;
    natives[n_natives++].declines = declines;
}

sfemu_rule_declines sfemu_rulefn_declines_of(lua_CFunction fn)
{
    for (int i = 0; fn && i < n_natives; i++) {
        if (natives[i].fn == fn) {
            return natives[i].declines;
        }
    }
    return NULL;
}

/* A stripped binary chunk of one function: small for an empty one. */
struct dump {
    unsigned char b[256];
    size_t n;
};

static int dump_write(lua_State *L, const void *p, size_t sz, void *ud)
{
    struct dump *d = ud;

    (void)L;
    if (d->n + sz > sizeof(d->b)) {
        return 1; /* too big to be empty: stop */
    }
    memcpy(d->b + d->n, p, sz);
    d->n += sz;
    return 0;
}

/* A dump's size field: 7 bits a byte, most significant first, the last
 * byte marked with 0x80 (ldump.c's dumpSize). */
static int dump_size(const struct dump *d, size_t *i, size_t *v)
{
    *v = 0;
    while (*i < d->n) {
        unsigned char b = d->b[(*i)++];
        *v = *v << 7 | (b & 0x7f);
        if (b & 0x80) {
            return 0;
        }
    }
    return -1;
}

/*
 * The function at idx's instruction count and first instruction, from its
 * binary chunk (Lua 5.4's layout, ldump.c): the header, the upvalue count,
 * then source (stripped), linedefined, lastlinedefined, numparams,
 * is_vararg, maxstacksize, the code size and the code.  -1 if it is not a
 * Lua 5.4 function.
 */
static long code_of(lua_State *L, int idx, uint32_t *first)
{
    static const char sig[] = LUA_SIGNATURE "\x54";
    struct dump d = { .n = 0 };
    size_t i = 32, v; /* after the 31-byte header and the upvalue count */
    int rc;

    lua_pushvalue(L, idx);
    rc = lua_dump(L, dump_write, &d, 1);
    lua_pop(L, 1);
    if (rc || d.n < i || memcmp(d.b, sig, 5) || d.b[12] != 4) {
        return -1;
    }
    for (int k = 0; k < 3; k++) {
        if (dump_size(&d, &i, &v)) {
            return -1;
        }
    }
    i += 3;
    if (dump_size(&d, &i, &v) || v < 1 || i + 4 > d.n) {
        return -1;
    }
    memcpy(first, d.b + i, 4);
    return (long)v;
}

/* The opcode an empty function's only instruction has ("return"). */
static int empty_opcode(lua_State *L)
{
    static int op = -1; /* the same in every state */
    uint32_t ins;

    if (op < 0 && luaL_loadstring(L, "return function() end") == LUA_OK) {
        if (lua_pcall(L, 0, 1, 0) == LUA_OK && code_of(L, -1, &ins) == 1) {
            op = (int)(ins & 0x7f);
        }
        lua_pop(L, 1);
    } else if (op < 0) {
        lua_pop(L, 1);
    }
    return op;
}

void sfemu_rulefn_inspect(lua_State *L, int idx, struct sfemu_rule_fn *out)
{
    lua_CFunction cf = lua_tocfunction(L, idx);
    lua_Debug ar;
    uint32_t ins;
    int op;

    idx = lua_absindex(L, idx);
    memset(out, 0, sizeof(*out));
    lua_pushvalue(L, idx);
    lua_getinfo(L, ">u", &ar);
    /* Arguments past the last parameter are never seen: not pushed. */
    out->nparams = ar.isvararg ? INT_MAX : ar.nparams;
    for (int i = 0; cf && i < n_natives; i++) {
        if (natives[i].fn == cf) {
            out->declines = natives[i].declines;
        }
    }
    op = cf ? -1 : empty_opcode(L);
    out->empty = op >= 0 && !ar.isvararg && code_of(L, idx, &ins) == 1 &&
                 (int)(ins & 0x7f) == op;
}
