/*
 * c_init_rootfs([opts]) -> status, report
 *   Boot-time preparation from a rule (docs/mount.md, "Boot-time
 *   preparation: --init"): runs `sfemu-mount --init` on the guest root,
 *   which must be an sfemu-mount (the replay writes into its upper layer;
 *   the firmware tree is never written), and waits for it.  opts: engine
 *   ("auto", "shell", "interpret"), timeout (seconds, the shell engine's
 *   limit), scripts (a list of guest paths).  Returns the exit status (0:
 *   the replay ran) and the report (its "init: ..." lines), or nil, -errno
 *   (-ENOTCONN: the root is not an sfemu-mount; -ENOENT: no sfemu-mount
 *   program found).  The calling guest thread waits; the watchdog is
 *   suspended meanwhile.  The child gets none of the guest's fds but
 *   stderr (qemu's log).  sfemu-mount is $SFEMU_MOUNT, else beside this
 *   qemu (an install) or in the build tree (../mount/), else on $PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>

#include "api/api.h"
#include "trueroot/guestfs.h"
#include "core/log.h"
#include "core/runtime.h"
#include "core/sandbox.h"
#include "fakefile/fake.h"
#include "watchdog/watchdog.h"

extern char **environ;

#define INIT_ARGS_MAX 48

/* The sfemu-mount program, in out; 0 or -ENOENT. */
static int find_sfemu_mount(char *out, size_t cap)
{
    const char *env = getenv("SFEMU_MOUNT");
    char exe[PATH_MAX];
    ssize_t n;

    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return access(out, X_OK) == 0 ? 0 : -ENOENT;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        char *slash;

        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            if (snprintf(out, cap, "%s/sfemu-mount", exe) < (int)cap &&
                access(out, X_OK) == 0) {
                return 0;
            }
            if (snprintf(out, cap, "%s/../mount/sfemu-mount", exe) < (int)cap &&
                access(out, X_OK) == 0) {
                return 0;
            }
        }
    }
    snprintf(out, cap, "sfemu-mount"); /* posix_spawnp: $PATH */
    return 0;
}

static int c_init_rootfs(lua_State *L)
{
    const char *argv[INIT_ARGS_MAX + 1];
    char prog[PATH_MAX], timeout[16];
    char *abs;
    const char *root = NULL;
    int argc = 0, pipefd[2], status, rc;
    posix_spawn_file_actions_t fa;
    luaL_Buffer report;
    pid_t pid;

    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
    }
    lua_settop(L, 1); /* the options, or nil */
    if ((abs = sfemu_guestfs_root_path())) {
        root = lua_pushstring(L, abs); /* kept: stays on the stack */
        free(abs);
    }
    if (!root || !sfemu_fake_mounted()) {
        return sfemu_api_push_fail(L, -ENOTCONN);
    }
    if (find_sfemu_mount(prog, sizeof(prog)) < 0) {
        return sfemu_api_push_fail(L, -ENOENT);
    }
    argv[argc++] = prog;
    argv[argc++] = "--init";
    if (lua_istable(L, 1)) {
        if (lua_getfield(L, 1, "engine") == LUA_TSTRING) {
            argv[argc++] = "--init-engine";
            argv[argc++] = lua_tostring(L, -1); /* kept: stays on the stack */
        }
        if (lua_getfield(L, 1, "timeout") == LUA_TNUMBER) {
            snprintf(timeout, sizeof(timeout), "%lld",
                     (long long)lua_tointeger(L, -1));
            argv[argc++] = "--init-timeout";
            argv[argc++] = timeout;
        }
        if (lua_getfield(L, 1, "scripts") == LUA_TTABLE) {
            int scripts = lua_gettop(L);

            for (lua_Integer i = 1; argc + 3 < INIT_ARGS_MAX; i++) {
                if (lua_rawgeti(L, scripts, i) != LUA_TSTRING) {
                    lua_pop(L, 1);
                    break;
                }
                argv[argc++] = "--init-script";
                argv[argc++] = lua_tostring(L, -1); /* kept on the stack */
            }
        }
    }
    argv[argc++] = root;
    argv[argc] = NULL;

    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        return sfemu_api_push_fail(L, -errno);
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY,
                                     0);
    /* The guest's fds (a listening socket ...) stay the guest's. */
    posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
    rc = posix_spawnp(&pid, prog, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        sfemu_log("c_init_rootfs: cannot run %s: %s", prog, strerror(rc));
        return sfemu_api_push_fail(L, -rc);
    }
    sfemu_watch_suspend(1);
    luaL_buffinit(L, &report);
    for (;;) {
        char *p = luaL_prepbuffer(&report);
        ssize_t n = read(pipefd[0], p, LUAL_BUFFERSIZE);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        luaL_addsize(&report, (size_t)n);
    }
    luaL_pushresult(&report);
    close(pipefd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    sfemu_watch_suspend(0);
    lua_pushinteger(L, WIFEXITED(status) ? WEXITSTATUS(status) : 128);
    lua_insert(L, -2); /* status, report */
    return 2;
}

static const luaL_Reg init_fns[] = {
    { "c_init_rootfs", c_init_rootfs },
    { NULL, NULL },
};

void sfemu_api_init_open(lua_State *L)
{
    sfemu_sandbox_register(L, init_fns);
}
