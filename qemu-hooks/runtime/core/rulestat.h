/*
 * How often each rule file ran and how often it gave the result: the
 * analysis record's "rules" (docs/analysis.md).  Counting is on only when
 * something asked for it (-sfanalysis); a file loaded while it is off gets
 * no counter, and the hot path tests one pointer.
 */
#ifndef SFEMU_RULESTAT_H
#define SFEMU_RULESTAT_H

#include <stdatomic.h>
#include <stdint.h>

struct sfemu_rulestat {
    _Atomic uint64_t calls, intercepted;
    struct sfemu_rulestat *next;
    char path[]; /* as loaded (absolute) */
};

/* Turns counting on (before the rules load). */
void sfemu_rulestat_enable(void);
/* The process-wide counter of a rule file, or NULL (off, out of memory).
 * Every thread's Lua state loading that path shares it. */
struct sfemu_rulestat *sfemu_rulestat_get(const char *path);

static inline void sfemu_rulestat_count(struct sfemu_rulestat *s,
                                        int intercepted)
{
    if (s) {
        atomic_fetch_add_explicit(&s->calls, 1, memory_order_relaxed);
        if (intercepted) {
            atomic_fetch_add_explicit(&s->intercepted, 1, memory_order_relaxed);
        }
    }
}

/* Calls fn for every file that ran at least once. */
void sfemu_rulestat_each(void (*fn)(void *opaque, const char *path,
                                    uint64_t calls, uint64_t intercepted),
                         void *opaque);

#endif
