/*
 * Syscall observers: features that watch guest syscalls without changing
 * them (the context ring, the watchdog, the analysis record).  Each registers
 * once at start-up; hooks.c calls every registered observer around a hooked
 * syscall and names none of them.
 */
#ifndef SFEMU_OBSERVER_H
#define SFEMU_OBSERVER_H

#include <stdint.h>

#include "sfemu/host.h"

struct sfemu_observer {
    const char *name;
    /* Nonzero: every syscall must enter the runtime (the hook map hooks all),
     * not only those that have a rule. */
    int wants_all;
    /* Before entry.lua and the syscall's rule.  May be NULL. */
    void (*enter)(int num, const int64_t a[SFEMU_NARGS]);
    /* After finish.lua, with the result the guest gets.  May be NULL. */
    void (*exit)(int num, const int64_t a[SFEMU_NARGS], int64_t ret,
                 int intercepted);
    /* The program is about to end: why is "exit_group" or "exit" (the
     * plain exit of its last thread; guest_sig 0), "signal" (a fatal guest
     * signal), "killed" (guest_sig: a signal sent from outside that the
     * guest left at its default action, see endsig.c) or "execve" (guest_sig 0: a guest exec replaces it; should
     * that fail, it goes on).  May be NULL. */
    void (*end)(const char *why, int guest_sig);
};

/* Registers an observer (kept by pointer; called in registration order). */
void sfemu_observer_add(const struct sfemu_observer *o);

/* Nonzero when some observer wants every syscall (cheap: a cached flag). */
extern int sfemu_observers_want_all;

void sfemu_observers_enter(int num, const int64_t a[SFEMU_NARGS]);
void sfemu_observers_exit(int num, const int64_t a[SFEMU_NARGS], int64_t ret,
                          int intercepted);
void sfemu_observers_end(const char *why, int guest_sig);

#endif
