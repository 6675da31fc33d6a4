/*
 * Rule-file counters (rulestat.h): a list found by path under a mutex at
 * load time only; the counts themselves are relaxed atomics.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/rulestat.h"

static struct {
    pthread_mutex_t lock;
    struct sfemu_rulestat *head;
    int on;
} stats = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* A forked child counts its own calls from zero. */
static void rulestat_atfork_child(void)
{
    pthread_mutex_t init = PTHREAD_MUTEX_INITIALIZER;

    stats.lock = init;
    for (struct sfemu_rulestat *s = stats.head; s; s = s->next) {
        atomic_store(&s->calls, 0);
        atomic_store(&s->intercepted, 0);
    }
}

void sfemu_rulestat_enable(void)
{
    if (!stats.on) {
        stats.on = 1;
        pthread_atfork(NULL, NULL, rulestat_atfork_child);
    }
}

struct sfemu_rulestat *sfemu_rulestat_get(const char *path)
{
    struct sfemu_rulestat *s;

    if (!stats.on) {
        return NULL;
    }
    pthread_mutex_lock(&stats.lock);
    for (s = stats.head; s && strcmp(s->path, path); s = s->next) {
    }
    if (!s && (s = calloc(1, sizeof(*s) + strlen(path) + 1))) {
        strcpy(s->path, path);
        s->next = stats.head;
        stats.head = s;
    }
    pthread_mutex_unlock(&stats.lock);
    return s;
}

void sfemu_rulestat_each(void (*fn)(void *opaque, const char *path,
                                    uint64_t calls, uint64_t intercepted),
                         void *opaque)
{
    pthread_mutex_lock(&stats.lock);
    for (struct sfemu_rulestat *s = stats.head; s; s = s->next) {
        uint64_t n = atomic_load(&s->calls);

        if (n) {
            fn(opaque, s->path, n, atomic_load(&s->intercepted));
        }
    }
    pthread_mutex_unlock(&stats.lock);
}
