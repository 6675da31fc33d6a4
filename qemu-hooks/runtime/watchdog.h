/*
 * The watchdog: context ring, dead-loop and idle detection, abnormal exits
 * and fatal signals, and the reports under <rules>/cache/ (docs/watchdog.md).
 */
#ifndef SFEMU_WATCHDOG_H
#define SFEMU_WATCHDOG_H

#include <stdint.h>
#include "sfemu/host.h"

/* After the rules are set up; decides whether the watchdog runs. */
void sfemu_watch_init(void);
/* Nonzero when every syscall must be seen (the hook map then hooks all). */
int sfemu_watch_wants_all(void);
/* Around each hooked syscall (before entry.lua, after finish.lua). */
void sfemu_watch_enter(int num, const int64_t a[SFEMU_NARGS]);
void sfemu_watch_exit(int num, const int64_t a[SFEMU_NARGS], int64_t ret,
                      int intercepted);
/* A fatal guest signal, before QEMU ends the process. */
void sfemu_watch_fatal_signal(int guest_sig);

/* For the Lua bindings (api_watchdog.c). */
/* Pauses (on != 0) or resumes idle and dead-loop detection; previous state. */
int sfemu_watch_suspend(int on);
/*
 * Asks the person at /dev/tty to type YES.  1 to continue, 0 not; *how is
 * "auto" (SFEMU_AI_AUTO_CONTINUE=1 or auto_ai=1), "user", "declined",
 * "no_tty" (no terminal: returns at once) or "eof".
 */
int sfemu_watch_wait_user(const char *prompt, const char **how);
/* The last report written by this process: seq (0: none), kind, path. */
/* Sequence number of the newest report (0: none), lock-free. */
unsigned sfemu_watch_report_seq(void);
unsigned sfemu_watch_last_report(char *kind, size_t kcap, char *path,
                                 size_t pcap, int *tid);

#endif
