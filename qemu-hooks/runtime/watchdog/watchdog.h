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

#endif
