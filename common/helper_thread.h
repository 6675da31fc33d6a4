/*
 * Helper threads (the Lua budget monitor, the runtime's rules watcher and
 * watchdog threads).
 */
#ifndef SFEMU_HELPER_THREAD_H
#define SFEMU_HELPER_THREAD_H

/*
 * Starts a detached thread with every signal blocked: QEMU delivers the
 * guest's signals through host signal handlers that must run on a guest
 * thread, and sfemu-mount's signals go to its FUSE loop; never to ours.
 * 0 or -errno.
 */
int sfemu_thread_start(void *(*fn)(void *), void *arg);

#endif
