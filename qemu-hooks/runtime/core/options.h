/*
 * The runtime's settings, parsed and validated from the one table in
 * sfemu/options.h: command-line options (through the glue), their QEMU_*
 * twins (QEMU's parser) and SFEMU_* environment variables.  A bad value
 * exits with a message naming the option or variable.
 */
#ifndef SFEMU_CORE_OPTIONS_H
#define SFEMU_CORE_OPTIONS_H

#include <lua.h>

#include "sfemu/options.h"

#define SFEMU_OPT_ID(id, ...) SFEMU_OPT_##id,
enum sfemu_opt { SFEMU_OPTIONS(SFEMU_OPT_ID, SFEMU_OPT_ID) SFEMU_OPT_COUNT };
#undef SFEMU_OPT_ID

struct sfemu_opt_value {
    const char *str; /* the value as given (DIR: absolute), or def */
    long num;        /* LONG, BOOL (0/1) and ENUM (index) values */
    long *kv;        /* KV: the numbers, in the order of def's keys */
    int given;       /* set on the command line or in the environment */
};

extern struct sfemu_opt_value sfemu_opts[SFEMU_OPT_COUNT];

/* Reads the SFEMU_* variables not overridden on the command line and fills
 * defaults; idempotent (the glue may ask for plugins before init). */
void sfemu_options_finish(void);

static inline const char *sfemu_opt_str(enum sfemu_opt id)
{
    return sfemu_opts[id].str;
}

static inline long sfemu_opt_long(enum sfemu_opt id)
{
    return sfemu_opts[id].num;
}

static inline int sfemu_opt_given(enum sfemu_opt id)
{
    return sfemu_opts[id].given;
}

/* A KV option's value for key (a key of its def; -1 for an unknown key). */
long sfemu_opt_kv(enum sfemu_opt id, const char *key);

/* Pushes the options that have a Lua key onto the table at the stack top,
 * and every option by name into a sub-table `options`. */
void sfemu_options_push_lua(lua_State *L);

#endif
