/*
 * Report rate limits (see ratelimit.h).  Lock-free: the counters are atomics
 * in a MAP_SHARED anonymous page, which fork shares with the child; a guest
 * execve starts a new qemu, and so a new tree.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "core/log.h"
#include "watchdog/ctxring.h"
#include "watchdog/ratelimit.h"

#define WINDOW_NS (60 * 1000000000LL)

static const char *const kinds[] = { "deadloop", "idle_deadloop", "exit",
                                     "signal", "quick_exit" };
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

struct window {
    atomic_llong start_ns; /* of the current minute, 0: none yet */
    atomic_long written;   /* in this minute */
    atomic_long refused;   /* in this minute */
};

static struct window *tree; /* NKINDS, shared by the process tree */
static long per_min;

void sfemu_rate_init(long n)
{
    void *p;

    per_min = n;
    if (!n) {
        return;
    }
    p = mmap(NULL, NKINDS * sizeof(*tree), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        sfemu_log("watchdog: no shared page for the report rate limit: "
                  "each process limits its own reports");
        static struct window own[NKINDS];
        p = own;
    }
    tree = p;
}

static int kind_index(const char *kind)
{
    for (unsigned i = 0; i < NKINDS; i++) {
        if (!strcmp(kinds[i], kind)) {
            return (int)i;
        }
    }
    return -1;
}

int sfemu_rate_take(const char *kind)
{
    int k = kind_index(kind);
    struct window *w;
    long long now, start;

    if (!per_min || !tree || k < 0) {
        return 1;
    }
    w = &tree[k];
    now = sfemu_mono_ns();
    start = atomic_load(&w->start_ns);
    if ((!start || now - start >= WINDOW_NS) &&
        atomic_compare_exchange_strong(&w->start_ns, &start, now)) {
        long refused = atomic_exchange(&w->refused, 0);
        atomic_store(&w->written, 0);
        if (refused) {
            sfemu_log("watchdog: %ld %s report(s) of the last minute were not "
                      "written (SFEMU_WATCHDOG_RATE=%ld per minute and "
                      "process tree)",
                      refused, kind, per_min);
        }
    }
    if (atomic_fetch_add(&w->written, 1) < per_min) {
        return 1;
    }
    if (atomic_fetch_add(&w->refused, 1) == 0) {
        sfemu_log("watchdog: %s reports reached SFEMU_WATCHDOG_RATE=%ld per "
                  "minute and process tree: further ones this minute are "
                  "counted, not written",
                  kind, per_min);
    }
    return 0;
}
