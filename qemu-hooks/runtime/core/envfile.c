/*
 * The AI env file (see envfile.h).  Lines are KEY=VALUE, blank, or
 * comments (#); an optional "export " prefix and one pair of matching
 * quotes around the value are accepted, as a shell would.  Only keys that
 * are settings (SFEMU_* and auto_ai) are kept: secrets in the same file
 * never enter the runtime's memory beyond the line buffer.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/envfile.h"

#define MAX_KEYS 64

static struct {
    char *name, *value;
    int line;
} keys[MAX_KEYS];
static int nkeys;
static char file_path[PATH_MAX];
static int have_path;

static int is_setting(const char *k)
{
    return !strncmp(k, "SFEMU_", 6) || !strcmp(k, "auto_ai");
}

static int valid_key(const char *k)
{
    if (!*k || isdigit((unsigned char)*k)) {
        return 0;
    }
    for (; *k; k++) {
        if (!isalnum((unsigned char)*k) && *k != '_') {
            return 0;
        }
    }
    return 1;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) {
        *--e = '\0';
    }
    return s;
}

static void bad_line(int line, const char *why)
{
    fprintf(stderr, "qemu: %s:%d: %s; line skipped\n", file_path, line, why);
}

static void parse_line(char *buf, int line)
{
    char *s = trim(buf), *eq, *key, *val;
    size_t n;

    if (!*s || *s == '#') {
        return;
    }
    if (!strncmp(s, "export ", 7)) {
        s = trim(s + 7);
    }
    eq = strchr(s, '=');
    if (!eq) {
        bad_line(line, "expected KEY=VALUE");
        return;
    }
    *eq = '\0';
    key = trim(s);
    val = trim(eq + 1);
    if (!valid_key(key)) {
        bad_line(line, "the key is not a variable name");
        return;
    }
    if (!is_setting(key)) {
        return; /* OPENAI_* and others: the tool's, never read here */
    }
    n = strlen(val);
    if (n >= 2 && (val[0] == '"' || val[0] == '\'') && val[n - 1] == val[0]) {
        val[n - 1] = '\0';
        val++;
    } else if (n && (val[0] == '"' || val[0] == '\'')) {
        bad_line(line, "unterminated quote");
        return;
    }
    if (nkeys >= MAX_KEYS) {
        bad_line(line, "too many settings in the file");
        return;
    }
    for (int i = 0; i < nkeys; i++) {
        if (!strcmp(keys[i].name, key)) { /* the last one wins, as in sh */
            free(keys[i].value);
            keys[i].value = strdup(val);
            keys[i].line = line;
            return;
        }
    }
    keys[nkeys].name = strdup(key);
    keys[nkeys].value = strdup(val);
    keys[nkeys].line = line;
    nkeys++;
}

void sfemu_envfile_load(const char *rules_dir)
{
    static int done;
    const char *env = getenv("SFEMU_AI_ENV");
    char entry[PATH_MAX], buf[4096];
    FILE *f;
    int line = 0;

    if (done || !rules_dir) {
        return;
    }
    done = 1;
    if (env && *env && env[0] != '/' && getcwd(buf, sizeof(buf))) {
        /* absolute now: the true root changes directory later */
        int n = snprintf(file_path, sizeof(file_path), "%s/%s", buf, env);
        if (n < 0 || (size_t)n >= sizeof(file_path)) {
            fprintf(stderr, "qemu: SFEMU_AI_ENV '%s': path too long\n", env);
            file_path[0] = '\0';
        }
    } else if (env && *env) {
        snprintf(file_path, sizeof(file_path), "%s", env);
    } else {
        if (snprintf(file_path, sizeof(file_path), "%.*s/config/env",
                     PATH_MAX - 16, rules_dir) < 0) {
            file_path[0] = '\0';
        }
    }
    have_path = 1;
    snprintf(entry, sizeof(entry), "%s/entry.lua", rules_dir);
    if (access(entry, F_OK) != 0) {
        return; /* the seed: entry.lua loads it */
    }
    f = fopen(file_path, "re");
    if (!f) {
        return; /* no file: nothing set (the tool is told its path) */
    }
    while (fgets(buf, sizeof(buf), f)) {
        size_t n = strlen(buf);
        line++;
        if (n == sizeof(buf) - 1 && buf[n - 1] != '\n') {
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n') {
            }
            bad_line(line, "line longer than 4095 bytes");
            continue;
        }
        parse_line(buf, line);
    }
    explicit_bzero(buf, sizeof(buf)); /* the last line may be a key */
    fclose(f);
}

const char *sfemu_envfile_get(const char *name, int *line)
{
    for (int i = 0; i < nkeys; i++) {
        if (!strcmp(keys[i].name, name)) {
            *line = keys[i].line;
            return keys[i].value;
        }
    }
    return NULL;
}

const char *sfemu_envfile_path(void)
{
    return have_path ? file_path : NULL;
}
