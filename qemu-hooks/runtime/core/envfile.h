/*
 * The settings file of AI repair: RULES/config/env, or the file
 * SFEMU_AI_ENV names (docs/ai-repair.md).  Read once at start-up, when the
 * rules tree has an entry.lua (the seed: entry.lua loads it).  Its SFEMU_*
 * and auto_ai keys act as if set in the environment unless the real
 * environment sets them; every other key (OPENAI_API_KEY ...) is skipped
 * without its value ever being kept.  A bad line is reported with
 * file:line on stderr and skipped.
 */
#ifndef SFEMU_CORE_ENVFILE_H
#define SFEMU_CORE_ENVFILE_H

/* Reads the file (once); rules_dir may be NULL (then nothing is read). */
void sfemu_envfile_load(const char *rules_dir);
/* The value the file gives a settings variable, or NULL; *line its line. */
const char *sfemu_envfile_get(const char *name, int *line);
/* The file's path (read or not: the tool gets it), or NULL without -rules. */
const char *sfemu_envfile_path(void);

#endif
