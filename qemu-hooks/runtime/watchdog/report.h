/*
 * Watchdog reports: <rules>/cache/ctx/<kind>-<run_id>-<seq>.json for tools,
 * and a one-line summary on the log (stderr) and in log/watchdog-<run_id>.log.
 * Also the small JSON emitter they are written with: Debian ships no static
 * libcjson and qemu-arm-static links this runtime, so no cJSON here.
 */
#ifndef SFEMU_REPORT_H
#define SFEMU_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "watchdog/ctxring.h"

/* A streaming JSON writer (commas and escaping handled; depth <= 31). */
struct sfemu_json {
    FILE *f;
    int depth;
    uint32_t nonempty; /* bit d: the container at depth d has items */
};
void sfemu_json_obj(struct sfemu_json *j, const char *key); /* { */
void sfemu_json_arr(struct sfemu_json *j, const char *key); /* [ */
void sfemu_json_end_obj(struct sfemu_json *j);
void sfemu_json_end_arr(struct sfemu_json *j);
/* key is NULL inside arrays. */
void sfemu_json_str(struct sfemu_json *j, const char *key, const char *s);
void sfemu_json_int(struct sfemu_json *j, const char *key, int64_t v);
void sfemu_json_hex(struct sfemu_json *j, const char *key, uint64_t v);
void sfemu_json_bool(struct sfemu_json *j, const char *key, int v);
void sfemu_json_null(struct sfemu_json *j, const char *key);

/* One ring entry as a JSON object (shared with nothing else: c_get_ctx
 * builds Lua tables with the same field names). */
void sfemu_report_ring_ent(struct sfemu_json *j,
                           const struct sfemu_ring_ent *e);

struct sfemu_report {
    const char *kind;   /* deadloop, idle_deadloop, exit, signal */
    const char *detail; /* one line for people */
    int tid;
    const struct sfemu_ring *ring; /* the thread's ring, or NULL */
    int on_guest_thread;           /* registers, stack and maps are readable */
    /* Kind-specific fields, written inside the top-level object. */
    void (*extra)(struct sfemu_json *j, void *opaque);
    void *opaque;
};

/* A new run id (pid + start time), at start and in a forked child. */
void sfemu_report_new_run(void);
const char *sfemu_report_run_id(void);
/* Writes the report and logs its summary; 0 or -errno.  path gets the file. */
int sfemu_report_write(const struct sfemu_report *r, char *path, size_t cap);

#endif
