/*
 * Signals that end the program without the guest's knowledge.  Stock
 * qemu-user leaves a signal the guest has not claimed at the host's
 * default action, so a SIGTERM kills qemu before any observer hears of it:
 * no analysis record, no process-tree bookkeeping.  While the guest keeps
 * the default, the runtime catches these signals, lets the observers end
 * the program ("killed"), then dies of the same signal, as stock would.
 * A guest that sets its own disposition takes the signal back (QEMU's
 * sigaction replaces this handler).
 */
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <unistd.h>

#include "core/endsig.h"
#include "core/observer.h"

/* Default action "terminate", sent from outside the program.  Their numbers
 * are the same for the host and every guest ABI we run (ARM, MIPS, AArch64),
 * so the observers get the guest's number without a mapping. */
static const int end_signals[] = { SIGHUP,  SIGINT,  SIGQUIT,
                                   SIGPIPE, SIGALRM, SIGTERM };

/* Seconds the observers may take; a finish stuck on a lock the interrupted
 * code held must not keep the process alive. */
#define ENDSIG_GRACE_S 3

static void die_of(int sig)
{
    sigset_t set;

    signal(sig, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
}

static void on_end_signal(int sig)
{
    static atomic_int ending;

    if (atomic_exchange(&ending, 1)) {
        for (;;) {
            pause(); /* the first thread to get one ends the process */
        }
    }
    signal(SIGALRM, SIG_DFL);
    alarm(ENDSIG_GRACE_S);
    sfemu_observers_end("killed", sig);
    die_of(sig);
}

void sfemu_endsig_block(sigset_t *old)
{
    sigset_t set;

    sigemptyset(&set);
    for (size_t i = 0; i < sizeof(end_signals) / sizeof(end_signals[0]); i++) {
        sigaddset(&set, end_signals[i]);
    }
    pthread_sigmask(SIG_BLOCK, &set, old);
}

void sfemu_endsig_init(void)
{
    struct sigaction sa = { .sa_handler = on_end_signal,
                            .sa_flags = SA_RESTART };
    struct sigaction old;

    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(end_signals) / sizeof(end_signals[0]); i++) {
        if (sigaction(end_signals[i], NULL, &old) == 0 &&
            old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO)) {
            sigaction(end_signals[i], &sa, NULL);
        }
    }
}
