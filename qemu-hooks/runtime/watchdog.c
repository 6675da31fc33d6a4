/* The watchdog (being written; see watchdog.h). */
#include "watchdog.h"

void sfemu_watch_init(void)
{
}

int sfemu_watch_wants_all(void)
{
    return 0;
}

void sfemu_watch_enter(int num, const int64_t a[SFEMU_NARGS])
{
    (void)num;
    (void)a;
}

void sfemu_watch_exit(int num, const int64_t a[SFEMU_NARGS], int64_t ret,
                      int intercepted)
{
    (void)num;
    (void)a;
    (void)ret;
    (void)intercepted;
}

void sfemu_watch_fatal_signal(int guest_sig)
{
    (void)guest_sig;
}
