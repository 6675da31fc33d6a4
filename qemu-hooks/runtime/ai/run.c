/*
 * One repair attempt (see ai.h): its run id and directory under
 * RULES/cache/ai_runs/, its records, and the attempt whose fix is being
 * validated.  A fatal guest signal ends the process without another
 * syscall, so base/ai.lua cannot conclude that validation: the end
 * observer here rolls the fix back and marks verdict.json "rejected".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

#include "ai/ai.h"
#include "core/log.h"
#include "core/observer.h"
#include "core/options.h"
#include "watchdog/watchdog.h"

static atomic_uint attempt_seq;
static atomic_int in_flight;

int sfemu_ai_flight_take(void)
{
    return !atomic_exchange(&in_flight, 1);
}

void sfemu_ai_flight_done(void)
{
    atomic_store(&in_flight, 0);
}
static pthread_mutex_t pending_mu = PTHREAD_MUTEX_INITIALIZER;
static char pending_dir[PATH_MAX];

int sfemu_ai_enabled(void)
{
    return sfemu_opt_long(SFEMU_OPT_ai_enable) > 0 ||
           sfemu_opt_long(SFEMU_OPT_auto_ai) > 0;
}

static int mkdir_ok(const char *p)
{
    return mkdir(p, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

int sfemu_ai_begin(const char *kind, char *run_id, size_t idcap, char *dir,
                   size_t dircap)
{
    const char *root = sfemu_opt_str(SFEMU_OPT_rules);
    static const char *const sub[] = { "patch", "patch/fix",
                                       "patch/fix/syscall", "patch/observe",
                                       "patch/observe/syscall" };
    char p[PATH_MAX];
    int rc;

    (void)kind;
    if (!root) {
        return -ENOENT;
    }
    snprintf(p, sizeof(p), "%s/cache", root);
    mkdir_ok(p);
    snprintf(p, sizeof(p), "%s/cache/ai_runs", root);
    if ((rc = mkdir_ok(p)) < 0) {
        return rc;
    }
    /* Unique per attempt: time, pid, re-execs of this pid, sequence (a
     * directory left by an earlier process with the same pid is skipped). */
    for (int tries = 0;; tries++) {
        snprintf(run_id, idcap, "%lld-%d-r%d-%u", (long long)time(NULL),
                 (int)getpid(), sfemu_ai_reexec_count(),
                 atomic_fetch_add(&attempt_seq, 1) + 1);
        snprintf(dir, dircap, "%s/cache/ai_runs/%s", root, run_id);
        if (mkdir(dir, 0755) == 0) {
            break;
        }
        if (errno != EEXIST || tries > 100) {
            return -errno;
        }
    }
    for (size_t i = 0; i < sizeof(sub) / sizeof(*sub); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, sub[i]);
        if ((rc = mkdir_ok(p)) < 0) {
            return rc;
        }
    }
    return 0;
}

int sfemu_ai_is_run_dir(const char *dir)
{
    const char *root = sfemu_opt_str(SFEMU_OPT_rules);
    char base[PATH_MAX];
    size_t n;

    if (!root || !dir) {
        return 0;
    }
    n = (size_t)snprintf(base, sizeof(base), "%s/cache/ai_runs/", root);
    return !strncmp(dir, base, n) && dir[n] && !strchr(dir + n, '/') &&
           strcmp(dir + n, "..") && strcmp(dir + n, ".");
}

int sfemu_ai_write(const char *run_dir, const char *name, const char *text)
{
    char p[PATH_MAX];

    if (!sfemu_ai_is_run_dir(run_dir) || !*name || strchr(name, '/') ||
        name[0] == '.') {
        return -EINVAL;
    }
    snprintf(p, sizeof(p), "%s/%s", run_dir, name);
    return sfemu_ai_put(p, text, strlen(text));
}

int sfemu_ai_record(const char *run_dir, const char *text)
{
    char p[PATH_MAX + 32], *old, *out;
    cJSON *add = cJSON_Parse(text), *v;
    int rc;

    if (!cJSON_IsObject(add)) {
        cJSON_Delete(add);
        return -EINVAL;
    }
    snprintf(p, sizeof(p), "%s/verdict.json", run_dir);
    old = sfemu_ai_slurp(p, 1 << 20, NULL);
    v = old ? cJSON_Parse(old) : NULL;
    free(old);
    if (!cJSON_IsObject(v)) {
        cJSON_Delete(v);
        v = add;
    } else {
        cJSON *it = add->child;
        while (it) {
            cJSON *next = it->next;
            cJSON_DetachItemViaPointer(add, it);
            cJSON_DeleteItemFromObject(v, it->string);
            cJSON_AddItemToObject(v, it->string, it);
            it = next;
        }
        cJSON_Delete(add);
    }
    out = cJSON_Print(v);
    cJSON_Delete(v);
    if (!out) {
        return -ENOMEM;
    }
    rc = sfemu_ai_write(run_dir, "verdict.json", out);
    cJSON_free(out);
    return rc;
}

void sfemu_ai_pending(const char *run_dir)
{
    pthread_mutex_lock(&pending_mu);
    snprintf(pending_dir, sizeof(pending_dir), "%s", run_dir ? run_dir : "");
    pthread_mutex_unlock(&pending_mu);
}

/* verdict.json of the attempt: "rejected", with why. */
static void reject(const char *dir, const char *why)
{
    char p[PATH_MAX + 32], *text, *out;
    cJSON *v;

    snprintf(p, sizeof(p), "%s/verdict.json", dir);
    text = sfemu_ai_slurp(p, 1 << 20, NULL);
    v = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!v) {
        v = cJSON_CreateObject();
    }
    cJSON_DeleteItemFromObject(v, "verdict");
    cJSON_DeleteItemFromObject(v, "why");
    json_put(v, "verdict", cJSON_CreateString("rejected"));
    json_put(v, "why", json_bytes(why));
    out = cJSON_Print(v);
    cJSON_Delete(v);
    if (out) {
        sfemu_ai_write(dir, "verdict.json", out);
        cJSON_free(out);
    }
}

static void ai_end(const char *why, int guest_sig)
{
    char dir[PATH_MAX], msg[128];
    int n;

    if (strcmp(why, "execve")) {
        sfemu_ai_idle_end(guest_sig);
    }
    if (!guest_sig || !strcmp(why, "killed")) {
        return; /* exits are judged by base/ai.lua at the exit syscall */
    }
    pthread_mutex_lock(&pending_mu);
    snprintf(dir, sizeof(dir), "%s", pending_dir);
    pending_dir[0] = '\0';
    pthread_mutex_unlock(&pending_mu);
    if (!*dir) {
        return;
    }
    n = sfemu_ai_rollback(dir);
    snprintf(msg, sizeof(msg),
             "the guest died of signal %d during the validation window: "
             "worse, rolled back",
             guest_sig);
    reject(dir, msg);
    sfemu_log("ai: %s: %s (%d file%s)", dir, msg, n, n == 1 ? "" : "s");
}

static const struct sfemu_observer ai_observer = {
    .name = "ai",
    .end = ai_end,
};

void sfemu_ai_init(void)
{
    sfemu_ai_reexec_init();
    if (sfemu_ai_enabled()) {
        const char *dir = sfemu_ai_claimed(NULL, NULL);
        if (dir) {
            sfemu_ai_pending(dir);
        }
        sfemu_observer_add(&ai_observer);
        sfemu_watch_set_idle_hook(sfemu_ai_idle_report);
    }
}
