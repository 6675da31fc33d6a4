/* Host-side access to guest paths (see guestfs.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "trueroot/guestfs.h"
#include "core/options.h"
#include "core/runtime.h"
#include "trueroot/trueroot.h"

/* The rootfs as an O_PATH fd, or -1 when guest paths are host paths. */
static int root_fd(void)
{
    if (!sfemu_trueroot_active || !sfemu_rt.t || !sfemu_rt.t->ld_prefix) {
        return -1;
    }
    return open(sfemu_rt.t->ld_prefix, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static int mkdir_walk(int dirfd, const char *path, mode_t mode, int in_root)
{
    char buf[PATH_MAX], *p;
    size_t len = strlen(path);

    if (len >= sizeof(buf)) {
        return -ENAMETOOLONG;
    }
    memcpy(buf, path, len + 1);
    for (p = buf;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (p != buf && strcmp(buf, "/") != 0 && *buf) {
                struct open_how how = { .flags = O_PATH | O_DIRECTORY,
                                        .resolve = RESOLVE_IN_ROOT |
                                                   RESOLVE_NO_MAGICLINKS };
                const char *rel = buf[0] == '/' ? buf + 1 : buf;
                int fd = in_root ? (int)syscall(SYS_openat2, dirfd, rel, &how,
                                                sizeof(how))
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

int sfemu_guestfs_mkdir_p(const char *gpath, mode_t mode)
{
    int rfd = root_fd(), rc;

    if (rfd < 0) {
        return mkdir_walk(AT_FDCWD, gpath, mode, 0);
    }
    rc = mkdir_walk(rfd, gpath, mode, 1);
    close(rfd);
    return rc;
}

int sfemu_guestfs_rules_mkdir_p(const char *rel, mode_t mode)
{
    const char *root = sfemu_opt_str(SFEMU_OPT_rules);
    int rfd, rc;

    if (!root) {
        return -ENOENT;
    }
    if (strstr(rel, "..")) {
        return -EPERM;
    }
    rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rfd < 0) {
        return -errno;
    }
    rc = mkdir_walk(rfd, rel, mode, 1);
    close(rfd);
    return rc;
}

int sfemu_guestfs_open(const char *gpath, int flags, mode_t mode)
{
    struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
                            .mode = (flags & O_CREAT) ? mode : 0,
                            .resolve =
                                RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
    int rfd = root_fd(), fd;

    if (rfd < 0) {
        fd = open(gpath, flags | O_CLOEXEC, mode);
        return fd < 0 ? -errno : fd;
    }
    fd = (int)syscall(SYS_openat2, rfd, gpath[0] == '/' ? gpath + 1 : gpath,
                      &how, sizeof(how));
    if (fd < 0) {
        fd = -errno;
    }
    close(rfd);
    return fd;
}

int sfemu_guestfs_fd_path(int fd, char *out, size_t cap)
{
    char link[64], host[PATH_MAX];
    const char *root = sfemu_trueroot_active ? sfemu_rt.t->ld_prefix : NULL;
    char *rroot = root ? realpath(root, NULL) : NULL;
    ssize_t n;
    size_t rl;

    if (fd == AT_FDCWD) {
        snprintf(link, sizeof(link), "/proc/self/cwd");
    } else {
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    }
    n = readlink(link, host, sizeof(host) - 1);
    if (n < 0) {
        free(rroot);
        return -errno;
    }
    host[n] = '\0';
    if (!rroot) {
        snprintf(out, cap, "%s", host);
        return 0;
    }
    rl = strlen(rroot);
    if (strncmp(host, rroot, rl) || (host[rl] && host[rl] != '/')) {
        free(rroot);
        return -EXDEV; /* not inside the guest's root */
    }
    snprintf(out, cap, "%s", host[rl] ? host + rl : "/");
    free(rroot);
    return 0;
}
