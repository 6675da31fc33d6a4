/*
 * The env file (RULES/config/env): KEY=VALUE lines, as a shell would source
 * them for the simple cases.  Blank lines and lines starting with # are
 * skipped; `export ` before the key is allowed; a value may be in single
 * quotes (taken as is) or double quotes (\" \\ \$ \` escapes), and an
 * unquoted value ends at a ` #` comment, trailing blanks trimmed.  Errors
 * name FILE:LINE and never quote the line: it may hold the key.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ai.h"

#define ENV_MAX_BYTES (1024 * 1024)

static int add(struct ai_env *env, const char *key, size_t klen,
               const char *val, size_t vlen, int line)
{
    struct ai_env_entry *e = realloc(env->e, (env->n + 1) * sizeof *e);
    if (!e) {
        return -1;
    }
    env->e = e;
    e[env->n].key = strndup(key, klen);
    e[env->n].value = strndup(val, vlen);
    e[env->n].line = line;
    if (!e[env->n].key || !e[env->n].value) {
        free(e[env->n].key);
        free(e[env->n].value);
        return -1;
    }
    env->n++;
    return 0;
}

/* Only blanks or a # comment may follow a closing quote. */
static int rest_ok(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    return p == end || *p == '#';
}

/* One line [s, end): 0, 1 (nothing on it), or -1 with ERR. */
static int parse_line(struct ai_env *env, const char *s, const char *end,
                      int line, char *err, size_t cap)
{
    const char *p = s;
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    if (p == end || *p == '#') {
        return 1;
    }
    if (end - p > 7 && !strncmp(p, "export", 6) &&
        (p[6] == ' ' || p[6] == '\t')) {
        p += 7;
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }
    }
    const char *k = p;
    if (p < end && (isalpha((unsigned char)*p) || *p == '_')) {
        while (p < end && (isalnum((unsigned char)*p) || *p == '_')) {
            p++;
        }
    }
    if (p == k || p == end || *p != '=') {
        snprintf(err, cap,
                 "%s:%d: expected KEY=VALUE (KEY: letters, digits, _)",
                 env->path, line);
        return -1;
    }
    size_t klen = p - k;
    p++;
    char *v = malloc(end - p + 1);
    size_t vl = 0;
    if (!v) {
        snprintf(err, cap, "%s:%d: out of memory", env->path, line);
        return -1;
    }
    const char *why = NULL;
    if (p < end && *p == '\'') {
        const char *q = memchr(p + 1, '\'', end - p - 1);
        if (!q) {
            why = "no closing single quote";
        } else {
            memcpy(v, p + 1, q - p - 1);
            vl = q - p - 1;
            why = rest_ok(q + 1, end) ? NULL : "text after the closing quote";
        }
    } else if (p < end && *p == '"') {
        const char *q = p + 1;
        while (q < end && *q != '"') {
            if (*q == '\\' && q + 1 < end && strchr("\"\\$`", q[1])) {
                q++;
            }
            v[vl++] = *q++;
        }
        if (q == end) {
            why = "no closing double quote";
        } else {
            why = rest_ok(q + 1, end) ? NULL : "text after the closing quote";
        }
    } else {
        const char *q = p;
        while (q < end &&
               !(*q == '#' && q > p && (q[-1] == ' ' || q[-1] == '\t'))) {
            q++;
        }
        while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r')) {
            q--;
        }
        memcpy(v, p, q - p);
        vl = q - p;
    }
    int rc = 0;
    if (why) {
        snprintf(err, cap, "%s:%d: %.*s: %s", env->path, line, (int)klen, k,
                 why);
        rc = -1;
    } else if (add(env, k, klen, v, vl, line) < 0) {
        snprintf(err, cap, "%s:%d: out of memory", env->path, line);
        rc = -1;
    }
    free(v);
    return rc;
}

int ai_env_load(const char *path, struct ai_env *env, char *err, size_t cap)
{
    memset(env, 0, sizeof *env);
    env->path = strdup(path);
    size_t len = 0;
    char *text = env->path ? ai_read_file(path, ENV_MAX_BYTES, &len) : NULL;
    if (!text && errno == ENOENT) {
        /* The runtime passes RULES/config/env even when there is none;
         * the keys may then come from the environment. */
        env->missing = 1;
        return 0;
    }
    if (!text) {
        snprintf(err, cap, "%s: cannot read the env file: %s", path,
                 strerror(errno));
        return -1;
    }
    if (memchr(text, 0, len)) {
        snprintf(err, cap, "%s: not a text file (a NUL byte)", path);
        free(text);
        return -1;
    }
    int line = 1, rc = 0;
    for (char *s = text; rc == 0 && *s; line++) {
        char *nl = strchr(s, '\n');
        char *end = nl ? nl : s + strlen(s);
        char *e = end > s && end[-1] == '\r' ? end - 1 : end;
        rc = parse_line(env, s, e, line, err, cap) < 0 ? -1 : 0;
        s = nl ? nl + 1 : end;
    }
    free(text);
    return rc;
}

const char *ai_env_get(const struct ai_env *env, const char *key, int *line)
{
    for (int i = env->n - 1; i >= 0; i--) {
        if (!strcmp(env->e[i].key, key)) {
            if (line) {
                *line = env->e[i].line;
            }
            return env->e[i].value;
        }
    }
    return NULL;
}

void ai_env_free(struct ai_env *env)
{
    for (int i = 0; i < env->n; i++) {
        free(env->e[i].key);
        /* The value may be the key: wipe before freeing. */
        memset(env->e[i].value, 0, strlen(env->e[i].value));
        free(env->e[i].value);
    }
    free(env->e);
    free(env->path);
    memset(env, 0, sizeof *env);
}
