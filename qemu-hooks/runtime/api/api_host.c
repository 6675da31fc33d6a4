/*
 * The only host-side file access rules get.
 *
 * c_mkdir_p(path[, mode=0755]) -> 0 or -errno
 *   A relative path is made inside the rules tree (cache/, log/ ...), never
 *   outside it.  An absolute path is a guest path: with the true root it is
 *   made inside the rootfs; otherwise where the guest's own mkdir would.
 *   With the true root it follows the root's symlinks inside the root, as a
 *   guest's create does (a dangling one gets its target directory made).
 * c_readlink(path) -> target string, or nil, -errno
 *   The target of the symlink at a guest path (the last name not followed).
 * c_realpath(path) -> guest path, or nil, -errno
 *   The guest path a guest path leads to, every symlink followed; with the
 *   true root both resolve inside the root, as the guest's own calls would.
 * c_open_host(path, flags[, mode]) -> fd or -errno
 *   Opens a whitelisted host file as a guest fd: /dev/null, /dev/zero,
 *   /dev/full, /dev/random, /dev/urandom, files listed in
 *   $SFEMU_OPEN_HOST_ALLOW (colon-separated; an entry ending in '/' allows a
 *   directory), files of the rules tree (read-only) and of its cache/ and
 *   log/ (read-write).  Only the access mode of flags is used; nothing is
 *   created.  Never the AI env file (config/env: secrets).
 * c_rules_file(relpath) -> content string, or nil, -errno
 *   A text file of the rules tree (a rule's own configuration, such as
 *   plugins/fakefile/paths.conf), read whole: relpath is relative to the
 *   -rules root, has no "..", and must resolve inside the tree; files over
 *   1 MiB give -EFBIG.  The AI env file (config/env: secrets) gives -EACCES.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "api/api.h"
#include "core/options.h"
#include "core/runtime.h"
#include "core/sandbox.h"
#include "path.h"
#include "trueroot/guestfs.h"

static int c_mkdir_p(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    mode_t mode = (mode_t)luaL_optinteger(L, 2, 0755);
    int rc;

    if (path[0] != '/') {
        rc = sfemu_guestfs_rules_mkdir_p(path, mode);
    } else {
        rc = sfemu_guestfs_mkdir_p(path, mode);
    }
    lua_pushinteger(L, rc ? sfemu_api_neg_errno(-rc) : 0);
    return 1;
}

/* A string result, or nil, -errno. */
static int push_path(lua_State *L, int rc, const char *out)
{
    if (rc < 0) {
        return sfemu_api_push_fail(L, rc);
    }
    lua_pushstring(L, out);
    return 1;
}

static int c_readlink(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char out[PATH_MAX];

    return push_path(L, sfemu_guestfs_readlink(path, out, sizeof(out)), out);
}

static int c_realpath(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char out[PATH_MAX];

    return push_path(L, sfemu_guestfs_realpath(path, out, sizeof(out)), out);
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
    static const char *const devs[] = { "/dev/null",    "/dev/zero",
                                        "/dev/full",    "/dev/random",
                                        "/dev/urandom", NULL };
    const char *env = sfemu_opt_str(SFEMU_OPT_open_host_allow);
    const char *root = sfemu_opt_str(SFEMU_OPT_rules);

    if (sfemu_path_is_secret(real)) {
        return 0; /* even when SFEMU_OPEN_HOST_ALLOW names it */
    }
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
        if (!strncmp(real + n, "/cache/", 7) ||
            !strncmp(real + n, "/log/", 5)) {
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

#define RULES_FILE_MAX (1 << 20)

static int c_rules_file(lua_State *L)
{
    const char *rel = luaL_checkstring(L, 1);
    const char *root = sfemu_opt_str(SFEMU_OPT_rules);
    char path[PATH_MAX], *real;
    luaL_Buffer b;
    struct stat st;
    int fd, inside, rc = 0;

    if (!root || !*root) {
        return sfemu_api_push_fail(L, -ENOENT);
    }
    if (rel[0] == '/' || path_has_dotdot(rel)) {
        return sfemu_api_push_fail(L, -EINVAL);
    }
    if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path)) {
        return sfemu_api_push_fail(L, -ENAMETOOLONG);
    }
    real = realpath(path, NULL);
    if (!real) {
        return sfemu_api_push_fail(L, -errno);
    }
    inside = sfemu_path_in_rules(real);
    fd = inside ? open(real, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0) {
        rc = inside ? -errno : -EACCES;
    } else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = -EINVAL;
    } else if (st.st_size > RULES_FILE_MAX) {
        rc = -EFBIG;
    }
    free(real);
    if (rc) {
        if (fd >= 0) {
            close(fd);
        }
        return sfemu_api_push_fail(L, rc);
    }
    luaL_buffinit(L, &b);
    for (;;) {
        char *p = luaL_prepbuffer(&b);
        ssize_t n = read(fd, p, LUAL_BUFFERSIZE);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        luaL_addsize(&b, (size_t)n);
    }
    close(fd);
    luaL_pushresult(&b);
    if (rc) {
        lua_pop(L, 1);
        return sfemu_api_push_fail(L, rc);
    }
    return 1;
}

static const luaL_Reg host_fns[] = {
    { "c_mkdir_p", c_mkdir_p },       { "c_readlink", c_readlink },
    { "c_realpath", c_realpath },     { "c_open_host", c_open_host },
    { "c_rules_file", c_rules_file }, { NULL, NULL },
};

void sfemu_api_host_open(lua_State *L)
{
    sfemu_sandbox_register(L, host_fns);
}
