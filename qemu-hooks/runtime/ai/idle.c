/*
 * AI repair of an idle_deadloop: a guest thread runs its own code and makes
 * no syscall, so no rule runs on it; the attempt runs on a helper thread of
 * its own instead (the watchdog thread only hands the report over: it must
 * go on watching).  Same steps as base/ai.lua's, in C: confirmation,
 * snapshot (from the report: no registers), the tool, check and install,
 * then the validation window: the thread must make a syscall again
 * (progress) within SFEMU_AI_VALIDATE_MS, and no new idle report of it may
 * come; otherwise the fix is rolled back.  verdict.json as for the others.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"

#include "ai/ai.h"
#include "core/log.h"
#include "core/luastate.h"
#include "core/options.h"
#include "helper_thread.h"
#include "watchdog/ctxring.h"
#include "watchdog/watchdog.h"

#define IDLE_SITES 16 /* threads with an attempt, per process */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int started, have, busy_tid, recurred;
static int next_tid;
static char next_path[PATH_MAX];
static int sites[IDLE_SITES], nsites;
/* The attempt in its window, for the process's end (sfemu_ai_idle_end). */
static struct {
    int active, ended, tid;
    int64_t t0;
    char dir[PATH_MAX], id[SFEMU_AI_ID_MAX];
} win;

static void *worker(void *arg);

/* The worker does not survive fork: a child starts its own. */
static void idle_atfork_child(void)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;

    mu = m;
    cv = c;
    started = have = busy_tid = recurred = 0;
}

void sfemu_ai_idle_report(int tid, const char *path)
{
    pthread_mutex_lock(&mu);
    if (!started) { /* at the first idle report: most runs never have one */
        static int atfork;
        if (!atfork++) {
            pthread_atfork(NULL, NULL, idle_atfork_child);
        }
        started = sfemu_thread_start(worker, NULL) == 0;
    }
    if (busy_tid == tid) {
        recurred = 1; /* its window sees it */
    } else if (!have) {
        have = 1;
        next_tid = tid;
        snprintf(next_path, sizeof(next_path), "%s", path);
        pthread_cond_signal(&cv);
    }
    pthread_mutex_unlock(&mu);
}

static int site_taken(int tid)
{
    for (int i = 0; i < nsites; i++) {
        if (sites[i] == tid) {
            return 1;
        }
    }
    if (nsites < IDLE_SITES) {
        sites[nsites++] = tid;
        return 0;
    }
    return 1;
}

static void record(const char *dir, cJSON *v)
{
    char *text = cJSON_Print(v);

    if (text) {
        sfemu_ai_record(dir, text);
        cJSON_free(text);
    }
}

static void put_str(cJSON *o, const char *k, const char *v)
{
    cJSON_DeleteItemFromObject(o, k);
    json_put(o, k, json_bytes(v));
}

/* Checks and installs the tool's fixes; the number installed. */
static int install_fixes(const char *dir, cJSON *files, char *why1, size_t cap)
{
    struct sfemu_luastate *c = sfemu_luastate_scratch();
    char p[PATH_MAX + 32];
    DIR *d;
    struct dirent *e;
    int n = 0;

    snprintf(p, sizeof(p), "%s/patch/fix/syscall", dir);
    d = opendir(p);
    while (c && d && (e = readdir(d))) {
        char f[PATH_MAX + 320], name[64], why[PATH_MAX + 64], dest[PATH_MAX],
            rel[300];
        cJSON *o;
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(f, sizeof(f), "%s/%s", p, e->d_name);
        snprintf(rel, sizeof(rel), "patch/fix/syscall/%.255s", e->d_name);
        o = json_put(files, NULL, cJSON_CreateObject());
        json_put(o, "file", json_bytes(rel));
        if (sfemu_ai_check_rule(c->L, f, name, sizeof(name), why,
                                sizeof(why)) != 0 ||
            sfemu_ai_install(dir, f, name, dest, sizeof(dest), why,
                             sizeof(why)) != 0) {
            json_put(o, "status", cJSON_CreateString("rejected"));
            json_put(o, "why", json_bytes(why));
            if (!*why1) {
                snprintf(why1, cap, "%.40s: %.200s", e->d_name, why);
            }
            sfemu_log("ai: %s rejected: %s (never loaded)", e->d_name, why);
            continue;
        }
        snprintf(rel, sizeof(rel), "syscall_override/%.60s.lua", name);
        json_put(o, "status", cJSON_CreateString("installed"));
        json_put(o, "installed", json_bytes(rel));
        sfemu_log("ai: %s installed as %s", e->d_name, rel);
        n++;
    }
    if (d) {
        closedir(d);
    }
    sfemu_luastate_scratch_free(c);
    return n;
}

/* Waits the window out; NULL (validated) or why it failed. */
static const char *validate(int tid, int64_t t0, long *ms)
{
    long window = sfemu_opt_long(SFEMU_OPT_ai_validate_ms);

    for (;;) {
        struct timespec ts = { 0, 50 * 1000000L };
        int moved = sfemu_watch_thread_moved(tid, t0), rec;
        *ms = (long)((sfemu_mono_ns() - t0) / 1000000);
        pthread_mutex_lock(&mu);
        rec = recurred;
        pthread_mutex_unlock(&mu);
        if (rec) {
            return "idle_deadloop during the validation window (the trigger "
                   "recurred)";
        }
        if (moved < 0) {
            return "the thread is gone";
        }
        /* the whole window: a thread that moves and spins again is caught
         * by its next idle report */
        if (*ms >= window) {
            return moved ? NULL
                         : "no syscall from the thread within the validation "
                           "window: it still spins";
        }
        nanosleep(&ts, NULL);
    }
}

static void attempt(int tid, const char *report)
{
    char id[SFEMU_AI_ID_MAX], dir[PATH_MAX], snap[PATH_MAX + 32],
        patch[PATH_MAX + 8], detail[96], why1[300] = "", site[32];
    struct sfemu_ai_trigger t = { .kind = "idle_deadloop",
                                  .detail = detail,
                                  .report = report };
    struct sfemu_ai_tool_result r;
    const char *how = "", *bad;
    cJSON *v, *trig, *tool, *files;
    int64_t t0;
    long ms = 0;

    snprintf(detail, sizeof(detail),
             "thread %d runs guest code with no syscall", tid);
    snprintf(site, sizeof(site), "idle:%d", tid);
    if (site_taken(tid)) {
        return;
    }
    if (!sfemu_watch_wait_user("AI repair for idle_deadloop: run the tool and "
                               "apply its fix?",
                               &how)) {
        sfemu_log("ai: idle_deadloop: not confirmed (%s): the guest goes on "
                  "without AI",
                  how);
        return;
    }
    if (!sfemu_ai_flight_take()) {
        sfemu_log("ai: idle_deadloop: no attempt (a repair is already in "
                  "flight)");
        return;
    }
    if (sfemu_ai_begin(t.kind, id, sizeof(id), dir, sizeof(dir)) < 0) {
        sfemu_ai_flight_done();
        return;
    }
    t.run_id = id;
    sfemu_log("ai: idle_deadloop (%s): attempt %s", detail, id);
    v = cJSON_CreateObject();
    json_put(v, "schema", cJSON_CreateString("sfemu-ai-verdict"));
    json_put(v, "version", json_int(1));
    json_put(v, "run_id", json_bytes(id));
    trig = json_put(v, "trigger", cJSON_CreateObject());
    json_put(trig, "kind", cJSON_CreateString(t.kind));
    json_put(trig, "detail", json_bytes(detail));
    json_put(trig, "site", json_bytes(site));
    json_put(trig, "report", json_bytes(report));
    json_put(v, "reexec_count", json_int(sfemu_ai_reexec_count()));
    files = json_put(v, "files", cJSON_CreateArray());
    json_put(v, "observe", cJSON_CreateArray());
    if (sfemu_ai_snapshot_from_report(dir, &t, snap, sizeof(snap)) < 0) {
        put_str(v, "verdict", "error");
        put_str(v, "why", "snapshot not written");
        goto out;
    }
    json_put(v, "snapshot", cJSON_CreateString("snapshot.json"));
    snprintf(patch, sizeof(patch), "%s/patch", dir);
    sfemu_ai_run_tool(snap, patch, dir, &r);
    tool = json_put(v, "tool", cJSON_CreateObject());
    json_put(tool, "status", cJSON_CreateString(r.status));
    json_put(tool, "code", json_int(r.code));
    json_put(tool, "reason", json_bytes(r.reason));
    json_put(tool, "seconds", cJSON_CreateNumber(r.secs));
    if (strcmp(r.status, "ok")) {
        char w[320];
        snprintf(w, sizeof(w), "tool %s: %s", r.status, r.reason);
        put_str(v, "verdict", "no_fix");
        put_str(v, "why", w);
        goto out;
    }
    if (install_fixes(dir, files, why1, sizeof(why1)) == 0) {
        put_str(v, "verdict",
                cJSON_GetArraySize(files) ? "rejected" : "no_fix");
        put_str(
            v, "why",
            *why1 ? why1
                  : "the tool wrote no fix rule (patch/fix/syscall/NAME.lua)");
        goto out;
    }
    put_str(v, "verdict", "pending");
    put_str(v, "why", "validation window: the thread must make a syscall");
    record(dir, v);
    sfemu_ai_pending(dir);
    t0 = sfemu_mono_ns();
    pthread_mutex_lock(&mu);
    busy_tid = tid;
    recurred = 0;
    win.active = 1;
    win.ended = 0;
    win.tid = tid;
    win.t0 = t0;
    snprintf(win.dir, sizeof(win.dir), "%s", dir);
    snprintf(win.id, sizeof(win.id), "%s", id);
    pthread_mutex_unlock(&mu);
    bad = validate(tid, t0, &ms);
    pthread_mutex_lock(&mu);
    busy_tid = 0;
    win.active = 0;
    if (win.ended) { /* the process ends: sfemu_ai_idle_end concluded */
        pthread_mutex_unlock(&mu);
        cJSON_Delete(v);
        return;
    }
    pthread_mutex_unlock(&mu);
    sfemu_ai_pending(NULL);
    {
        cJSON *val = cJSON_CreateObject();
        json_put(val, "ms", json_int(ms));
        cJSON_DeleteItemFromObject(v, "validation");
        json_put(v, "validation", val);
    }
    if (bad) {
        cJSON_DeleteItemFromObject(v, "rolled_back");
        json_put(v, "rolled_back", json_int(sfemu_ai_rollback(dir)));
        put_str(v, "verdict", "rejected");
        put_str(v, "why", bad);
    } else {
        char dest[PATH_MAX], rel[SFEMU_AI_ID_MAX + 40];
        sfemu_ai_export(dir, id, dest, sizeof(dest));
        snprintf(rel, sizeof(rel), "cache/stable_rules/%s/syscall", id);
        put_str(v, "exported", rel);
        put_str(v, "verdict", "validated");
        put_str(v, "why",
                "the thread made a syscall again within the "
                "validation window");
    }
out:
    record(dir, v);
    sfemu_log("ai: %s: %s: %s", id,
              cJSON_GetStringValue(cJSON_GetObjectItem(v, "verdict")),
              cJSON_GetStringValue(cJSON_GetObjectItem(v, "why")));
    cJSON_Delete(v);
    sfemu_ai_flight_done();
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        char path[PATH_MAX];
        int tid;
        pthread_mutex_lock(&mu);
        while (!have) {
            pthread_cond_wait(&cv, &mu);
        }
        tid = next_tid;
        snprintf(path, sizeof(path), "%s", next_path);
        pthread_mutex_unlock(&mu);
        attempt(tid, path);
        pthread_mutex_lock(&mu);
        have = 0;
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

void sfemu_ai_idle_end(int guest_sig)
{
    char text[512];
    int moved;

    pthread_mutex_lock(&mu);
    if (!win.active || win.ended) {
        pthread_mutex_unlock(&mu);
        return;
    }
    win.ended = 1;
    pthread_mutex_unlock(&mu);
    if (guest_sig) {
        return; /* run.c rolls back and rejects */
    }
    /* the thread's syscalls before the end count: the window closes now */
    moved = sfemu_watch_thread_moved(win.tid, win.t0) == 1;
    sfemu_ai_pending(NULL);
    if (moved) {
        char dest[PATH_MAX];
        sfemu_ai_export(win.dir, win.id, dest, sizeof(dest));
        snprintf(text, sizeof(text),
                 "{\"verdict\": \"validated\", \"why\": \"the thread made a "
                 "syscall again before the process ended\", \"exported\": "
                 "\"cache/stable_rules/%s/syscall\"}",
                 win.id);
    } else {
        snprintf(text, sizeof(text),
                 "{\"verdict\": \"rejected\", \"why\": \"the process ended "
                 "with no syscall from the thread in the validation window\", "
                 "\"rolled_back\": %d}",
                 sfemu_ai_rollback(win.dir));
    }
    sfemu_ai_record(win.dir, text);
    sfemu_log("ai: %s: %s", win.id,
              moved ? "validated: the thread made a syscall again"
                    : "rejected: no syscall from the thread");
    sfemu_ai_flight_done();
}
