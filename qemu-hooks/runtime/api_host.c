/*
 * The only host-side file access rules get.
 *
 * c_mkdir_p(path[, mode=0755]) -> 0 or -errno
 *   A relative path is made inside the rules tree (cache/, log/ ...), never
 *   outside it.  An absolute path is a guest path: with the true root it is
 *   made inside the rootfs; otherwise where the guest's own mkdir would.
 * c_open_host(path, flags[, mode]) -> fd or -errno
 *   Opens a whitelisted host file as a guest fd: /dev/null, /dev/zero,
 *   /dev/full, /dev/random, /dev/urandom, files listed in
 *   $SFEMU_OPEN_HOST_ALLOW (colon-separated; an entry ending in '/' allows a
 *   directory), files of the rules tree (read-only) and of its cache/ and
 *   log/ (read-write).  Only the access mode of flags is used; nothing is
 *   created.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <lauxlib.h>

#include "api.h"
#include "runtime.h"
#include "sandbox.h"
#include "trueroot.h"

static int mkdir_walk(int dirfd, const char *path, mode_t mode, int in_root)
{
    char buf[PATH_MAX], *p;
    size_t len = strlen(path);

    if (len >= sizeof(buf)) {
        return -ENAMETOOLONG;
    }
    memcpy(buf, path, len + 1);
    for (p = buf; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (p != buf && strcmp(buf, "/") != 0 && *buf) {
                struct open_how how = { .flags = O_PATH | O_DIRECTORY,
                                        .resolve = RESOLVE_IN_ROOT };
                const char *rel = buf[0] == '/' ? buf + 1 : buf;
                int fd = in_root
                    ? (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how))
                    : openat(dirfd, buf, O_PATH | O_DIRECTORY);
                if (fd >= 0) {
                    close(fd);
                } else if (errno == ENOENT) {
                    /* the parent is resolved again inside the root */
                    char *slash = strrchr(buf, '/');
                    int pfd = dirfd;
                    const char *name = buf;
                    if (slash && in_root) {
                        *slash = '\0';
                        how.flags = O_PATH | O_DIRECTORY;
                        pfd = *buf ? (int)syscall(SYS_openat2, dirfd,
                                                  buf[0] == '/' ? buf + 1 : buf,
                                                  &how, sizeof(how))
                                   : dup(dirfd);
                        *slash = '/';
                        name = slash + 1;
                        if (pfd < 0) {
                            return -errno;
                        }
                    }
                    if (mkdirat(pfd, name, mode) != 0 && errno != EEXIST) {
                        int e = errno;
                        if (pfd != dirfd) {
                            close(pfd);
                        }
                        return -e;
                    }
                    if (pfd != dirfd) {
                        close(pfd);
                    }
                } else {
                    return -errno;
                }
            }
            *p = saved;
            if (!saved) {
                break;
            }
        }
    }
    return 0;
}

static int c_mkdir_p(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    mode_t mode = (mode_t)luaL_optinteger(L, 2, 0755);
    int rc;

    if (path[0] != '/') {
        /* inside the rules tree: no "..", resolved beneath the rules dir */
        const char *root = sfemu_rt.opt.rules_dir;
        int rfd;
        if (!root) {
            rc = -ENOENT;
        } else if ((rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
            rc = -errno;
        } else {
            rc = strstr(path, "..") ? -EPERM : mkdir_walk(rfd, path, mode, 1);
            close(rfd);
        }
    } else if (sfemu_trueroot_active && sfemu_rt.t->ld_prefix) {
        int rfd = open(sfemu_rt.t->ld_prefix, O_PATH | O_DIRECTORY | O_CLOEXEC);
        rc = rfd < 0 ? -errno : mkdir_walk(rfd, path, mode, 1);
        if (rfd >= 0) {
            close(rfd);
        }
    } else {
        rc = mkdir_walk(AT_FDCWD, path, mode, 0);
    }
    lua_pushinteger(L, rc ? sfemu_api_neg_errno(-rc) : 0);
    return 1;
}

static int allowed_prefix(const char *real, const char *entry)
{
    size_t n = strlen(entry);

    if (n && entry[n - 1] == '/') {
        return !strncmp(real, entry, n);
    }
    return !strcmp(real, entry);
}

/* 2: read-write, 1: read-only, 0: not allowed */
static int host_access(const char *real)
{
    static const char *const devs[] = { "/dev/null", "/dev/zero", "/dev/full",
                                        "/dev/random", "/dev/urandom", NULL };
    const char *env = getenv("SFEMU_OPEN_HOST_ALLOW");
    const char *root = sfemu_rt.opt.rules_dir;

    for (int i = 0; devs[i]; i++) {
        if (!strcmp(real, devs[i])) {
            return 2;
        }
    }
    if (env && *env) {
        char *copy = strdup(env), *save = NULL;
        int ok = 0;
        for (char *e = strtok_r(copy, ":", &save); e && !ok;
             e = strtok_r(NULL, ":", &save)) {
            ok = allowed_prefix(real, e);
        }
        free(copy);
        if (ok) {
            return 2;
        }
    }
    if (root && sfemu_path_in_rules(real)) {
        size_t n = strlen(root);
        if (!strncmp(real + n, "/cache/", 7) || !strncmp(real + n, "/log/", 5)) {
            return 2;
        }
        return 1;
    }
    return 0;
}

static int c_open_host(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int acc = (int)luaL_checkinteger(L, 2) & O_ACCMODE;
    char *real = realpath(path, NULL);
    int allow, fd;

    if (!real) {
        lua_pushinteger(L, sfemu_api_neg_errno(errno));
        return 1;
    }
    allow = host_access(real);
    if (!allow || (allow == 1 && acc != O_RDONLY)) {
        free(real);
        lua_pushinteger(L, sfemu_api_neg_errno(EACCES));
        return 1;
    }
    fd = open(real, acc | O_NOFOLLOW);
    free(real);
    lua_pushinteger(L, fd >= 0 ? fd : sfemu_api_neg_errno(errno));
    return 1;
}

static const luaL_Reg host_fns[] = {
    { "c_mkdir_p", c_mkdir_p },
    { "c_open_host", c_open_host },
    { NULL, NULL },
};

void sfemu_api_host_open(lua_State *L)
{
    sfemu_sandbox_register(L, host_fns);
}
