/*
 * The hook map (sfemu/host.h): which syscall numbers must enter the runtime.
 * A rules watcher thread rescans the rule directories every
 * SFEMU_RULES_CHECK_MS, so a rule added for a new syscall is picked up.
 */
#ifndef SFEMU_HOOKED_H
#define SFEMU_HOOKED_H

void sfemu_hooked_init(void);
/* Rebuild the map now (the watcher calls it; tests may too). */
void sfemu_hooked_scan(void);

#endif
