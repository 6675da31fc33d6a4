/*
 * Notes for the run record: a line a fakeconfig handler (fakefile.note) or
 * a rule (c_analysis_note) leaves about a resource, e.g. "nvram: unknown
 * key lan_foo".  Each distinct (source, text) is logged once and counted;
 * with -sfanalysis the record lists them ("notes", docs/analysis.md).
 */
#ifndef SFEMU_NOTES_H
#define SFEMU_NOTES_H

#include <stddef.h>
#include <stdint.h>

/* Distinct notes kept per process; more are counted as dropped. */
#define SFEMU_NOTES_MAX 128

/* One note about source (a path, a rule's name). */
void sfemu_note(const char *source, const char *text);
/* Every line of lines ("a\nb\n", a reply's notes) as a note about source. */
void sfemu_note_lines(const char *source, const char *lines);
/* The notes in order of first sight, and how many were dropped. */
void sfemu_notes_each(void (*cb)(void *opaque, const char *source,
                                 const char *text, uint64_t count),
                      void *opaque);
uint64_t sfemu_notes_dropped(void);

#endif
