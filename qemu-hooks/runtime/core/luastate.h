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

/* A rule file as loaded into one Lua state. */
struct sfemu_rule_file {
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    int fn_ref;  /* the rule's function (do_syscall/entry/finish) */
    int present; /* still found at the last revalidation */
};

#define SFEMU_SLOT_UNRESOLVED (-2)
#define SFEMU_SLOT_NONE (-1)

struct sfemu_luastate {
    /* The instruction budget of a rule call (common/lua_budget.h); first,
     * so that the hot path reaches it at the state's own address. */
    struct lua_budget budget;
    lua_State *L;
    int tid;
    size_t mem_used, mem_limit;

    int *slot; /* per syscall: file index or SLOT_* */
    struct sfemu_rule_file *files;
    int nfiles, cap;
    int entry_file, finish_file; /* file index or SLOT_NONE */
    int names_ref;               /* table num -> name string */
    int64_t next_check_ns;
    unsigned check_tick;
    struct timespec dir_mtime[16];
    int depth; /* inside a Lua call */
};

/* The c_* bindings every new Lua state gets (set once at start-up). */
void sfemu_luastate_set_bindings(void (*open)(lua_State *L));
/* The calling thread's Lua state, created on first use (NULL on failure). */
struct sfemu_luastate *sfemu_luastate_get(void);
struct sfemu_luastate *sfemu_luastate_of(lua_State *L);

#endif
