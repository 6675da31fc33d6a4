/* Signal-proof helper threads. */
#include <pthread.h>
#include <signal.h>

#include "helper_thread.h"

int sfemu_thread_start(void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    pthread_attr_t a;
    pthread_t t;
    int rc;

    sigfillset(&all);
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* inherited by the thread */
    rc = pthread_create(&t, &a, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
    return -rc;
}
