/*
 * The hook map (sfemu/host.h): which syscall numbers must enter the runtime.
 * A rules watcher thread rescans the rule directories every
 * SFEMU_RULES_CHECK_MS, so a rule added for a new syscall is picked up.
 */
#ifndef SFEMU_HOOKMAP_H
#define SFEMU_HOOKMAP_H

void sfemu_hookmap_init(void);
/* Rebuild the map now (the watcher calls it; tests may too). */
void sfemu_hookmap_scan(void);
/* The real-call chain now takes other syscalls: rebuild the map. */
void sfemu_hookmap_retake(void);

#endif
