/* The observer list (see observer.h).  Filled at start-up, read-only after. */
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "core/endsig.h"
#include "core/log.h"
#include "core/observer.h"

#define MAX_OBSERVERS 8

static const struct sfemu_observer *observers[MAX_OBSERVERS];
static int n_observers;
int sfemu_observers_want_all;
/* The hooks each syscall calls, without the NULLs. */
static void (*enters[MAX_OBSERVERS])(int num, const int64_t a[SFEMU_NARGS]);
static void (*exits[MAX_OBSERVERS])(int num, const int64_t a[SFEMU_NARGS],
                                    int64_t ret, int intercepted);
static int n_enters, n_exits;

void sfemu_observer_add(const struct sfemu_observer *o)
{
    if (n_observers == MAX_OBSERVERS) {
        sfemu_log("too many syscall observers: '%s' not registered", o->name);
        return;
    }
    observers[n_observers++] = o;
    sfemu_observers_want_all |= o->wants_all;
    if (o->enter) {
        enters[n_enters++] = o->enter;
    }
    if (o->exit) {
        exits[n_exits++] = o->exit;
    }
}

void sfemu_observers_enter(int num, const int64_t a[SFEMU_NARGS])
{
    for (int i = 0; i < n_enters; i++) {
        enters[i](num, a);
    }
}

void sfemu_observers_exit(int num, const int64_t a[SFEMU_NARGS], int64_t ret,
                          int intercepted)
{
    for (int i = 0; i < n_exits; i++) {
        exits[i](num, a, ret, intercepted);
    }
}

/* One end at a time, never cut short: a kill from outside (endsig.c) that
 * arrives while the program writes its record at exit_group waits for the
 * record, on this thread (the signals are blocked meanwhile) or on another
 * (it waits here), then ends the program. */
static atomic_int ending;

void sfemu_observers_end(const char *why, int guest_sig)
{
    const struct timespec ms = { 0, 1000000 };
    sigset_t old;
    int idle = 0;

    sfemu_endsig_block(&old);
    while (!atomic_compare_exchange_weak(&ending, &idle, 1)) {
        idle = 0;
        nanosleep(&ms, NULL);
    }
    for (int i = 0; i < n_observers; i++) {
        if (observers[i]->end) {
            observers[i]->end(why, guest_sig);
        }
    }
    atomic_store(&ending, 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}
