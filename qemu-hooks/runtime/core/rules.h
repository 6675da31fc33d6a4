/*
 * Rule lookup, priority, compiled-chunk cache and hot reload.  Priority:
 * the override dirs (SFEMU_RULES_OVERRIDE_DIR, or syscall_override_user/ then
 * syscall_override/), then syscall/, then the rules directory itself (the V2
 * seed's flat layout).  entry.lua and finish.lua sit in the rules directory.
 */
#ifndef SFEMU_RULES_H
#define SFEMU_RULES_H

#include "core/luastate.h"

#include <stdint.h>

/* SFEMU_RULES_CHECK_MS, in ns. */
extern int64_t sfemu_rules_check_ns;

void sfemu_rules_init(void);
void sfemu_rules_state_init(struct sfemu_luastate *c);
/* Re-stat rule files and dirs at most every SFEMU_RULES_CHECK_MS. */
void sfemu_rules_revalidate(struct sfemu_luastate *c);
/* The do_syscall rule of a syscall: a file index or SFEMU_SLOT_NONE. */
int sfemu_rules_resolve(struct sfemu_luastate *c, int num);
/* entry.lua / finish.lua: file index or SFEMU_SLOT_NONE. */
void sfemu_rules_resolve_hooks(struct sfemu_luastate *c);
/* Log a rule failure, rate-limited per file. */
void sfemu_rules_error(struct sfemu_luastate *c, int file, const char *what);

/* The rule directories in priority order (for sfemu.rule_dirs). */
int sfemu_rules_dirs(const char *const **dirs);

#endif
