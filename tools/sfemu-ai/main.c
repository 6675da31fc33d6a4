/*
 * sfemu-ai SNAPSHOT PATCH_DIR ENV_PATH: the tool protocol of AI repair
 * (docs/sfemu-ai.md).  Exit 0: rules written under PATCH_DIR; 2: bad
 * arguments or input; 3: the model's answer had no usable rule; 4: HTTP or
 * network error or timeout after the retries.  On failure the last stderr
 * line is the reason (the runtime records it).  PATCH_DIR also gets
 * request.json (the body sent), response.json (the body received) and
 * explanation.txt; none of them, and no message, holds the key.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ai.h"

#define SNAPSHOT_MAX (64 * 1024 * 1024)
#define PROMPT_MAX (1024 * 1024)

static const char usage[] =
    "usage: sfemu-ai [--prompt FILE] SNAPSHOT PATCH_DIR ENV_PATH\n"
    "       sfemu-ai --help | --version\n";

static const char help[] =
    "Asks an OpenAI-compatible chat-completions server for SFEmu rules that\n"
    "fix what the snapshot shows, and writes them to\n"
    "PATCH_DIR/fix/syscall/NAME.lua and PATCH_DIR/observe/syscall/NAME.lua.\n"
    "\n"
    "  SNAPSHOT   the AI snapshot JSON the runtime wrote (docs/sfemu-ai.md)\n"
    "  PATCH_DIR  where the rules, request.json, response.json and\n"
    "             explanation.txt go (made if missing)\n"
    "  ENV_PATH   the env file: OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL\n"
    "             (required), OPENAI_TIMEOUT_S (60), OPENAI_MAX_RETRIES (2),\n"
    "             SFEMU_AI_PROMPT_MAX (65536), SFEMU_AI_TIMEOUT_S (120: all\n"
    "             attempts end 2 s before); a key the file does not set is\n"
    "             taken from the environment\n"
    "  --prompt FILE  the system prompt (default $SFEMU_AI_PROMPT, else\n"
    "             plugins/ai/prompt.md of the rules tree ENV_PATH is in,\n"
    "             else of the installed rules)\n"
    "\n"
    "Exit status: 0 rules written; 2 bad arguments or input; 3 the answer\n"
    "had no usable rule (malformed, refused, bad names); 4 HTTP or network\n"
    "error or timeout after the retries.  The last line on stderr says why.\n";

struct run {
    const char *snapshot_path, *patch_dir, *env_path, *prompt_opt;
    struct ai_env env;
    struct ai_config cfg;
    cJSON *snapshot;
    char *system_text, *body;
    struct ai_http http;
    struct ai_answer ans;
    char err[8192];
};

/* The snapshot: JSON of schema sfemu-ai-snapshot version 1, with the
 * guest's syscall names. */
static int load_snapshot(struct run *r)
{
    size_t len;
    char *text = ai_read_file(r->snapshot_path, SNAPSHOT_MAX, &len);
    if (!text) {
        snprintf(r->err, sizeof r->err, "%s: cannot read the snapshot: %s",
                 r->snapshot_path, strerror(errno));
        return AI_EINPUT;
    }
    r->snapshot = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *schema =
        cJSON_GetObjectItemCaseSensitive(r->snapshot, "schema");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(r->snapshot, "version");
    const cJSON *known =
        cJSON_GetObjectItemCaseSensitive(r->snapshot, "syscalls_known");
    const char *why = NULL;
    if (!cJSON_IsObject(r->snapshot)) {
        why = "not a JSON object";
    } else if (!cJSON_IsString(schema) ||
               strcmp(schema->valuestring, "sfemu-ai-snapshot")) {
        why = "schema is not \"sfemu-ai-snapshot\"";
    } else if (!cJSON_IsNumber(ver) || ver->valuedouble != 1) {
        why = "unsupported version (this tool reads version 1)";
    } else if (!cJSON_IsArray(known) || !cJSON_GetArraySize(known)) {
        why = "no syscalls_known list";
    } else {
        const cJSON *it;
        cJSON_ArrayForEach(it, known)
        {
            if (!cJSON_IsString(it)) {
                why = "syscalls_known has an entry that is not a string";
            }
        }
    }
    if (why) {
        snprintf(r->err, sizeof r->err, "%s: %s", r->snapshot_path, why);
        return AI_EINPUT;
    }
    return AI_OK;
}

static int load_prompt(struct run *r)
{
    char path[4096];
    if (!ai_prompt_find(r->prompt_opt, r->env_path, path, sizeof path)) {
        snprintf(r->err, sizeof r->err,
                 "no readable system prompt (--prompt, $SFEMU_AI_PROMPT, "
                 "RULES/plugins/ai/prompt.md): %s",
                 r->prompt_opt ? r->prompt_opt : path);
        return AI_EINPUT;
    }
    size_t len;
    r->system_text = ai_read_file(path, PROMPT_MAX, &len);
    if (!r->system_text) {
        snprintf(r->err, sizeof r->err, "%s: %s", path, strerror(errno));
        return AI_EINPUT;
    }
    return AI_OK;
}

static int run(struct run *r)
{
    int rc;
    if (ai_env_load(r->env_path, &r->env, r->err, sizeof r->err) < 0) {
        return AI_EINPUT;
    }
    if ((rc = ai_config_load(&r->env, &r->cfg, r->err, sizeof r->err)) ||
        (rc = load_snapshot(r)) || (rc = load_prompt(r))) {
        return rc;
    }
    int e = ai_mkdir_p(r->patch_dir);
    if (e < 0) {
        snprintf(r->err, sizeof r->err, "%s: %s", r->patch_dir, strerror(-e));
        return AI_EINPUT;
    }
    r->body = ai_prompt_build(r->snapshot, r->system_text, &r->cfg, r->err,
                              sizeof r->err);
    if (!r->body) {
        return AI_EINPUT;
    }
    /* The redacted body is what goes out, and what request.json shows. */
    char *sent = ai_redact(r->body);
    free(r->body);
    r->body = sent;
    if (!r->body) {
        snprintf(r->err, sizeof r->err, "out of memory");
        return AI_EINPUT;
    }
    if ((rc = ai_write_file(r->patch_dir, "request.json", r->body, r->err,
                            sizeof r->err))) {
        return rc;
    }
    rc = ai_chat_post(&r->cfg, r->body, &r->http, r->err, sizeof r->err);
    if (r->http.body) {
        char werr[1024];
        if (ai_write_file(r->patch_dir, "response.json", r->http.body, werr,
                          sizeof werr)) {
            ai_log("warning: %s", werr);
        }
    }
    if (rc) {
        return rc;
    }
    rc = ai_reply_parse(
        r->http.body,
        cJSON_GetObjectItemCaseSensitive(r->snapshot, "syscalls_known"),
        &r->ans, r->err, sizeof r->err);
    if (r->ans.explanation) {
        char werr[1024];
        if (ai_write_file(r->patch_dir, "explanation.txt", r->ans.explanation,
                          werr, sizeof werr)) {
            ai_log("warning: %s", werr);
        }
    }
    if (rc ||
        (rc = ai_reply_write(r->patch_dir, &r->ans, r->err, sizeof r->err))) {
        return rc;
    }
    for (int i = 0; i < r->ans.nfiles; i++) {
        printf("sfemu-ai: wrote %s/%s/syscall/%s.lua\n", r->patch_dir,
               r->ans.files[i].kind, r->ans.files[i].name);
    }
    return AI_OK;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "prompt", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    struct run r = { 0 };
    int c;
    while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
        switch (c) {
        case 'p': r.prompt_opt = optarg; break;
        case 'h': printf("%s\n%s", usage, help); return 0;
        case 'V': printf("sfemu-ai %s\n", SFEMU_VERSION); return 0;
        default: fputs(usage, stderr); return AI_EINPUT;
        }
    }
    if (argc - optind != 3) {
        fputs(usage, stderr);
        ai_log("expected 3 arguments (SNAPSHOT PATCH_DIR ENV_PATH), got %d",
               argc - optind);
        return AI_EINPUT;
    }
    r.snapshot_path = argv[optind];
    r.patch_dir = argv[optind + 1];
    r.env_path = argv[optind + 2];
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        ai_log("cannot initialise libcurl");
        return AI_ENET;
    }
    int rc = run(&r);
    if (rc) {
        ai_log("no rule: %s", r.err);
    }
    fflush(stdout);
    ai_answer_free(&r.ans);
    ai_http_free(&r.http);
    free(r.body);
    free(r.system_text);
    cJSON_Delete(r.snapshot);
    ai_config_free(&r.cfg);
    ai_env_free(&r.env);
    curl_global_cleanup();
    return rc;
}
