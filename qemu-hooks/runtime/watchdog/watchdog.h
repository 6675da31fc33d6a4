/*
 * The watchdog: context ring, dead-loop and idle detection, abnormal exits
 * and fatal signals, and the reports under <rules>/cache/ (docs/watchdog.md).
 */
#ifndef SFEMU_WATCHDOG_H
#define SFEMU_WATCHDOG_H

#include <stdint.h>
#include "sfemu/host.h"

/* After the rules are set up: decides whether the watchdog runs and, if it
 * does, registers the context ring and the watchdog as syscall observers. */
void sfemu_watch_init(void);

/* For the Lua bindings (api_watchdog.c). */
/* Pauses (on != 0) or resumes idle and dead-loop detection; previous state. */
int sfemu_watch_suspend(int on);
/*
 * Asks the person at /dev/tty to type YES.  1 to continue, 0 not; *how is
 * "auto" (SFEMU_AI_AUTO_CONTINUE=1 or auto_ai=1), "user", "declined",
 * "no_tty" (no terminal: returns at once) or "eof".
 */
int sfemu_watch_wait_user(const char *prompt, const char **how);
/* Sequence number of the newest report (0: none), lock-free. */
unsigned sfemu_watch_report_seq(void);
/* The last report written by this process: seq (0: none), kind, path. */
unsigned sfemu_watch_last_report(char *kind, size_t kcap, char *path,
                                 size_t pcap, int *tid);
/* Like sfemu_watch_last_report, but each report is given once per process,
 * to the first thread that asks (0: none newer than the last one given). */
unsigned sfemu_watch_take_report(char *kind, size_t kcap, char *path,
                                 size_t pcap, int *tid);

/*
 * Called on the watchdog thread after an idle_deadloop report is written
 * (tid: the spinning thread, path: the report), outside the ring lock; it
 * must not block (AI repair hands it to a thread of its own, ai/idle.c).
 */
void sfemu_watch_set_idle_hook(void (*fn)(int tid, const char *path));
/* Whether thread tid entered or left a syscall after mono_ns (CLOCK_MONOTONIC
 * ns): 1, 0, or -1 when no such thread is known. */
int sfemu_watch_thread_moved(int tid, int64_t mono_ns);

#endif
