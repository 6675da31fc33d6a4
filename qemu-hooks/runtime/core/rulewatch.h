/*
 * Rules hot reload (see rulewatch.c): the watcher thread that tells the Lua
 * states and the hook map when a rule file or directory changes.
 */
#ifndef SFEMU_RULEWATCH_H
#define SFEMU_RULEWATCH_H

/* Starts the watcher (and again in every forked child). */
void sfemu_rulewatch_start(void);

#endif
