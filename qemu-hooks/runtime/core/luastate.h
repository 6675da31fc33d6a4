/*
 * The rules' Lua state of one guest thread (the V2 seed's
 * thread-local model), its compiled-rule cache and its budget bookkeeping.
 */
#ifndef SFEMU_LUASTATE_H
#define SFEMU_LUASTATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <lua.h>

#include "lua_budget.h"
#include "core/rulefn.h"
#include "core/rulestat.h"

/* A rule file as loaded into one Lua state. */
struct sfemu_rule_file {
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    uint64_t sum; /* content hash when loaded */
    int fn_ref;   /* the rule's function (do_syscall/entry/finish) */
    int stack_idx; /* a copy of it in the state's stack (pushed faster), 0: none */
    struct sfemu_rule_fn fn;     /* how to call it (rulefn.h) */
    int present;                 /* still found at the last revalidation */
    struct sfemu_rulestat *stat; /* its counters (NULL: not counted) */
};

#define SFEMU_SLOT_UNRESOLVED (-2)
#define SFEMU_SLOT_NONE (-1)

/* The bottom of every state's stack holds, at index num - slot_base + 1,
 * the name of syscall num (nil: none), then the rule functions' copies
 * (stack_idx): a hook pushes them with lua_pushvalue, no table lookup. */

struct sfemu_luastate {
    /* The instruction budget of a rule call (common/lua_budget.h); first,
     * so that the hot path reaches it at the state's own address. */
    struct lua_budget budget;
    lua_State *L;
    int tid;
    size_t mem_used, mem_limit;

    int *slot; /* per syscall (num - slot_base): file index or SLOT_* */
    int slot_base, nslots;
    struct sfemu_rule_file *files;
    int nfiles, cap;
    int entry_file, finish_file; /* file index or SLOT_NONE */
    unsigned gen;                /* sfemu_rules_gen the files were checked at */
    int depth;                   /* inside a Lua call */
    int nnames;                  /* names at the bottom of the stack */
    int nperm;                   /* stack slots kept: names, functions */
    /* finish asked for the syscall to run again through its rule (AI
     * repair's retry in place, hooks.c); its result when it did. */
    int retry, retried;
    int64_t retry_ret;
};

/* A Lua state like the rules' (the sandbox, the c_* bindings, a memory
 * limit and a budget) for a helper thread's own use, e.g. checking a rule
 * off the guest threads; NULL on failure.  Free with
 * sfemu_luastate_scratch_free. */
struct sfemu_luastate *sfemu_luastate_scratch(void);
void sfemu_luastate_scratch_free(struct sfemu_luastate *c);
/* The c_* bindings every new Lua state gets (set once at start-up). */
void sfemu_luastate_set_bindings(void (*open)(lua_State *L));
/* The calling thread's Lua state, created on first use (NULL on failure). */
extern __thread struct sfemu_luastate *sfemu_luastate_tls;
struct sfemu_luastate *sfemu_luastate_create(void);
static inline struct sfemu_luastate *sfemu_luastate_get(void)
{
    struct sfemu_luastate *c = sfemu_luastate_tls;

    return __builtin_expect(c != NULL, 1) ? c : sfemu_luastate_create();
}

#endif
