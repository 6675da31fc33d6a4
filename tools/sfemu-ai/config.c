/*
 * The OPENAI_* settings: from the env file, or, for a key the file does not
 * set, from the environment.  OPENAI_API_KEY, OPENAI_BASE_URL and
 * OPENAI_MODEL are required (there is no default server); errors name the
 * env file and the line, never a value of the key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ai.h"

/* The value of NAME and where it came from ("FILE:LINE" or "the
 * environment") in FROM. */
static const char *setting(const struct ai_env *env, const char *name,
                           char *from, size_t cap)
{
    int line = 0;
    const char *v = ai_env_get(env, name, &line);
    if (v) {
        snprintf(from, cap, "%s:%d", env->path, line);
        return v;
    }
    snprintf(from, cap, "the environment");
    return getenv(name);
}

/* Printable ASCII, no blank: what may go in a header or a URL as is. */
static int plain(const char *s)
{
    for (; *s; s++) {
        if (*s <= ' ' || *s > '~') {
            return 0;
        }
    }
    return 1;
}

static int number(const struct ai_env *env, const char *name, long lo, long hi,
                  long def, long *out, char *err, size_t cap)
{
    char from[1100];
    const char *v = setting(env, name, from, sizeof from);
    if (!v || !*v) {
        *out = def;
        return AI_OK;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v || n < lo || n > hi) {
        snprintf(err, cap,
                 "%s: %s '%.32s': expected an integer from %ld to %ld", from,
                 name, v, lo, hi);
        return AI_EINPUT;
    }
    *out = n;
    return AI_OK;
}

int ai_config_load(const struct ai_env *env, struct ai_config *cfg, char *err,
                   size_t cap)
{
    char from[1100];
    memset(cfg, 0, sizeof *cfg);
    static const char *const req[] = { "OPENAI_API_KEY", "OPENAI_BASE_URL",
                                       "OPENAI_MODEL" };
    for (int i = 0; i < 3; i++) {
        const char *v = setting(env, req[i], from, sizeof from);
        if (!v || !*v) {
            snprintf(err, cap,
                     "%s: %s is not set%s (see config/env.example; "
                     "docs/sfemu-ai.md)",
                     env->path, req[i],
                     env->missing ? " (no such file, nor in the environment)"
                                  : "");
            return AI_EINPUT;
        }
    }
    const char *key = setting(env, "OPENAI_API_KEY", from, sizeof from);
    if (!plain(key)) {
        snprintf(err, cap,
                 "%s: OPENAI_API_KEY has a blank or a character that "
                 "cannot go in an HTTP header",
                 from);
        return AI_EINPUT;
    }
    /* From here on, no message or file can carry the key. */
    cfg->key = strdup(key);
    if (!cfg->key) {
        snprintf(err, cap, "out of memory");
        return AI_EINPUT;
    }
    ai_log_set_secret(cfg->key);
    const char *base = setting(env, "OPENAI_BASE_URL", from, sizeof from);
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/') {
        bl--;
    }
    if ((strncmp(base, "http://", 7) && strncmp(base, "https://", 8)) ||
        !plain(base) || bl + sizeof "/chat/completions" > sizeof cfg->url) {
        snprintf(err, cap,
                 "%s: OPENAI_BASE_URL: expected an http:// or https:// URL "
                 "such as http://127.0.0.1:8080/v1",
                 from);
        return AI_EINPUT;
    }
    snprintf(cfg->url, sizeof cfg->url, "%.*s/chat/completions", (int)bl, base);
    const char *model = setting(env, "OPENAI_MODEL", from, sizeof from);
    for (const char *p = model; *p; p++) {
        if ((unsigned char)*p < ' ') {
            snprintf(err, cap, "%s: OPENAI_MODEL has a control character",
                     from);
            return AI_EINPUT;
        }
    }
    int rc =
        number(env, "OPENAI_TIMEOUT_S", 1, 3600, 60, &cfg->timeout_s, err, cap);
    if (rc == AI_OK) {
        rc = number(env, "OPENAI_MAX_RETRIES", 0, 10, 2, &cfg->max_retries, err,
                    cap);
    }
    if (rc == AI_OK) {
        rc = number(env, "SFEMU_AI_PROMPT_MAX", 4096, 16 * 1024 * 1024,
                    AI_USER_MAX_DEFAULT, &cfg->user_max, err, cap);
    }
    /* The runtime kills the tool after SFEMU_AI_TIMEOUT_S (default 120):
     * stop a little before, so that the last line says why. */
    long budget = 0;
    if (rc == AI_OK) {
        rc =
            number(env, "SFEMU_AI_TIMEOUT_S", 1, 86400, 120, &budget, err, cap);
    }
    if (rc != AI_OK) {
        return rc;
    }
    cfg->budget_ms = budget > 4 ? (budget - 2) * 1000 : budget * 500;
    cfg->backoff_ms = 500;
    cfg->model = strdup(model);
    if (!cfg->model) {
        snprintf(err, cap, "out of memory");
        return AI_EINPUT;
    }
    return AI_OK;
}

void ai_config_free(struct ai_config *cfg)
{
    ai_log_set_secret(NULL);
    if (cfg->key) {
        memset(cfg->key, 0, strlen(cfg->key));
    }
    free(cfg->key);
    free(cfg->model);
    cfg->key = cfg->model = NULL;
}
