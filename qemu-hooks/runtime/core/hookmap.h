/*
 * The hook map (sfemu/host.h): which syscall numbers must enter the runtime.
 * The rules watcher (rulewatch.c) rescans the rule directories when they
 * change, so a rule added for a new syscall is picked up.
 */
#ifndef SFEMU_HOOKMAP_H
#define SFEMU_HOOKMAP_H

void sfemu_hookmap_init(void);
/* Rebuild the map now (the rules watcher calls it). */
void sfemu_hookmap_scan(void);
/* The real-call chain now takes other syscalls: rebuild the map. */
void sfemu_hookmap_retake(void);

#endif
