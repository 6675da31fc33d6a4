/*
 * Messages, and the one secret: the API key is blotted out of every
 * message and every file the tool writes (ai_redact), so that no error
 * path, echoed server message or model answer can put it on disk or on a
 * terminal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ai.h"

#define AI_REDACTED "[redacted]"

static const char *secret;

void ai_log_set_secret(const char *s)
{
    /* A key shorter than AI_SECRET_MIN is a placeholder for a server that
     * needs none ("x", "none"): blotting it out would mangle every text. */
    secret = s && strlen(s) >= AI_SECRET_MIN ? s : NULL;
}

char *ai_redact(const char *s)
{
    if (!s) {
        return NULL;
    }
    if (!secret) {
        return strdup(s);
    }
    size_t sl = strlen(secret), rl = strlen(AI_REDACTED), n = 0;
    for (const char *p = strstr(s, secret); p; p = strstr(p + sl, secret)) {
        n++;
    }
    char *out = malloc(strlen(s) + n * rl + 1);
    if (!out) {
        return NULL;
    }
    char *o = out;
    for (const char *p = s;;) {
        const char *m = strstr(p, secret);
        if (!m) {
            strcpy(o, p);
            break;
        }
        memcpy(o, p, m - p);
        o += m - p;
        memcpy(o, AI_REDACTED, rl);
        o += rl;
        p = m + sl;
    }
    return out;
}

void ai_log(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *r = ai_redact(buf);
    /* One line each: the runtime records the last stderr line. */
    for (char *p = r; p && *p; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    fprintf(stderr, "sfemu-ai: %s\n", r ? r : "(out of memory)");
    free(r);
}
