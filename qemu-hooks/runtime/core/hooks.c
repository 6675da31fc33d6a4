/*
 * Around every guest syscall: entry.lua's entry(), then the syscall's rule
 * (V1 (action, ret), V2 single result, or nothing = run the real syscall),
 * then the real syscall, then finish.lua's finish().  A failing or runaway
 * rule is logged and the real syscall runs: a broken rule never kills the
 * guest.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "lua_budget.h"
#include "lua_sandbox.h"
#include "core/luastate.h"
#include "core/hooks.h"
#include "core/observer.h"
#include "core/realcall.h"
#include "core/rules.h"
#include "core/runtime.h"
#include "core/syscall_names.h"

enum verdict { RUN_REAL, RETURN_VALUE };

static int nr_exit_group = -1, nr_exit = -1, nr_clone = -1, nr_fork = -1,
           nr_vfork = -1;

void sfemu_hooks_init(void)
{
    nr_exit_group = sfemu_syscall_num("exit_group");
    nr_exit = sfemu_syscall_num("exit");
    nr_clone = sfemu_syscall_num("clone");
    nr_fork = sfemu_syscall_num("fork");
    nr_vfork = sfemu_syscall_num("vfork");
}

/*
 * The guest's threads in this process, so that the plain exit of the last
 * one (old uClibc's _exit) ends the process for the observers as
 * exit_group does.  QEMU runs clone(CLONE_VM) without CLONE_VFORK as a
 * thread; a forked child starts with one.  Counted before the clone runs,
 * so a new thread that exits at once never sees itself the last.
 */
#define G_CLONE_VM 0x100
#define G_CLONE_VFORK 0x4000

static atomic_int guest_threads = 1;

int sfemu_guest_threads(void)
{
    return atomic_load_explicit(&guest_threads, memory_order_relaxed);
}

static int makes_thread(int num, const int64_t a[SFEMU_NARGS])
{
    return num == nr_clone && (a[0] & G_CLONE_VM) && !(a[0] & G_CLONE_VFORK);
}

static int64_t counted_syscall(int num, const int64_t a[SFEMU_NARGS])
{
    int thread = makes_thread(num, a);
    int64_t ret;

    if (thread) {
        atomic_fetch_add(&guest_threads, 1);
    } else if (num == nr_exit_group) {
        sfemu_observers_end("exit_group", 0); /* it does not return */
    } else if (num == nr_exit && atomic_fetch_sub(&guest_threads, 1) <= 1) {
        sfemu_observers_end("exit", 0); /* the last thread: the process */
    }
    ret = sfemu_real_syscall(num, a);
    if (thread && ret < 0 && ret >= -4095) {
        atomic_fetch_sub(&guest_threads, 1);
    } else if (num == nr_exit) {
        atomic_fetch_add(&guest_threads, 1); /* restarted: it did not end */
    } else if (ret == 0 && !thread &&
               (num == nr_clone || num == nr_fork || num == nr_vfork)) {
        atomic_store(&guest_threads, 1); /* the forked child */
    }
    return ret;
}

enum conv { CONV_OK, CONV_NOT_NUMBER, CONV_BAD_NUMBER };

/* An integer the guest's word holds (on 32-bit guests signed or not). */
static int fits_word(lua_Integer i)
{
    return !sfemu_rt.t || sfemu_rt.t->abi_bits != 32 ||
           (i >= INT32_MIN && i <= (lua_Integer)UINT32_MAX);
}

/* A Lua value as a syscall result.  A number that is no integer of the
 * guest's word (NaN, +-inf, 2.5, 2^40 on a 32-bit guest) is CONV_BAD_NUMBER,
 * never a silent 0 or truncation. */
static enum conv to_result(lua_State *L, int idx, int64_t *out)
{
    int isnum;
    lua_Integer i = lua_tointegerx(L, idx, &isnum);

    if (__builtin_expect(isnum && fits_word(i), 1)) {
        *out = sfemu_abi_long(i);
        return CONV_OK;
    }
    return isnum || lua_type(L, idx) == LUA_TNUMBER ? CONV_BAD_NUMBER
                                                    : CONV_NOT_NUMBER;
}

/* Logs a rule's result that is a number but no syscall result. */
static void bad_number(struct sfemu_luastate *c, int file, int idx,
                       const char *what)
{
    char num[64], msg[160];
    int isnum;
    lua_Integer i = lua_tointegerx(c->L, idx, &isnum);

    if (isnum) {
        snprintf(num, sizeof(num), "%lld", (long long)i);
    } else {
        snprintf(num, sizeof(num), "%.14g", (double)lua_tonumber(c->L, idx));
    }
    snprintf(msg, sizeof(msg), "returned %s %s, which is no %d-bit integer",
             what, num, sfemu_rt.t ? sfemu_rt.t->abi_bits : 64);
    sfemu_rules_error(c, file, msg);
}

/* Reads a rule's results (V1 pair, V2 single value, or none). */
static inline __attribute__((always_inline)) enum verdict
verdict_of(struct sfemu_luastate *c, int file, int base, int64_t *ret)
{
    lua_State *L = c->L;
    int n = lua_gettop(L) - base;
    enum verdict v = RUN_REAL;

    if (n == 0) {
        return RUN_REAL;
    }
    if (n == 1 && !lua_isnil(L, base + 1)) {
        enum conv r = to_result(L, base + 1, ret);
        if (r == CONV_OK) {
            v = RETURN_VALUE;
        } else if (r == CONV_BAD_NUMBER) {
            bad_number(c, file, base + 1, "the result");
        } else {
            sfemu_rules_error(c, file,
                              lua_pushfstring(L, "returned a %s, not a number",
                                              luaL_typename(L, base + 1)));
        }
    } else if (n >= 2) {
        int64_t action;
        if (to_result(L, base + 1, &action) != CONV_OK ||
            (action != 0 && action != 1)) {
            sfemu_rules_error(c, file, "returned an action that is not 0 or 1");
        } else if (action == 1) {
            enum conv r = CONV_OK;
            if (lua_isnil(L, base + 2)) {
                *ret = 0;
                v = RETURN_VALUE;
            } else if ((r = to_result(L, base + 2, ret)) == CONV_OK) {
                v = RETURN_VALUE;
            } else if (r == CONV_BAD_NUMBER) {
                bad_number(c, file, base + 2, "action 1 with the result");
            } else {
                sfemu_rules_error(c, file,
                                  "returned action 1 with a "
                                  "non-number result");
            }
        }
    }
    lua_settop(L, base);
    return v;
}

/* Calls the function of a file with nargs pushed; 0 or -1 on error. */
static inline __attribute__((always_inline)) int
call_file(struct sfemu_luastate *c, int file, int nargs, int base)
{
    lua_State *L = c->L;
    int rc;

    c->depth++;
    lua_budget_enter(&c->budget);
    rc = lua_pcall(L, nargs, LUA_MULTRET, 0);
    lua_budget_leave(&c->budget);
    c->depth--;
    if (rc != LUA_OK) {
        char buf[64];
        sfemu_rules_error(c, file, lsb_error_text(L, -1, buf, sizeof(buf)));
        lua_settop(L, base);
        return -1;
    }
    return 0;
}

/*
 * Pushes a file's function and the leading arguments it takes: num, then
 * the syscall's name when with_name, then ret and intercepted when
 * with_result (finish), then a1..a8.  A function with fixed parameters never sees the
 * arguments past its last one, so they are not pushed (entry(num, name)
 * costs two pushes, not ten); a vararg function gets them all.  Returns
 * the number of arguments pushed.
 */
static inline __attribute__((always_inline)) int
push_call(struct sfemu_luastate *c, int file, int num, int with_name,
          int with_result, int64_t ret, int intercepted,
          const int64_t a[SFEMU_NARGS])
{
    lua_State *L = c->L;
    const struct sfemu_rule_file *f = &c->files[file];
    int want = f->fn.nparams, n = 1, na;

    if (__builtin_expect(f->stack_idx != 0, 1)) {
        lua_pushvalue(L, f->stack_idx);
    } else {
        lua_rawgeti(L, LUA_REGISTRYINDEX, f->fn_ref);
    }
    if (want < 1) {
        return 0;
    }
    lua_pushinteger(L, num);
    if (with_name && n++ < want) {
        unsigned idx = (unsigned)(num - c->slot_base);
        if (idx < (unsigned)c->nnames) {
            lua_pushvalue(L, (int)idx + 1);
        } else {
            lua_pushnil(L);
        }
    }
    if (with_result) {
        if (n++ < want) {
            lua_pushinteger(L, ret);
        }
        if (n++ < want) {
            lua_pushboolean(L, intercepted);
        }
    }
    if (n >= want) {
        return want;
    }
    na = want - n < SFEMU_NARGS ? want - n : SFEMU_NARGS;
    for (int i = 0; i < na; i++) {
        lua_pushinteger(L, a[i]);
    }
    return n + na;
}

/*
 * The retry in place finish asked for (sfemu_hooks_request_retry): the
 * syscall again through its rule, as the rules are now (a fix was just
 * installed), then the real syscall if the rule does not answer.  Run from
 * here, between Lua calls, where reloading rules is safe.
 */
static int64_t rerun(struct sfemu_luastate *c, int num,
                     const int64_t a[SFEMU_NARGS], int *intercepted)
{
    int64_t ret = 0;
    int slot = SFEMU_SLOT_NONE, base;
    unsigned idx = (unsigned)(num - c->slot_base);

    sfemu_rules_revalidate(c);
    if (idx < (unsigned)c->nslots) {
        slot = sfemu_rules_resolve(c, num);
    }
    base = lua_gettop(c->L); /* after loading: a new rule takes a slot */
    if (slot >= 0 && c->files[slot].fn.declines &&
        c->files[slot].fn.declines(num, a)) {
        slot = SFEMU_SLOT_NONE;
    }
    *intercepted = 0;
    if (slot >= 0) {
        int n = push_call(c, slot, num, 0, 0, 0, 0, a);
        if (call_file(c, slot, n, base) == 0 &&
            verdict_of(c, slot, base, &ret) == RETURN_VALUE) {
            *intercepted = 1;
        }
        sfemu_rulestat_count(c->files[slot].stat, *intercepted);
    }
    if (!*intercepted) {
        ret = counted_syscall(num, a);
    }
    c->retried = 1;
    c->retry_ret = ret;
    return ret;
}

int sfemu_hooks_request_retry(void)
{
    struct sfemu_luastate *c = sfemu_luastate_tls;

    if (!c || !c->depth) {
        return -1; /* only from a rule (finish) running on this thread */
    }
    c->retry = 1;
    return 0;
}

int sfemu_hooks_retry_result(int64_t *ret)
{
    struct sfemu_luastate *c = sfemu_luastate_tls;

    if (!c || !c->retried) {
        return 0;
    }
    c->retried = 0;
    *ret = c->retry_ret;
    return 1;
}

int64_t sfemu_rt_syscall(int num, const int64_t a[SFEMU_NARGS])
{
    struct sfemu_luastate *c;
    int64_t ret = 0;
    unsigned idx;
    int slot, intercepted = 0, base;

    if (!sfemu_rt.active || !(c = sfemu_luastate_get()) || c->depth) {
        return sfemu_real_syscall(num, a);
    }
    sfemu_rules_revalidate(c);
    if (c->entry_file == SFEMU_SLOT_UNRESOLVED) {
        sfemu_rules_resolve_hooks(c);
    }
    idx = (unsigned)(num - c->slot_base);
    slot = SFEMU_SLOT_NONE;
    if (idx < (unsigned)c->nslots) {
        slot = c->slot[idx];
        if (slot == SFEMU_SLOT_UNRESOLVED) {
            slot = sfemu_rules_resolve(c, num);
        }
        if (slot >= 0 && c->files[slot].fn.declines &&
            c->files[slot].fn.declines(num, a)) {
            slot = SFEMU_SLOT_NONE; /* a C rule that would return nothing */
        }
    }
    if (slot < 0 && c->entry_file < 0 && c->finish_file < 0 &&
        !sfemu_observers_want_all) {
        return sfemu_real_syscall(num, a); /* the fast path */
    }

    sfemu_observers_enter(num, a);
    base = lua_gettop(c->L);
    if (c->entry_file >= 0) {
        int n = push_call(c, c->entry_file, num, 1, 0, 0, 0, a);
        if (call_file(c, c->entry_file, n, base) == 0 &&
            verdict_of(c, c->entry_file, base, &ret) == RETURN_VALUE) {
            intercepted = 1;
        }
        sfemu_rulestat_count(c->files[c->entry_file].stat, intercepted);
    }
    if (!intercepted && slot >= 0) {
        int n = push_call(c, slot, num, 0, 0, 0, 0, a);
        if (call_file(c, slot, n, base) == 0 &&
            verdict_of(c, slot, base, &ret) == RETURN_VALUE) {
            intercepted = 1;
        }
        sfemu_rulestat_count(c->files[slot].stat, intercepted);
    }
    if (!intercepted) {
        ret = counted_syscall(num, a);
    }
    if (c->finish_file >= 0) {
        int n = push_call(c, c->finish_file, num, 1, 1, ret, intercepted, a);
        int replaced = 0;
        if (call_file(c, c->finish_file, n, base) == 0) {
            int64_t r2;
            if (lua_gettop(c->L) > base && !lua_isnil(c->L, base + 1)) {
                enum conv r = to_result(c->L, base + 1, &r2);
                if (r == CONV_OK) {
                    ret = r2;
                    replaced = 1;
                } else if (r == CONV_BAD_NUMBER) {
                    bad_number(c, c->finish_file, base + 1, "the result");
                }
            }
            lua_settop(c->L, base);
        }
        sfemu_rulestat_count(c->files[c->finish_file].stat, replaced);
        if (__builtin_expect(c->retry, 0)) {
            c->retry = 0;
            ret = rerun(c, num, a, &intercepted);
        }
    }
    sfemu_observers_exit(num, a, ret, intercepted);
    return ret;
}

void sfemu_rt_fatal_signal(int guest_sig)
{
    sfemu_observers_end("signal", guest_sig);
}
