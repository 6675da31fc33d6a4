/* Observers hear of the signals that kill the program from outside
 * (endsig.c). */
#ifndef SFEMU_ENDSIG_H
#define SFEMU_ENDSIG_H

#include <signal.h>

/* Catches SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE and SIGALRM while the
 * host's disposition is the default; call after the observers register. */
void sfemu_endsig_init(void);

/* Blocks those signals in the calling thread (old: the mask to restore). */
void sfemu_endsig_block(sigset_t *old);

#endif
