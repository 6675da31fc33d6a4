/* Helper threads of the runtime (budget monitor, rules watcher). */
#ifndef SFEMU_THREAD_H
#define SFEMU_THREAD_H

/*
 * Starts a detached thread with every signal blocked: QEMU delivers the
 * guest's signals through host signal handlers that must run on a guest
 * thread, never on ours.  0 or -errno.
 */
int sfemu_thread_start(void *(*fn)(void *), void *arg);

#endif
