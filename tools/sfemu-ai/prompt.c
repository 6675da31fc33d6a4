/*
 * The request: a chat-completions body with two messages.  The system
 * message is the rule API reference (rules_examples/plugins/ai/prompt.md:
 * the do_syscall conventions, the c_* functions, fakefile basics and the
 * exact answer format); the user message is the trigger, the syscall names
 * the answer may use, and the snapshot, trimmed to SFEMU_AI_PROMPT_MAX
 * bytes: long arrays and strings are cut, step by step, but the newest
 * entries of the context ring and the innermost frames of the backtrace
 * are always kept.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ai.h"

#ifndef SFEMU_RULES_SRC
#define SFEMU_RULES_SRC ""
#endif

#define PROMPT_REL "plugins/ai/prompt.md"

static int readable(const char *p)
{
    return access(p, R_OK) == 0;
}

const char *ai_prompt_find(const char *opt, const char *env_path, char *buf,
                           size_t cap)
{
    if (!buf || cap == 0) {
        return NULL;
    }
    const char *e = opt ? opt : getenv("SFEMU_AI_PROMPT");
    if (e && *e) {
        snprintf(buf, cap, "%s", e);
        return readable(buf) ? buf : NULL;
    }
    /* RULES/config/env -> RULES/plugins/ai/prompt.md */
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", env_path);
    snprintf(buf, cap, "%s/../" PROMPT_REL, dirname(tmp));
    if (readable(buf)) {
        return buf;
    }
    /* PREFIX/bin/sfemu-ai -> PREFIX/share/sfemu/rules_examples */
    ssize_t n = readlink("/proc/self/exe", tmp, sizeof tmp - 1);
    if (n > 0) {
        tmp[n] = 0;
        snprintf(buf, cap, "%s/../share/sfemu/rules_examples/" PROMPT_REL,
                 dirname(tmp));
        if (readable(buf)) {
            return buf;
        }
    }
    snprintf(buf, cap, "%s/" PROMPT_REL, SFEMU_RULES_SRC);
    return *SFEMU_RULES_SRC && readable(buf) ? buf : NULL;
}

/* How hard to cut, tried in order until the user message fits. */
static const struct cut {
    int arr, ctx, bt, str;
} cuts[] = {
    { 64, 64, 64, 2048 }, { 32, 64, 64, 1024 }, { 16, 32, 32, 512 },
    { 8, 16, 16, 256 },   { 4, 8, 8, 128 },
};

/* Cut a string to at most MAX bytes, on a UTF-8 character boundary. */
static void cut_string(cJSON *s, int max)
{
    size_t len = strlen(s->valuestring);
    if ((int)len <= max) {
        return;
    }
    size_t k = max;
    while (k > 0 && ((unsigned char)s->valuestring[k] & 0xC0) == 0x80) {
        k--;
    }
    char *t = malloc(k + 16);
    if (!t) {
        return;
    }
    snprintf(t, k + 16, "%.*s...[cut]", (int)k, s->valuestring);
    cJSON_free(s->valuestring);
    s->valuestring = t;
}

/* Keep KEEP items of array A: the last ones (TAIL) or the first ones, and
 * say how many were cut. */
static void cut_array(cJSON *a, int keep, int tail)
{
    int n = cJSON_GetArraySize(a);
    if (n <= keep) {
        return;
    }
    for (int i = 0; i < n - keep; i++) {
        cJSON_DeleteItemFromArray(a, tail ? 0 : keep);
    }
    char note[64];
    snprintf(note, sizeof note, "... %d %s entries cut", n - keep,
             tail ? "older" : "more");
    cJSON *m = cJSON_CreateString(note);
    if (tail) {
        cJSON_InsertItemInArray(a, 0, m);
    } else {
        cJSON_AddItemToArray(a, m);
    }
}

static void trim(cJSON *node, const struct cut *c)
{
    for (cJSON *it = node->child; it; it = it->next) {
        if (cJSON_IsString(it)) {
            cut_string(it, c->str);
        } else if (cJSON_IsArray(it)) {
            const char *k = it->string ? it->string : "";
            if (!strcmp(k, "ctx")) {
                cut_array(it, c->ctx, 1);
            } else if (!strcmp(k, "backtrace")) {
                cut_array(it, c->bt, 0);
            } else {
                cut_array(it, c->arr, 0);
            }
            trim(it, c);
        } else if (cJSON_IsObject(it)) {
            trim(it, c);
        }
    }
}

static const char *str_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "?";
}

/* The user message at cut level C (malloc'd). */
static char *user_message(const cJSON *snap, const struct cut *c)
{
    cJSON *copy = cJSON_Duplicate(snap, 1);
    if (!copy) {
        return NULL;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "syscalls_known");
    trim(copy, c);
    char *json = cJSON_Print(copy);
    const cJSON *known =
        cJSON_GetObjectItemCaseSensitive(snap, "syscalls_known");
    const cJSON *trig = cJSON_GetObjectItemCaseSensitive(copy, "trigger");
    size_t names = 1;
    const cJSON *it;
    cJSON_ArrayForEach(it, known)
    {
        names += strlen(it->valuestring) + 1;
    }
    size_t cap = (json ? strlen(json) : 0) + names + 1024;
    char *out = json ? malloc(cap) : NULL;
    if (out) {
        int n =
            snprintf(out, cap,
                     "The guest program %s (arch %s) went wrong under SFEmu.\n"
                     "Trigger: %s: %s\n\n"
                     "Syscall names you may write rules for (this guest's "
                     "architecture):\n",
                     str_of(copy, "exec_path"), str_of(copy, "arch"),
                     str_of(trig, "kind"), str_of(trig, "detail"));
        const char *sep = "";
        cJSON_ArrayForEach(it, known)
        {
            n += snprintf(out + n, cap - n, "%s%s", sep, it->valuestring);
            sep = " ";
        }
        snprintf(out + n, cap - n,
                 "\n\nThe snapshot (JSON; long arrays and strings cut):\n%s\n\n"
                 "Answer with the one JSON object the system message "
                 "describes.\n",
                 json);
    }
    cJSON_free(json);
    cJSON_Delete(copy);
    return out;
}

char *ai_prompt_build(const cJSON *snapshot, const char *system_text,
                      const struct ai_config *cfg, char *err, size_t cap)
{
    size_t ncuts = sizeof cuts / sizeof cuts[0];
    char *user = NULL;
    for (size_t i = 0; i < ncuts; i++) {
        free(user);
        user = user_message(snapshot, &cuts[i]);
        if (!user || (long)strlen(user) <= cfg->user_max) {
            break;
        }
        if (i + 1 == ncuts) {
            ai_log("warning: the snapshot is %zu bytes cut as far as it goes "
                   "(SFEMU_AI_PROMPT_MAX %ld)",
                   strlen(user), cfg->user_max);
        }
    }
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "model", cfg->model);
    cJSON *msgs = cJSON_AddArrayToObject(req, "messages");
    cJSON *sys = cJSON_CreateObject(), *usr = cJSON_CreateObject();
    cJSON_AddItemToArray(msgs, sys);
    cJSON_AddItemToArray(msgs, usr);
    cJSON_AddStringToObject(sys, "role", "system");
    cJSON_AddStringToObject(sys, "content", system_text);
    cJSON_AddStringToObject(usr, "role", "user");
    cJSON_AddStringToObject(usr, "content", user ? user : "");
    char *body = user ? cJSON_PrintUnformatted(req) : NULL;
    cJSON_Delete(req);
    free(user);
    if (!body) {
        snprintf(err, cap, "out of memory building the request");
    }
    return body;
}
