/* The observer list (see observer.h).  Filled at start-up, read-only after. */
#include <stddef.h>

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

void sfemu_observers_end(const char *why, int guest_sig)
{
    for (int i = 0; i < n_observers; i++) {
        if (observers[i]->end) {
            observers[i]->end(why, guest_sig);
        }
    }
}
