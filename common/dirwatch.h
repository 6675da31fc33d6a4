/* Directory watching with inotify, for the hot reload of both sides: the
 * fakefile engine (fakefs/watch.c) and the rule runtime (qemu-hooks
 * core/rulewatch.c).  One inotify instance; dirwatch_run() is the event loop
 * of whichever thread the caller dedicates to it. */
#ifndef SFEMU_DIRWATCH_H
#define SFEMU_DIRWATCH_H

#include <stdint.h>
#include <sys/inotify.h>

struct dirwatch;

/* One event: dir is the watched directory as it was given to dirwatch_add
 * ("" for IN_Q_OVERFLOW), name the entry ("" for events on dir itself),
 * mask the IN_* bits.  After each batch of events read at once, fn is
 * called once more with name NULL. */
typedef void (*dirwatch_fn)(void *opaque, const char *dir, const char *name,
                            uint32_t mask);

/* A watcher (close-on-exec fds), or NULL with errno set. */
struct dirwatch *dirwatch_new(dirwatch_fn fn, void *opaque);
/* Watch dir for mask: 0 or -errno.  Watching the same directory again
 * replaces its mask.  Call before dirwatch_run or from its callback (which
 * must then not use its dir argument any more). */
int dirwatch_add(struct dirwatch *w, const char *dir, uint32_t mask);
/* The event loop: returns 0 once dirwatch_stop is called, or -errno when
 * the inotify fd fails (someone closed it). */
int dirwatch_run(struct dirwatch *w);
/* Makes dirwatch_run return (from another thread). */
void dirwatch_stop(struct dirwatch *w);
/* After dirwatch_run has returned (or never ran). */
void dirwatch_free(struct dirwatch *w);

#endif
