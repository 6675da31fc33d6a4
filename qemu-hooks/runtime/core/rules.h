/*
 * Rule lookup, priority, compiled-chunk cache and hot reload (the watcher
 * is rulewatch.c).  Priority:
 * the override dirs (SFEMU_RULES_OVERRIDE_DIR, or syscall_override_user/ then
 * syscall_override/), then syscall/, then the rules directory itself (the V2
 * seed's flat layout).  entry.lua and finish.lua sit in the rules directory.
 */
#ifndef SFEMU_RULES_H
#define SFEMU_RULES_H

#include "core/luastate.h"

#include <stdatomic.h>
#include <stdint.h>

/* Bumped by the rules watcher (rulewatch.c) when rules changed. */
extern atomic_uint sfemu_rules_gen;
/* Nonzero while inotify watches the rule dirs: then a bump is a real change
 * and a loaded file is also compared by content, not only by stat. */
extern int sfemu_rules_watching;

void sfemu_rules_init(void);
void sfemu_rules_state_init(struct sfemu_luastate *c);
/* The watcher saw a change: every state re-checks its files. */
void sfemu_rules_changed(void);
void sfemu_rules_recheck(struct sfemu_luastate *c, unsigned gen);
/* On every hooked syscall: a number compared, unless rules changed. */
static inline void sfemu_rules_revalidate(struct sfemu_luastate *c)
{
    unsigned gen = atomic_load_explicit(&sfemu_rules_gen, memory_order_acquire);

    if (__builtin_expect(gen != c->gen, 0)) {
        sfemu_rules_recheck(c, gen);
    }
}
/* The do_syscall rule of a syscall: a file index or SFEMU_SLOT_NONE. */
int sfemu_rules_resolve(struct sfemu_luastate *c, int num);
/* entry.lua / finish.lua: file index or SFEMU_SLOT_NONE. */
void sfemu_rules_resolve_hooks(struct sfemu_luastate *c);
/* Log a rule failure, rate-limited per file. */
void sfemu_rules_error(struct sfemu_luastate *c, int file, const char *what);

/* The rule directories in priority order (for sfemu.rule_dirs). */
int sfemu_rules_dirs(const char *const **dirs);

#endif
