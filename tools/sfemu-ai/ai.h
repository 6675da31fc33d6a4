/*
 * sfemu-ai: the built-in OpenAI-compatible client of AI repair
 * (docs/sfemu-ai.md).  `sfemu-ai SNAPSHOT PATCH_DIR ENV_PATH` sends the
 * snapshot and the rule API reference to {OPENAI_BASE_URL}/chat/completions
 * and writes the rules of the answer to PATCH_DIR/{fix,observe}/syscall/.
 * One file per concern: main.c (arguments, exit codes), envfile.c (the env
 * file), config.c (the OPENAI_* settings), prompt.c (the request), chat.c
 * (HTTP with retries), reply.c (the answer), files.c (reading and writing
 * files), log.c (messages; the key is blotted out of everything written).
 */
#ifndef SFEMU_AI_H
#define SFEMU_AI_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* Exit codes (the tool protocol of docs/sfemu-ai.md). */
enum {
    AI_OK = 0,
    AI_EINPUT = 2,  /* bad arguments or input: snapshot, env file, keys */
    AI_EANSWER = 3, /* the model's answer had no usable rule */
    AI_ENET = 4,    /* HTTP or network error, timeout, after the retries */
};

/* Bounds of the answer (reply.c) and of the request (prompt.c). */
#define AI_MAX_FILES 8
#define AI_MAX_FILE_BYTES (64 * 1024)
#define AI_MAX_NAME 64
#define AI_MAX_RESPONSE (4 * 1024 * 1024)
#define AI_USER_MAX_DEFAULT (64 * 1024)

/* ---- log.c: every message goes through here, with the key blotted out
 * (a key of at least AI_SECRET_MIN characters) */
#define AI_SECRET_MIN 8
void ai_log_set_secret(const char *secret);
/* A copy of S with every occurrence of the secret replaced (malloc'd). */
char *ai_redact(const char *s);
void ai_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- envfile.c: KEY=VALUE lines */
struct ai_env_entry {
    char *key;
    char *value;
    int line;
};
struct ai_env {
    char *path;
    int missing; /* no such file: every key from the environment */
    struct ai_env_entry *e;
    int n;
};
/* 0 (a file that does not exist is empty: ENV->missing), or -1 with ERR
 * naming PATH:LINE (never a value). */
int ai_env_load(const char *path, struct ai_env *env, char *err, size_t cap);
/* The last value of KEY in the file (and its line), or NULL. */
const char *ai_env_get(const struct ai_env *env, const char *key, int *line);
void ai_env_free(struct ai_env *env);

/* ---- config.c: the OPENAI_* settings */
struct ai_config {
    char url[2048]; /* OPENAI_BASE_URL + "/chat/completions" */
    char *key;      /* OPENAI_API_KEY: only ever in the header */
    char *model;
    long timeout_s;   /* OPENAI_TIMEOUT_S, default 60 */
    long max_retries; /* OPENAI_MAX_RETRIES, default 2 */
    long backoff_ms;  /* first back-off, doubled each retry */
    long budget_ms;   /* all attempts and waits: SFEMU_AI_TIMEOUT_S - 2 s */
    long user_max;    /* SFEMU_AI_PROMPT_MAX: user message bytes */
};
/* AI_OK or AI_EINPUT with ERR naming the file (and line). */
int ai_config_load(const struct ai_env *env, struct ai_config *cfg, char *err,
                   size_t cap);
void ai_config_free(struct ai_config *cfg);

/* ---- prompt.c: the request body */
/* The system prompt's path: OPT, $SFEMU_AI_PROMPT, the rules tree of
 * ENV_PATH (RULES/config/env -> RULES/plugins/ai/prompt.md), the installed
 * rules, the source tree.  NULL when none is readable. */
const char *ai_prompt_find(const char *opt, const char *env_path, char *buf,
                           size_t cap);
/* The chat-completions body (malloc'd JSON text), or NULL with ERR. */
char *ai_prompt_build(const cJSON *snapshot, const char *system_text,
                      const struct ai_config *cfg, char *err, size_t cap);

/* ---- chat.c: one POST, retried */
struct ai_http {
    long status;
    char *body; /* NUL-terminated */
    size_t len;
};
/* AI_OK with a 2xx answer in OUT, or AI_ENET with ERR (OUT holds the last
 * body received, if any). */
int ai_chat_post(const struct ai_config *cfg, const char *body,
                 struct ai_http *out, char *err, size_t cap);
void ai_http_free(struct ai_http *h);

/* ---- reply.c: the answer */
struct ai_file {
    char kind[8]; /* "fix" or "observe" */
    char name[AI_MAX_NAME + 1];
    char *content;
};
struct ai_answer {
    char *explanation;
    struct ai_file files[AI_MAX_FILES];
    int nfiles;
};
/* AI_OK, or AI_EANSWER with ERR (ANS->explanation may still be set). */
int ai_reply_parse(const char *body, const cJSON *known, struct ai_answer *ans,
                   char *err, size_t cap);
/* Writes PATCH_DIR/<kind>/syscall/<name>.lua: AI_OK or AI_EINPUT. */
int ai_reply_write(const char *patch_dir, const struct ai_answer *ans,
                   char *err, size_t cap);
void ai_answer_free(struct ai_answer *ans);

/* ---- files.c: mkdir -p, a file read whole (at most MAX bytes; NULL with
 * errno), a file written whole (redacted, renamed into place) */
int ai_mkdir_p(const char *path);
char *ai_read_file(const char *path, size_t max, size_t *len);
int ai_write_file(const char *dir, const char *name, const char *text,
                  char *err, size_t cap);

#endif
