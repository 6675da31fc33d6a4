/*
 * The repair tool (docs/ai-repair.md, "The tool protocol"):
 *   /bin/sh -c '$SFEMU_AI_CMD "$@"' sh SNAPSHOT PATCH_DIR ENV_PATH
 * or, with SFEMU_AI_MCP_ENABLE=1 and no SFEMU_AI_CMD, the built-in one:
 *   /bin/sh RULES/plugins/ai/ai_mcp_openai SNAPSHOT PATCH_DIR ENV_PATH
 * It runs as a child process (posix_spawn: no fork handlers of qemu run in
 * it), in a process group of its own, with SFEMU_BINDIR set and the
 * environment qemu has (the env file's secrets are never put there: the
 * tool reads the file itself).  Its stdout goes to RUN_DIR/tool.log, its
 * stderr through a pipe we copy there, keeping the last line as the
 * reason of a failure.  After SFEMU_AI_TIMEOUT_S its group is killed.  The
 * guest thread waits meanwhile, with the watchdog suspended.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ai/ai.h"
#include "core/envfile.h"
#include "core/log.h"
#include "core/options.h"
#include "watchdog/ctxring.h"
#include "watchdog/watchdog.h"

extern char **environ;

static void set_reason(struct sfemu_ai_tool_result *r, const char *fmt,
                       const char *a)
{
    snprintf(r->reason, sizeof(r->reason), fmt, a);
}

/* The environment the tool gets: ours, SFEMU_BINDIR replaced. */
static char **tool_env(void)
{
    static char bindir[PATH_MAX + 16];
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    size_t cnt = 0, k = 0;
    char **env;

    for (char **e = environ; e && *e; e++) {
        cnt++;
    }
    env = calloc(cnt + 2, sizeof(*env));
    if (!env) {
        return NULL;
    }
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "SFEMU_BINDIR=", 13)) {
            env[k++] = *e;
        }
    }
    if (n > 0) {
        exe[n] = '\0';
        *strrchr(exe, '/') = '\0';
        snprintf(bindir, sizeof(bindir), "SFEMU_BINDIR=%s", exe);
        env[k++] = bindir;
    }
    env[k] = NULL;
    return env;
}

/* Appends stderr bytes to the log and keeps the last non-empty line. */
struct lastline {
    char cur[256], last[256];
    size_t n;
};

static void take_bytes(struct lastline *l, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (b[i] == '\n') {
            if (l->n) {
                l->cur[l->n] = '\0';
                memcpy(l->last, l->cur, l->n + 1);
            }
            l->n = 0;
        } else if (l->n < sizeof(l->cur) - 1) {
            l->cur[l->n++] = b[i];
        }
    }
}

static int64_t now_ms(void)
{
    return sfemu_mono_ns() / 1000000;
}

static void wait_tool(pid_t pid, int errfd, int logfd, long timeout_s,
                      struct sfemu_ai_tool_result *r)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), status = 0, done = 0;
    int64_t deadline = now_ms() + timeout_s * 1000;
    struct lastline l = { .n = 0 };
    char buf[4096];

    l.last[0] = '\0';
    for (;;) {
        struct pollfd p[2];
        int np = 0, idx_err = -1;
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            r->status = "timeout";
            r->code = -SIGKILL;
            snprintf(r->reason, sizeof(r->reason),
                     "killed after %ld s (SFEMU_AI_TIMEOUT_S)", timeout_s);
            break;
        }
        if (errfd >= 0) {
            idx_err = np;
            p[np++] = (struct pollfd){ errfd, POLLIN, 0 };
        }
        if (pidfd >= 0) {
            p[np++] = (struct pollfd){ pidfd, POLLIN, 0 };
        }
        /* without a pidfd, the child's end is looked for every 50 ms */
        if (np) {
            int ms = pidfd >= 0 ? (left > 60000 ? 60000 : (int)left)
                                : (left < 50 ? (int)left : 50);
            if (poll(p, np, ms) < 0 && errno != EINTR) {
                p[0].revents = 0;
            }
        } else {
            struct timespec ts = { 0, 50 * 1000000L };
            nanosleep(&ts, NULL);
        }
        if (idx_err >= 0 && (p[idx_err].revents & (POLLIN | POLLHUP))) {
            ssize_t n = read(errfd, buf, sizeof(buf));
            if (n > 0) {
                take_bytes(&l, buf, (size_t)n);
                if (write(logfd, buf, (size_t)n) < 0) {
                    /* the record loses a line; the reason is kept */
                }
            } else if (n == 0 || errno != EINTR) {
                close(errfd);
                errfd = -1; /* EOF: the tool (and its children) closed it */
            }
        }
        if (waitpid(pid, &status, WNOHANG) == pid) {
            done = 1;
            break;
        }
    }
    if (done) {
        /* what is still buffered in the pipe, without waiting for a child
         * that kept it open */
        if (errfd >= 0) {
            ssize_t n;
            fcntl(errfd, F_SETFL, O_NONBLOCK);
            while ((n = read(errfd, buf, sizeof(buf))) > 0) {
                take_bytes(&l, buf, (size_t)n);
                if (write(logfd, buf, (size_t)n) < 0) {
                }
            }
        }
        kill(-pid, SIGKILL); /* children it left behind */
        if (l.n) {
            l.cur[l.n] = '\0';
            memcpy(l.last, l.cur, l.n + 1);
        }
        if (WIFEXITED(status)) {
            r->code = WEXITSTATUS(status);
            r->status = r->code == 0 ? "ok" : "failed";
            if (r->code != 0) {
                if (*l.last) {
                    set_reason(r, "%s", l.last);
                } else {
                    snprintf(r->reason, sizeof(r->reason),
                             "exit status %d (no message)", r->code);
                }
            }
        } else {
            r->status = "failed";
            r->code = -WTERMSIG(status);
            snprintf(r->reason, sizeof(r->reason), "killed by signal %d",
                     WTERMSIG(status));
        }
    }
    if (errfd >= 0) {
        close(errfd);
    }
    if (pidfd >= 0) {
        close(pidfd);
    }
}

void sfemu_ai_run_tool(const char *snapshot, const char *patch_dir,
                       const char *run_dir, struct sfemu_ai_tool_result *r)
{
    const char *cmd = sfemu_opt_str(SFEMU_OPT_ai_cmd);
    const char *envp = sfemu_envfile_path();
    char script[PATH_MAX], logp[PATH_MAX], shcmd[8192];
    const char *argv[8];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    int pipefd[2], logfd, rc, was;
    pid_t pid;
    int64_t t0 = now_ms();
    char **env;

    r->status = "no_tool";
    r->code = 0;
    r->reason[0] = '\0';
    r->secs = 0;
    if (!envp) {
        envp = "";
    }
    if (cmd && *cmd) {
        snprintf(shcmd, sizeof(shcmd), "%s \"$@\"", cmd);
        argv[0] = "/bin/sh";
        argv[1] = "-c";
        argv[2] = shcmd;
        argv[3] = "sh";
    } else if (sfemu_opt_long(SFEMU_OPT_ai_mcp_enable) > 0) {
        snprintf(script, sizeof(script), "%s/plugins/ai/ai_mcp_openai",
                 sfemu_opt_str(SFEMU_OPT_rules));
        if (access(script, R_OK) != 0) {
            set_reason(r, "the built-in tool %.200s is missing", script);
            return;
        }
        argv[0] = "/bin/sh";
        argv[1] = script;
        argv[2] = NULL;
        argv[3] = NULL;
    } else {
        set_reason(r, "%s",
                   "no tool: set SFEMU_AI_CMD, or SFEMU_AI_MCP_ENABLE=1 for "
                   "the built-in one");
        return;
    }
    {
        int k = argv[2] ? 4 : 2;
        argv[k++] = snapshot;
        argv[k++] = patch_dir;
        argv[k++] = envp;
        argv[k] = NULL;
    }
    snprintf(logp, sizeof(logp), "%s/tool.log", run_dir);
    logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0 || pipe2(pipefd, O_CLOEXEC) != 0) {
        r->status = "spawn_error";
        set_reason(r, "cannot open the tool's log: %s", strerror(errno));
        if (logfd >= 0) {
            close(logfd);
        }
        return;
    }
    env = tool_env();
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, logfd, 1);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    was = sfemu_watch_suspend(1); /* waiting for the tool is not a hang */
    rc = posix_spawn(&pid, "/bin/sh", &fa, &at, (char *const *)argv,
                     env ? env : environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free(env);
    close(pipefd[1]);
    if (rc != 0) {
        r->status = "spawn_error";
        set_reason(r, "cannot start /bin/sh: %s", strerror(rc));
        close(pipefd[0]);
    } else {
        wait_tool(pid, pipefd[0], logfd, sfemu_opt_long(SFEMU_OPT_ai_timeout_s),
                  r);
    }
    sfemu_watch_suspend(was);
    close(logfd);
    r->secs = (double)(now_ms() - t0) / 1000.0;
    sfemu_log("ai: tool %s, code %d%s%s, after %.1f s", r->status, r->code,
              *r->reason ? ": " : "", r->reason, r->secs);
}
