/*
 * Re-exec after an exit fix: this qemu runs again with the same argv
 * (options, -L, -rules, the guest program and its arguments, as
 * /proc/self/cmdline has them: QEMU never changes its argv), the same
 * environment (QEMU builds the guest's from it) and the directory it was
 * started in (the true root moves to the root's "/" later), plus
 * SFEMU_REEXEC_COUNT=n+1 and SFEMU_AI_PENDING=RUN_DIR.  The new process
 * claims the attempt by renaming RUN_DIR/pending (one claim: a guest
 * program the re-run later execs in a new qemu inherits the variable but
 * finds nothing to claim) and goes on with its validation window.
 * Refused, and logged, at SFEMU_REEXEC_MAX.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ai/ai.h"
#include "core/log.h"
#include "core/options.h"

#define ENV_COUNT "SFEMU_REEXEC_COUNT"
#define ENV_PENDING "SFEMU_AI_PENDING"

extern char **environ;

static char start_dir[PATH_MAX];
static int count;
static char claimed_dir[PATH_MAX], claimed_id[SFEMU_AI_ID_MAX],
    claimed_kind[32];

int sfemu_ai_reexec_count(void)
{
    return count;
}

const char *sfemu_ai_claimed(const char **run_id, const char **kind)
{
    if (run_id) {
        *run_id = claimed_id;
    }
    if (kind) {
        *kind = claimed_kind;
    }
    return *claimed_dir ? claimed_dir : NULL;
}

static void claim(const char *dir)
{
    char from[PATH_MAX], to[PATH_MAX + 32], *text, *nl;

    if (!sfemu_ai_is_run_dir(dir)) {
        sfemu_log("ai: %s=%s is no AI run directory of this rules tree: "
                  "ignored",
                  ENV_PENDING, dir);
        return;
    }
    snprintf(from, sizeof(from), "%s/pending", dir);
    snprintf(to, sizeof(to), "%s/pending.claimed-%d", dir, (int)getpid());
    if (rename(from, to) != 0) {
        return; /* claimed already: not ours */
    }
    text = sfemu_ai_slurp(to, 4096, NULL);
    if (!text) {
        return;
    }
    nl = strchr(text, '\n');
    if (nl) {
        *nl = '\0';
        snprintf(claimed_kind, sizeof(claimed_kind), "%.*s",
                 (int)strcspn(nl + 1, "\n"), nl + 1);
    }
    snprintf(claimed_id, sizeof(claimed_id), "%s", text);
    snprintf(claimed_dir, sizeof(claimed_dir), "%s", dir);
    free(text);
    sfemu_log("ai: re-exec %d: validating the fix of %s here", count, dir);
}

void sfemu_ai_reexec_init(void)
{
    const char *c = getenv(ENV_COUNT), *p = getenv(ENV_PENDING);

    if (!getcwd(start_dir, sizeof(start_dir))) {
        start_dir[0] = '\0';
    }
    count = c ? atoi(c) : 0;
    count = count < 0 ? 0 : count;
    if (p && *p && sfemu_opt_str(SFEMU_OPT_rules)) {
        claim(p);
    }
}

/* /proc/self/cmdline as an argv (malloc'd, one block). */
static char **own_argv(void)
{
    size_t len, n = 0, k = 0;
    char *text = NULL, **argv;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    size_t cap = 1 << 16, got = 0;
    ssize_t r;

    if (fd < 0) {
        return NULL;
    }
    text = malloc(cap);
    while (text && (r = read(fd, text + got, cap - got)) > 0) {
        got += (size_t)r;
        if (got == cap) {
            char *t = realloc(text, cap *= 2);
            if (!t) {
                free(text);
                text = NULL;
            }
            text = t;
        }
    }
    close(fd);
    if (!text || !got) {
        free(text);
        return NULL;
    }
    len = got;
    for (size_t i = 0; i < len; i++) {
        n += text[i] == '\0';
    }
    argv = malloc((n + 1) * sizeof(*argv));
    if (!argv) {
        free(text);
        return NULL;
    }
    for (size_t i = 0; i < len; i += strlen(text + i) + 1) {
        argv[k++] = text + i;
    }
    argv[k] = NULL;
    return argv;
}

static char **new_env(const char *run_dir)
{
    static char cnt[64], pend[PATH_MAX + 32];
    size_t n = 0, k = 0;
    char **env;

    for (char **e = environ; e && *e; e++) {
        n++;
    }
    env = calloc(n + 3, sizeof(*env));
    if (!env) {
        return NULL;
    }
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, ENV_COUNT "=", sizeof(ENV_COUNT)) &&
            strncmp(*e, ENV_PENDING "=", sizeof(ENV_PENDING))) {
            env[k++] = *e;
        }
    }
    snprintf(cnt, sizeof(cnt), ENV_COUNT "=%d", count + 1);
    snprintf(pend, sizeof(pend), ENV_PENDING "=%s", run_dir);
    env[k++] = cnt;
    env[k++] = pend;
    env[k] = NULL;
    return env;
}

int sfemu_ai_reexec(const char *run_dir, const char *run_id, const char *kind,
                    char *why, size_t wcap)
{
    long max = sfemu_opt_long(SFEMU_OPT_reexec_max);
    char p[PATH_MAX], text[SFEMU_AI_ID_MAX + 64], **argv, **env;
    sigset_t none;
    int rc;

    if (count >= max) {
        snprintf(why, wcap,
                 "re-exec refused: %d re-exec%s already (SFEMU_REEXEC_MAX=%ld)",
                 count, count == 1 ? "" : "s", max);
        sfemu_log("ai: %s", why);
        return -1;
    }
    snprintf(p, sizeof(p), "%s/pending", run_dir);
    snprintf(text, sizeof(text), "%s\n%s\n", run_id, kind);
    if ((rc = sfemu_ai_put(p, text, strlen(text))) < 0) {
        snprintf(why, wcap, "%s: %s", p, strerror(-rc));
        return -1;
    }
    argv = own_argv();
    env = new_env(run_dir);
    if (!argv || !env) {
        snprintf(why, wcap, "cannot read this qemu's arguments: %s",
                 strerror(errno ? errno : ENOMEM));
        unlink(p);
        return -1;
    }
    sfemu_log("ai: re-exec %d of %ld: %s again with the fix of %s", count + 1,
              max, argv[0], run_id);
    if (*start_dir && chdir(start_dir) != 0) {
        sfemu_log("ai: cannot return to %s: %s", start_dir, strerror(errno));
    }
    /* The guest's files (a listening socket) must not reach the new run;
     * 0-2 stay, as for any exec.  Marked, not closed: should execve fail,
     * the guest ends as it was going to. */
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve("/proc/self/exe", argv, env);
    snprintf(why, wcap, "execve of this qemu failed: %s", strerror(errno));
    sfemu_log("ai: %s", why);
    unlink(p);
    free(argv[0]);
    free(argv);
    free(env);
    return -1;
}
