/*
 * Watchdog reports: <rules>/cache/ctx/<kind>-<run_id>-<seq>.json for tools,
 * and a one-line summary on the log (stderr) and in log/watchdog-<run_id>.log.
 * The JSON is built with cJSON (common/json.h) under a memory cap: a report
 * that cannot be built is logged, never a crash.
 */
#ifndef SFEMU_REPORT_H
#define SFEMU_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "watchdog/ctxring.h"

/* One ring entry as a JSON object (shared with nothing else: c_get_ctx
 * builds Lua tables with the same field names). */
cJSON *sfemu_report_ring_ent(const struct sfemu_ring_ent *e);

struct sfemu_report {
    const char *kind;   /* deadloop, idle_deadloop, exit, signal */
    const char *detail; /* one line for people */
    int tid;
    const struct sfemu_ring *ring; /* the thread's ring, or NULL */
    int on_guest_thread;           /* registers, stack and maps are readable */
    /* Kind-specific fields, added to the top-level object. */
    void (*extra)(cJSON *report, void *opaque);
    void *opaque;
};

/* A new run id (pid + start time), at start and in a forked child. */
void sfemu_report_new_run(void);
/* The report as JSON text (release with cJSON_free), written nowhere and
 * counted in no sequence, or NULL when it could not be built: for others
 * that start from a report (the AI snapshot, ai/snapshot.c). */
char *sfemu_report_json(const struct sfemu_report *r);
/* Writes the report and logs its summary; 0 or -errno.  path gets the file. */
int sfemu_report_write(const struct sfemu_report *r, char *path, size_t cap);

#endif
