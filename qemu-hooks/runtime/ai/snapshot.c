/*
 * snapshot.json (schema docs/ai-snapshot.schema.json): the watchdog's
 * report of the calling guest thread (registers, pc, backtrace through the
 * shadow stack and -sfanalysis symbols, the context ring, exec maps, fake
 * resources), built now by watchdog/report.c, with the AI's fields added:
 * schema and version, the run id, the trigger, the failing syscall with its
 * decoded strings, the rules active, the guest arch's syscall names and the
 * re-exec count.  Like every report it holds no environment value.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#include "ai/ai.h"
#include "core/options.h"
#include "core/rules.h"
#include "core/runtime.h"
#include "core/syscall_names.h"
#include "watchdog/ctxring.h"
#include "watchdog/report.h"

#define SNAPSHOT_VERSION 1

/* The syscall: number, name, raw args, the path the ring decoded (its own
 * entry for this call), the result and errno name when it returned. */
static cJSON *syscall_json(const struct sfemu_ai_syscall *sc)
{
    const struct sfemu_ring *r = sfemu_ring_peek();
    const char *name = sfemu_syscall_name(sc->num);
    cJSON *o = cJSON_CreateObject(), *args, *strs;

    json_put(o, "num", json_int(sc->num));
    json_put(o, "name", cJSON_CreateString(name ? name : "?"));
    args = json_put(o, "args", cJSON_CreateArray());
    for (int i = 0; i < 6; i++) {
        json_put(args, NULL, json_hex(sfemu_guest_addr(sc->args[i])));
    }
    strs = json_put(o, "strings", cJSON_CreateObject());
    if (r && r->count) {
        const struct sfemu_ring_ent *e = sfemu_ring_at(r, r->count - 1);
        if (e->num == sc->num && e->path_arg >= 0) {
            char k[8];
            snprintf(k, sizeof(k), "%d", e->path_arg);
            json_put(strs, k, json_bytes(e->path));
        }
        if (e->num == sc->num && e->fd_arg >= 0) {
            json_put(o, "fd", json_int((int32_t)sc->args[(int)e->fd_arg]));
        }
    }
    if (sc->has_ret) {
        json_put(o, "ret", json_int(sc->ret));
        if (sfemu_is_err(sc->ret)) {
            const char *en = sfemu_errno_name((int)-sc->ret);
            json_put(o, "errno", cJSON_CreateString(en ? en : "?"));
        } else {
            json_put(o, "errno", cJSON_CreateNull());
        }
    } else {
        json_put(o, "ret", cJSON_CreateNull());
        json_put(o, "errno", cJSON_CreateNull());
    }
    return o;
}

/* Every .lua of the rule directories, as paths inside the rules tree. */
static void rules_active(cJSON *list)
{
    const char *root = sfemu_opt_str(SFEMU_OPT_rules);
    const char *const *dirs;
    int n = sfemu_rules_dirs(&dirs);
    size_t rl = strlen(root);

    for (int i = 0; i < n; i++) {
        DIR *d = opendir(dirs[i]);
        struct dirent *e;
        const char *rel = dirs[i];
        if (!d) {
            continue;
        }
        if (!strncmp(rel, root, rl) && (rel[rl] == '/' || !rel[rl])) {
            rel += rl + (rel[rl] == '/');
        }
        while ((e = readdir(d))) {
            size_t l = strlen(e->d_name);
            char p[PATH_MAX];
            if (l < 5 || strcmp(e->d_name + l - 4, ".lua") ||
                e->d_name[0] == '.') {
                continue;
            }
            snprintf(p, sizeof(p), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
            json_put(list, NULL, json_bytes(p));
        }
        closedir(d);
    }
}

static void ai_fields(cJSON *rep, void *opaque)
{
    const struct sfemu_ai_trigger *t = opaque;
    int base = sfemu_syscall_base(), count = sfemu_syscall_count();
    cJSON *trig, *known;

    /* the report's own identity is the watchdog's, not this attempt's */
    cJSON_DeleteItemFromObject(rep, "kind");
    cJSON_DeleteItemFromObject(rep, "detail");
    cJSON_DeleteItemFromObject(rep, "seq");
    cJSON_DeleteItemFromObject(rep, "run_id");
    json_put(rep, "schema", cJSON_CreateString("sfemu-ai-snapshot"));
    json_put(rep, "version", json_int(SNAPSHOT_VERSION));
    json_put(rep, "run_id", json_bytes(t->run_id));
    trig = json_put(rep, "trigger", cJSON_CreateObject());
    json_put(trig, "kind", json_bytes(t->kind));
    json_put(trig, "detail", json_bytes(t->detail ? t->detail : ""));
    json_put(rep, "syscall", t->sc ? syscall_json(t->sc) : cJSON_CreateNull());
    rules_active(json_put(rep, "rules_active", cJSON_CreateArray()));
    known = json_put(rep, "syscalls_known", cJSON_CreateArray());
    for (int i = 0; i < count; i++) {
        const char *n = sfemu_syscall_name(base + i);
        if (n) {
            json_put(known, NULL, cJSON_CreateString(n));
        }
    }
    json_put(rep, "report",
             t->report ? json_bytes(t->report) : cJSON_CreateNull());
    json_put(rep, "reexec_count", json_int(sfemu_ai_reexec_count()));
}

int sfemu_ai_snapshot(const char *run_dir, const struct sfemu_ai_trigger *t,
                      char *path, size_t cap)
{
    struct sfemu_ring *r = sfemu_ring_peek();
    struct sfemu_report rep = { .kind = t->kind,
                                .detail = t->detail ? t->detail : "",
                                .tid = sfemu_rt.ops->gettid(),
                                .ring = r,
                                .on_guest_thread = 1,
                                .extra = ai_fields,
                                .opaque = (void *)t };
    char *text = sfemu_report_json(&rep);
    int rc;

    if (!text) {
        return -ENOMEM;
    }
    snprintf(path, cap, "%s/snapshot.json", run_dir);
    rc = json_save(path, O_EXCL, text);
    cJSON_free(text);
    return rc;
}

int sfemu_ai_snapshot_from_report(const char *run_dir,
                                  const struct sfemu_ai_trigger *t, char *path,
                                  size_t cap)
{
    char *text = sfemu_ai_slurp(t->report, 64 << 20, NULL), *out;
    cJSON *rep = text ? cJSON_Parse(text) : NULL;
    int rc;

    free(text);
    if (!cJSON_IsObject(rep)) {
        cJSON_Delete(rep);
        return -EINVAL;
    }
    ai_fields(rep, (void *)t);
    out = cJSON_Print(rep);
    cJSON_Delete(rep);
    if (!out) {
        return -ENOMEM;
    }
    snprintf(path, cap, "%s/snapshot.json", run_dir);
    rc = json_save(path, O_EXCL, out);
    cJSON_free(out);
    return rc;
}
