/*
 * string.find, string.match, string.gmatch and string.gsub for the engine's
 * Lua states, with Lua 5.4's pattern language and the same results, but
 * every matching step charged to the run's budget (budget.c).  Lua's own
 * matcher is C that can backtrack for hours on a pattern like
 * ("a"):rep(1e5):find(".-.-.-b") without running a single VM instruction,
 * out of reach of the count hook.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <lauxlib.h>
#include "fakefs_internal.h"

#define MAXCAP 32     /* LUA_MAXCAPTURES */
#define MAXDEPTH 200  /* nested items before "pattern too complex" */
#define CHARGE 1024   /* steps between two budget charges */
#define CAP_OPEN (-1) /* capture started, not closed */
#define CAP_POS (-2)  /* position capture "()" */

struct pm {
    lua_State *L;
    const char *s0, *s_end; /* subject */
    const char *p_end;      /* pattern */
    int depth;
    long steps;
    int ncap;
    struct {
        const char *at;
        ptrdiff_t len; /* or CAP_OPEN, CAP_POS */
    } cap[MAXCAP];
};

static void step(struct pm *m)
{
    if (++m->steps >= CHARGE) {
        fakefs_budget_charge(m->L, m->steps);
        m->steps = 0;
    }
}

static void pm_init(struct pm *m, lua_State *L, const char *s, size_t ls,
                    const char *p, size_t lp)
{
    m->L = L;
    m->s0 = s;
    m->s_end = s + ls;
    m->p_end = p + lp;
    m->depth = MAXDEPTH;
    m->steps = 0;
    m->ncap = 0;
}

/* ------------------------------------------------------------ classes */

/* The end of the single-character class at p. */
static const char *class_end(struct pm *m, const char *p)
{
    char c = *p++;
    if (c == '%') {
        if (p >= m->p_end) {
            luaL_error(m->L, "malformed pattern (ends with '%%')");
        }
        return p + 1;
    }
    if (c == '[') {
        if (*p == '^') {
            p++;
        }
        /* the first character of a set is itself, even ']' */
        do {
            if (p >= m->p_end) {
                luaL_error(m->L, "malformed pattern (missing ']')");
            }
            c = *p++;
            if (c == '%' && p < m->p_end) {
                p++;
            }
        } while (*p != ']');
        return p + 1;
    }
    return p;
}

static int in_class(int c, int cl)
{
    int r;
    switch (tolower(cl)) {
    case 'a': r = isalpha(c); break;
    case 'c': r = iscntrl(c); break;
    case 'd': r = isdigit(c); break;
    case 'g': r = isgraph(c); break;
    case 'l': r = islower(c); break;
    case 'p': r = ispunct(c); break;
    case 's': r = isspace(c); break;
    case 'u': r = isupper(c); break;
    case 'w': r = isalnum(c); break;
    case 'x': r = isxdigit(c); break;
    default: return cl == c; /* an escaped character stands for itself */
    }
    return isupper(cl) ? !r : r != 0;
}

/* c in the set from '[' at p to its ']' at close? */
static int in_set(int c, const char *p, const char *close)
{
    int want = 1;
    if (p[1] == '^') {
        want = 0;
        p++;
    }
    while (++p < close) {
        if (*p == '%') {
            p++;
            if (in_class(c, (unsigned char)*p)) {
                return want;
            }
        } else if (p[1] == '-' && p + 2 < close) {
            if ((unsigned char)*p <= c && c <= (unsigned char)p[2]) {
                return want;
            }
            p += 2;
        } else if ((unsigned char)*p == c) {
            return want;
        }
    }
    return !want;
}

/* Does the character at s match the class p..ep? */
static int one(struct pm *m, const char *s, const char *p, const char *ep)
{
    if (s >= m->s_end) {
        return 0;
    }
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case '%': return in_class(c, (unsigned char)p[1]);
    case '[': return in_set(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

/* ------------------------------------------------------------ matching */

static const char *match(struct pm *m, const char *s, const char *p);

static const char *greedy(struct pm *m, const char *s, const char *p,
                          const char *ep)
{
    ptrdiff_t n = 0;
    while (one(m, s + n, p, ep)) {
        n++;
        step(m);
    }
    for (; n >= 0; n--) { /* the longest first, then shorter */
        const char *r = match(m, s + n, ep + 1);
        if (r) {
            return r;
        }
        step(m);
    }
    return NULL;
}

static const char *lazy(struct pm *m, const char *s, const char *p,
                        const char *ep)
{
    for (;;) {
        const char *r = match(m, s, ep + 1);
        if (r) {
            return r;
        }
        if (!one(m, s, p, ep)) {
            return NULL;
        }
        s++;
        step(m);
    }
}

static const char *open_capture(struct pm *m, const char *s, const char *p,
                                ptrdiff_t what)
{
    if (m->ncap >= MAXCAP) {
        luaL_error(m->L, "too many captures");
    }
    m->cap[m->ncap].at = s;
    m->cap[m->ncap].len = what;
    m->ncap++;
    const char *r = match(m, s, p);
    if (!r) {
        m->ncap--;
    }
    return r;
}

static const char *close_capture(struct pm *m, const char *s, const char *p)
{
    int k = m->ncap - 1;
    while (k >= 0 && m->cap[k].len != CAP_OPEN) {
        k--;
    }
    if (k < 0) {
        luaL_error(m->L, "invalid pattern capture");
    }
    m->cap[k].len = s - m->cap[k].at;
    const char *r = match(m, s, p);
    if (!r) {
        m->cap[k].len = CAP_OPEN;
    }
    return r;
}

static const char *backref(struct pm *m, const char *s, int d)
{
    int k = d - '1';
    if (k < 0 || k >= m->ncap || m->cap[k].len == CAP_OPEN) {
        luaL_error(m->L, "invalid capture index %%%d in pattern", k + 1);
    }
    ptrdiff_t len = m->cap[k].len;
    if (len >= 0 && m->s_end - s >= len && !memcmp(m->cap[k].at, s, len)) {
        return s + len;
    }
    return NULL;
}

static const char *balance(struct pm *m, const char *s, const char *p)
{
    if (p + 1 >= m->p_end) {
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    }
    if (s >= m->s_end || *s != p[0]) {
        return NULL;
    }
    int depth = 1;
    while (++s < m->s_end) {
        step(m);
        if (*s == p[1]) {
            if (--depth == 0) {
                return s + 1;
            }
        } else if (*s == p[0]) {
            depth++;
        }
    }
    return NULL;
}

/* Match pattern p against the subject at s: the end of the match, or NULL. */
static const char *match(struct pm *m, const char *s, const char *p)
{
    if (m->depth-- == 0) {
        luaL_error(m->L, "pattern too complex");
    }
    while (s && p < m->p_end) {
        step(m);
        if (*p == '(') {
            s = p[1] == ')' ? open_capture(m, s, p + 2, CAP_POS)
                            : open_capture(m, s, p + 1, CAP_OPEN);
            break;
        }
        if (*p == ')') {
            s = close_capture(m, s, p + 1);
            break;
        }
        if (*p == '$' && p + 1 == m->p_end) {
            s = s == m->s_end ? s : NULL;
            break;
        }
        if (*p == '%' && p[1] == 'b') {
            s = balance(m, s, p + 2);
            p += 4;
            continue;
        }
        if (*p == '%' && p[1] == 'f') {
            p += 2;
            if (*p != '[') {
                luaL_error(m->L, "missing '[' after '%%f' in pattern");
            }
            const char *ep = class_end(m, p);
            int before = s == m->s0 ? 0 : (unsigned char)s[-1];
            int at = s < m->s_end ? (unsigned char)*s : 0;
            if (in_set(before, p, ep - 1) || !in_set(at, p, ep - 1)) {
                s = NULL;
            }
            p = ep;
            continue;
        }
        if (*p == '%' && isdigit((unsigned char)p[1])) {
            s = backref(m, s, p[1]);
            p += 2;
            continue;
        }
        /* a single-character class with an optional repetition */
        const char *ep = class_end(m, p);
        char rep = ep < m->p_end ? *ep : 0;
        if (!one(m, s, p, ep)) {
            if (rep == '*' || rep == '?' || rep == '-') {
                p = ep + 1; /* zero repetitions will do */
                continue;
            }
            s = NULL;
            break;
        }
        if (rep == '?') {
            const char *r = match(m, s + 1, ep + 1);
            if (r) {
                s = r;
                break;
            }
            p = ep + 1;
        } else if (rep == '+') {
            s = greedy(m, s + 1, p, ep);
            break;
        } else if (rep == '*') {
            s = greedy(m, s, p, ep);
            break;
        } else if (rep == '-') {
            s = lazy(m, s, p, ep);
            break;
        } else {
            s++;
            p = ep;
        }
    }
    m->depth++;
    return s;
}

/* ------------------------------------------------------------ captures */

/* Push capture k (the whole match s..e when there are none). */
static void push_capture(struct pm *m, int k, const char *s, const char *e)
{
    if (k >= m->ncap) {
        if (k != 0) {
            luaL_error(m->L, "invalid capture index %%%d", k + 1);
        }
        lua_pushlstring(m->L, s, (size_t)(e - s));
        return;
    }
    ptrdiff_t len = m->cap[k].len;
    if (len == CAP_OPEN) {
        luaL_error(m->L, "unfinished capture");
    }
    if (len == CAP_POS) {
        lua_pushinteger(m->L, (m->cap[k].at - m->s0) + 1);
    } else {
        lua_pushlstring(m->L, m->cap[k].at, (size_t)len);
    }
}

/* Push all captures, or the whole match (if s) when there are none. */
static int push_captures(struct pm *m, const char *s, const char *e)
{
    int n = m->ncap == 0 && s ? 1 : m->ncap;
    luaL_checkstack(m->L, n, "too many captures");
    for (int k = 0; k < n; k++) {
        push_capture(m, k, s, e);
    }
    return n;
}

/* ------------------------------------------------------------ functions */

/* A 1-based position that may count from the end, as a 0-based offset. */
static size_t start_at(lua_Integer pos, size_t len)
{
    if (pos > 0) {
        return (size_t)pos - 1;
    }
    if (pos == 0 || pos < -(lua_Integer)len) {
        return 0;
    }
    return len + (size_t)pos;
}

static int plain_pattern(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++) {
        if (strchr("^$*+?.([%-", p[i]) && p[i]) {
            return 0;
        }
    }
    return 1;
}

static int find_or_match(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_at(luaL_optinteger(L, 3, 1), ls);
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || plain_pattern(p, lp))) {
        const char *hit = lp ? memmem(s + init, ls - init, p, lp) : s + init;
        if (hit) {
            fakefs_budget_charge(L, (long)((hit - s) - (ptrdiff_t)init) / 16);
            lua_pushinteger(L, (hit - s) + 1);
            lua_pushinteger(L, (hit - s) + (lua_Integer)lp);
            return 2;
        }
        luaL_pushfail(L);
        return 1;
    }
    struct pm m;
    int anchor = lp && *p == '^';
    pm_init(&m, L, s, ls, p + anchor, lp - anchor);
    const char *at = s + init;
    do {
        m.ncap = 0;
        const char *e = match(&m, at, p + anchor);
        if (e) {
            fakefs_budget_charge(L, m.steps);
            if (find) {
                lua_pushinteger(L, (at - s) + 1);
                lua_pushinteger(L, e - s);
                return push_captures(&m, NULL, NULL) + 2;
            }
            return push_captures(&m, at, e);
        }
    } while (at++ < m.s_end && !anchor);
    fakefs_budget_charge(L, m.steps);
    luaL_pushfail(L);
    return 1;
}

static int p_find(lua_State *L)
{
    return find_or_match(L, 1);
}

static int p_match(lua_State *L)
{
    return find_or_match(L, 0);
}

/* gmatch's iterator: upvalues subject, pattern, state {next, last}. */
static int gmatch_next(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    lua_Integer *st = lua_touserdata(L, lua_upvalueindex(3));
    struct pm m;
    pm_init(&m, L, s, ls, p, lp);
    for (lua_Integer at = st[0]; at <= (lua_Integer)ls; at++) {
        m.ncap = 0;
        const char *e = match(&m, s + at, p);
        if (e && e - s != st[1]) { /* an empty match right after the last
                                      one does not count */
            st[0] = st[1] = e - s;
            fakefs_budget_charge(L, m.steps);
            return push_captures(&m, s + at, e);
        }
    }
    fakefs_budget_charge(L, m.steps);
    return 0;
}

static int p_gmatch(lua_State *L)
{
    size_t ls;
    luaL_checklstring(L, 1, &ls);
    luaL_checkstring(L, 2);
    size_t init = start_at(luaL_optinteger(L, 3, 1), ls);
    lua_settop(L, 2);
    lua_Integer *st = lua_newuserdatauv(L, 2 * sizeof *st, 0);
    st[0] = init > ls ? (lua_Integer)ls + 1 : (lua_Integer)init;
    st[1] = -1;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

/* gsub's replacement string: %0-%9 and %%. */
static void add_template(struct pm *m, luaL_Buffer *b, const char *s,
                         const char *e)
{
    size_t l;
    const char *t = lua_tolstring(m->L, 3, &l);
    for (size_t i = 0; i < l; i++) {
        if (t[i] != '%') {
            luaL_addchar(b, t[i]);
            continue;
        }
        char d = ++i < l ? t[i] : 0;
        if (d == '%') {
            luaL_addchar(b, '%');
        } else if (d == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (isdigit((unsigned char)d)) {
            push_capture(m, d - '1', s, e);
            luaL_tolstring(m->L, -1, NULL); /* a position becomes digits */
            lua_remove(m->L, -2);
            luaL_addvalue(b);
        } else {
            luaL_error(m->L, "invalid use of '%%' in replacement string");
        }
    }
}

/* Add the replacement of match s..e; 1 if it changed the subject. */
static int add_replacement(struct pm *m, luaL_Buffer *b, const char *s,
                           const char *e, int type)
{
    lua_State *L = m->L;
    if (type == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = push_captures(m, s, e);
        lua_call(L, n, 1);
    } else if (type == LUA_TTABLE) {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    } else {
        add_template(m, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) { /* nil or false: keep the original */
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1)) {
        return luaL_error(L, "invalid replacement value (a %s)",
                          luaL_typename(L, -1));
    }
    luaL_addvalue(b);
    return 1;
}

static int p_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int type = lua_type(L, 3);
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L,
                     type == LUA_TNUMBER || type == LUA_TSTRING ||
                         type == LUA_TFUNCTION || type == LUA_TTABLE,
                     3, "string/function/table");
    int anchor = lp && *p == '^';
    struct pm m;
    pm_init(&m, L, src, ls, p + anchor, lp - anchor);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *last = NULL;
    lua_Integer n = 0;
    int changed = 0;
    while (n < max) {
        m.ncap = 0;
        const char *e = match(&m, src, p + anchor);
        if (e && e != last) {
            n++;
            changed |= add_replacement(&m, &b, src, e, type);
            src = last = e;
        } else if (src < m.s_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor) {
            break;
        }
    }
    fakefs_budget_charge(L, m.steps);
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, (size_t)(m.s_end - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

void fakefs_patterns_register(lua_State *L)
{
    static const luaL_Reg fns[] = { { "find", p_find },
                                    { "match", p_match },
                                    { "gmatch", p_gmatch },
                                    { "gsub", p_gsub },
                                    { NULL, NULL } };
    /* the string table itself: string.find and ("x"):find alike */
    lua_getglobal(L, "string");
    if (lua_istable(L, -1)) {
        luaL_setfuncs(L, fns, 0);
    }
    lua_pop(L, 1);
}
