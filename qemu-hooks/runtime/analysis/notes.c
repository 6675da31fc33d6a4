/*
 * The run's notes (analysis/notes.h): a small table, deduplicated by
 * (source, text), filled from any thread.  Notes are rare (a handler's
 * remark about an unknown key or ioctl), so one lock and a linear search
 * are enough.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "analysis/notes.h"
#include "core/log.h"

#define NOTE_SOURCE 256
#define NOTE_TEXT 256

struct note {
    char source[NOTE_SOURCE];
    char text[NOTE_TEXT];
    uint64_t count;
};

static pthread_mutex_t notes_lock = PTHREAD_MUTEX_INITIALIZER;
static struct note notes[SFEMU_NOTES_MAX];
static int nnotes;
static uint64_t dropped;

/* Control characters would break the log's one-line-per-message rule. */
static void clean(char *out, size_t cap, const char *s, size_t n)
{
    if (n > cap - 1) {
        n = cap - 1;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    }
    out[n] = '\0';
}

/* A forked child starts with none: its record and log lines are its own. */
static void notes_atfork_child(void)
{
    pthread_mutex_t init = PTHREAD_MUTEX_INITIALIZER;

    notes_lock = init;
    nnotes = 0;
    dropped = 0;
}

static void notes_once(void)
{
    pthread_atfork(NULL, NULL, notes_atfork_child);
}

static void note_n(const char *source, const char *text, size_t len)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    char src[NOTE_SOURCE], txt[NOTE_TEXT];
    int first = 0;

    pthread_once(&once, notes_once);
    clean(src, sizeof(src), source ? source : "", source ? strlen(source) : 0);
    clean(txt, sizeof(txt), text, len);
    pthread_mutex_lock(&notes_lock);
    int i = 0;
    while (i < nnotes &&
           (strcmp(notes[i].source, src) || strcmp(notes[i].text, txt))) {
        i++;
    }
    if (i < nnotes) {
        notes[i].count++;
    } else if (nnotes < SFEMU_NOTES_MAX) {
        struct note *n = &notes[nnotes++];
        memcpy(n->source, src, sizeof(src));
        memcpy(n->text, txt, sizeof(txt));
        n->count = 1;
        first = 1;
    } else {
        dropped++;
    }
    pthread_mutex_unlock(&notes_lock);
    if (first) {
        sfemu_log("note: %s: %s", src, txt);
    }
}

void sfemu_note(const char *source, const char *text)
{
    note_n(source, text ? text : "", text ? strlen(text) : 0);
}

void sfemu_note_lines(const char *source, const char *lines)
{
    while (lines && *lines) {
        const char *nl = strchr(lines, '\n');
        size_t n = nl ? (size_t)(nl - lines) : strlen(lines);
        if (n) {
            note_n(source, lines, n);
        }
        lines += n + (nl != NULL);
    }
}

void sfemu_notes_each(void (*cb)(void *opaque, const char *source,
                                 const char *text, uint64_t count),
                      void *opaque)
{
    /* a report from a crash may come here with the lock held: skip */
    if (pthread_mutex_trylock(&notes_lock) != 0) {
        return;
    }
    for (int i = 0; i < nnotes; i++) {
        cb(opaque, notes[i].source, notes[i].text, notes[i].count);
    }
    pthread_mutex_unlock(&notes_lock);
}

uint64_t sfemu_notes_dropped(void)
{
    return dropped;
}
