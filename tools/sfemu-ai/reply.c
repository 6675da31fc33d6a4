/*
 * The answer, parsed strictly.  choices[0].message.content must be one JSON
 * object (alone, or in one ``` fenced block)
 *   {"explanation": "...",
 *    "files": [{"kind": "fix"|"observe", "syscall": "open", "content": "lua"}]}
 * with 1 to AI_MAX_FILES files, each kind fix or observe, each syscall a
 * name of [a-z0-9_]+ that the snapshot lists in syscalls_known (so the file
 * is <name>.lua and no path), each content non-empty UTF-8 text of at most
 * AI_MAX_FILE_BYTES, no (kind, syscall) twice.  Any fault rejects the
 * whole answer: nothing is written.  A refusal, or no files, is no rule.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ai.h"

#define EXPLANATION_MAX (16 * 1024)

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static int fail(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return AI_EANSWER;
}

/* Valid UTF-8 with no control character but tab, newline, return. */
static int is_text(const unsigned char *s)
{
    while (*s) {
        int n = *s < 0x80             ? 0
                : (*s & 0xE0) == 0xC0 ? 1
                : (*s & 0xF0) == 0xE0 ? 2
                : (*s & 0xF8) == 0xF0 ? 3
                                      : -1;
        if (n < 0 || (*s < 0xC2 && *s >= 0x80)) {
            return 0;
        }
        if (n == 0 && *s < ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
            return 0;
        }
        if (*s == 0x7F) {
            return 0;
        }
        s++;
        for (int i = 0; i < n; i++, s++) {
            if ((*s & 0xC0) != 0x80) {
                return 0;
            }
        }
    }
    return 1;
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > AI_MAX_NAME) {
        return 0;
    }
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static int known_name(const cJSON *known, const char *s)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, known)
    {
        if (cJSON_IsString(it) && !strcmp(it->valuestring, s)) {
            return 1;
        }
    }
    return 0;
}

/* The JSON text of CONTENT: all of it, or the body of its one fenced
 * block (```json ... ```).  [*start, *end), or -1. */
static int json_span(const char *c, const char **start, const char **end)
{
    const char *f = strstr(c, "```");
    if (!f) {
        *start = c;
        *end = c + strlen(c);
        return 0;
    }
    const char *p = f + 3;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
        p++; /* the language tag */
    }
    while (*p == ' ' || *p == '\t' || *p == '\r') {
        p++;
    }
    if (*p != '\n') {
        return -1;
    }
    const char *close = strstr(p + 1, "```");
    if (!close || strstr(close + 3, "```")) {
        return -1; /* unclosed, or more than one block */
    }
    *start = p + 1;
    *end = close;
    return 0;
}

static int parse_file(const cJSON *f, const cJSON *known, int i,
                      struct ai_answer *ans, char *err, size_t cap)
{
    char at[32];
    snprintf(at, sizeof at, "files[%d]", i);
    if (!cJSON_IsObject(f)) {
        return fail(err, cap, "the answer's %s is not an object", at);
    }
    const cJSON *kind = get(f, "kind"), *name = get(f, "syscall"),
                *content = get(f, "content");
    if (!cJSON_IsString(kind) || (strcmp(kind->valuestring, "fix") &&
                                  strcmp(kind->valuestring, "observe"))) {
        return fail(err, cap,
                    "the answer's %s: kind must be \"fix\" or \"observe\"", at);
    }
    if (!cJSON_IsString(name)) {
        return fail(err, cap, "the answer's %s: syscall must be a string", at);
    }
    if (!valid_name(name->valuestring)) {
        return fail(
            err, cap,
            "the answer's %s: syscall '%.64s' is not a name of [a-z0-9_] (at most 64; no path)",
            at, name->valuestring);
    }
    if (!known_name(known, name->valuestring)) {
        return fail(
            err, cap,
            "the answer's %s: '%s' is no syscall of this guest's architecture (syscalls_known)",
            at, name->valuestring);
    }
    if (!cJSON_IsString(content) || !*content->valuestring) {
        return fail(err, cap,
                    "the answer's %s: content must be a non-empty string", at);
    }
    if (strlen(content->valuestring) > AI_MAX_FILE_BYTES) {
        snprintf(err, cap, "the answer's %s: content is %zu bytes, over %d", at,
                 strlen(content->valuestring), AI_MAX_FILE_BYTES);
        return AI_EANSWER;
    }
    if (!is_text((const unsigned char *)content->valuestring)) {
        return fail(err, cap, "the answer's %s: content is not UTF-8 text", at);
    }
    for (int j = 0; j < ans->nfiles; j++) {
        if (!strcmp(ans->files[j].kind, kind->valuestring) &&
            !strcmp(ans->files[j].name, name->valuestring)) {
            return fail(err, cap, "the answer has %s/syscall/%s.lua twice",
                        kind->valuestring, name->valuestring);
        }
    }
    struct ai_file *o = &ans->files[ans->nfiles];
    snprintf(o->kind, sizeof o->kind, "%s", kind->valuestring);
    snprintf(o->name, sizeof o->name, "%s", name->valuestring);
    o->content = strdup(content->valuestring);
    if (!o->content) {
        return fail(err, cap, "out of memory");
    }
    ans->nfiles++;
    return AI_OK;
}

static int parse_object(const char *s, const char *e, const cJSON *known,
                        struct ai_answer *ans, char *err, size_t cap)
{
    while (s < e && strchr(" \t\r\n", *s)) {
        s++;
    }
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(s, e - s, &end, 0);
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return fail(err, cap, "the model's answer is not one JSON object");
    }
    while (end < e && strchr(" \t\r\n", *end)) {
        end++;
    }
    /* cJSON stops a string at \u0000: a rule cut short is refused. */
    const char *z = strcasestr(s, "\\u0000");
    if (z && z < e) {
        cJSON_Delete(o);
        return fail(err, cap, "the model's answer has a NUL character");
    }
    if (end != e) {
        cJSON_Delete(o);
        return fail(err, cap,
                    "the model's answer has text after its JSON object");
    }
    const cJSON *ex = get(o, "explanation"), *files = get(o, "files");
    int rc = AI_OK;
    if (ex && !cJSON_IsString(ex)) {
        rc = fail(err, cap, "the answer's explanation is not a string");
    } else if (ex) {
        ans->explanation = strndup(ex->valuestring, EXPLANATION_MAX);
    }
    int n = cJSON_GetArraySize(files);
    if (rc == AI_OK && files && !cJSON_IsArray(files)) {
        rc = fail(err, cap, "the answer's files is not an array");
    } else if (rc == AI_OK && n == 0) {
        rc = fail(err, cap, "the model gave no rule (no files)");
    } else if (rc == AI_OK && n > AI_MAX_FILES) {
        snprintf(err, cap, "the answer has %d files, over %d", n, AI_MAX_FILES);
        rc = AI_EANSWER;
    }
    for (int i = 0; rc == AI_OK && i < n; i++) {
        rc = parse_file(cJSON_GetArrayItem(files, i), known, i, ans, err, cap);
    }
    cJSON_Delete(o);
    return rc;
}

int ai_reply_parse(const char *body, const cJSON *known, struct ai_answer *ans,
                   char *err, size_t cap)
{
    memset(ans, 0, sizeof *ans);
    cJSON *r = cJSON_Parse(body);
    const cJSON *msg = get(cJSON_GetArrayItem(get(r, "choices"), 0), "message");
    const cJSON *refusal = get(msg, "refusal"), *content = get(msg, "content");
    const char *s, *e;
    int rc;
    if (!r) {
        rc = fail(err, cap, "the server's answer is not JSON");
    } else if (!cJSON_IsObject(msg)) {
        rc = fail(err, cap, "the server's answer has no choices[0].message");
    } else if (cJSON_IsString(refusal) && *refusal->valuestring) {
        rc = fail(err, cap, "the model refused: %.300s", refusal->valuestring);
    } else if (!cJSON_IsString(content) || !*content->valuestring) {
        rc = fail(err, cap, "the model's message has no content");
    } else if (json_span(content->valuestring, &s, &e) < 0) {
        rc = fail(
            err, cap,
            "the model's answer has an unclosed ``` block or more than one");
    } else {
        rc = parse_object(s, e, known, ans, err, cap);
    }
    cJSON_Delete(r);
    if (rc != AI_OK) {
        for (int i = 0; i < ans->nfiles; i++) {
            free(ans->files[i].content);
        }
        ans->nfiles = 0;
    }
    return rc;
}

int ai_reply_write(const char *patch_dir, const struct ai_answer *ans,
                   char *err, size_t cap)
{
    for (int i = 0; i < ans->nfiles; i++) {
        const struct ai_file *f = &ans->files[i];
        char dir[4096], name[AI_MAX_NAME + 8];
        snprintf(dir, sizeof dir, "%s/%s/syscall", patch_dir, f->kind);
        int e = ai_mkdir_p(dir);
        if (e < 0) {
            snprintf(err, cap, "%s: %s", dir, strerror(-e));
            return AI_EINPUT;
        }
        snprintf(name, sizeof name, "%s.lua", f->name);
        int rc = ai_write_file(dir, name, f->content, err, cap);
        if (rc != AI_OK) {
            return rc;
        }
    }
    return AI_OK;
}

void ai_answer_free(struct ai_answer *ans)
{
    free(ans->explanation);
    for (int i = 0; i < ans->nfiles; i++) {
        free(ans->files[i].content);
    }
    memset(ans, 0, sizeof *ans);
}
