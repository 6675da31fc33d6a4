/*
 * Report rate limits per trigger and process tree (docs/watchdog.md,
 * "Report limits"): the process qemu started and every child it forks count
 * together, in a shared page made before the guest can fork.
 */
#ifndef SFEMU_RATELIMIT_H
#define SFEMU_RATELIMIT_H

/* At start-up, before the guest runs: per_min reports of each trigger per
 * minute (0: no limit); a minute starts with the first report after the
 * last minute ended. */
void sfemu_rate_init(long per_min);
/* 1 if a report of this trigger (deadloop, idle_deadloop, exit, signal)
 * may be written now; 0 if the tree has written its share this minute (the
 * first refusal of a minute is logged, and the count of refused ones when
 * the next minute's first report is written). */
int sfemu_rate_take(const char *kind);

#endif
