/* Host-side access to guest paths (see guestfs.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirfd.h"
#include "path.h"
#include "trueroot/guestfs.h"
#include "core/options.h"
#include "core/runtime.h"
#include "trueroot/tr.h"
#include "trueroot/trueroot.h"

/* The guest's root as an O_PATH fd of our own, or -1 when guest paths are
 * host paths.  The true root's fd, not -L's text: a relative -L names
 * nothing once the guest has changed directory, and a guest chroot moves
 * the root. */
static int root_fd(void)
{
    int fd;

    if (!sfemu_trueroot_active || (fd = tr_root_dirfd_again()) < 0) {
        return -1;
    }
    return fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

char *sfemu_guestfs_root_path(void)
{
    char link[64];
    char *path;
    int fd = root_fd();

    if (fd < 0) {
        const char *prefix = sfemu_rt.t ? sfemu_rt.t->ld_prefix : NULL;
        char *path = prefix ? realpath(prefix, NULL) : NULL;
        struct stat st;

        /* Without -L (QEMU's built-in prefix is usually missing) guest
         * paths are this process's: under chroot(8) the guest root is "/". */
        if (path && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            return path;
        }
        free(path);
        return realpath("/", NULL);
    }
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    path = realpath(link, NULL);
    close(fd);
    return path;
}

/* mkdir -p below dirfd: inside a root (RESOLVE_IN_ROOT: the guest's view of
 * symlinks and "..") or, without one, as a host path. */
static int mkdir_walk(int dirfd, const char *path, mode_t mode, int in_root)
{
    const struct dirfd_mkdir how = {
        .resolve = in_root ? RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS : 0,
        .mode = mode
    };

    return dirfd_mkdir_p(dirfd, path, &how);
}

int sfemu_guestfs_mkdir_p(const char *gpath, mode_t mode)
{
    if (!sfemu_trueroot_active) {
        return mkdir_walk(AT_FDCWD, gpath, mode, 0);
    }
    /* the guest's creates use the same walk (symlinks followed in the root) */
    return sfemu_trueroot_mkdir_p(gpath, mode);
}

int sfemu_guestfs_readlink(const char *gpath, char *out, size_t cap)
{
    char buf[PATH_MAX], *slash;
    const char *name;
    int pfd;
    ssize_t n;

    if (snprintf(buf, sizeof(buf), "%s", gpath) >= (int)sizeof(buf)) {
        return -ENAMETOOLONG;
    }
    slash = strrchr(buf, '/');
    name = slash ? slash + 1 : buf;
    if (!*name) {
        return -EINVAL; /* "dir/": never a link itself */
    }
    if (slash) {
        *slash = '\0';
    }
    /* the parent followed, the last name not: readlink(2) inside the root */
    pfd = sfemu_guestfs_open(slash ? (buf[0] ? buf : "/") : ".",
                             O_PATH | O_DIRECTORY, 0);
    if (pfd < 0) {
        return pfd;
    }
    n = readlinkat(pfd, name, out, cap - 1);
    n = n < 0 ? -errno : n;
    close(pfd);
    if (n >= 0) {
        out[n] = '\0';
    }
    return n < 0 ? (int)n : 0;
}

int sfemu_guestfs_realpath(const char *gpath, char *out, size_t cap)
{
    int fd = sfemu_guestfs_open(gpath, O_PATH, 0), rc;

    if (fd < 0) {
        return fd;
    }
    rc = sfemu_guestfs_fd_path(fd, out, cap);
    close(fd);
    return rc;
}

int sfemu_guestfs_rules_mkdir_p(const char *rel, mode_t mode)
{
    const char *root = sfemu_opt_str(SFEMU_OPT_rules);
    int rfd, rc;

    if (!root) {
        return -ENOENT;
    }
    if (path_has_dotdot(rel)) {
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
    int rfd = root_fd(), fd;

    if (rfd < 0) {
        return dirfd_open(AT_FDCWD, gpath, flags, mode, 0);
    }
    fd = dirfd_open(rfd, gpath, flags, mode,
                    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    close(rfd);
    return fd;
}

/* host's guest name: as it is without the true root; 0, or -EXDEV when it
 * is not inside the root (the root's realpath is the true root's own). */
static int guest_of_host(const char *host, char *out, size_t cap)
{
    char g[PATH_MAX];

    if (!sfemu_trueroot_active) {
        snprintf(out, cap, "%s", host);
        return 0;
    }
    if (sfemu_trueroot_guest_path(host, g) < 0) {
        return -EXDEV;
    }
    snprintf(out, cap, "%s", g);
    return 0;
}

int sfemu_guestfs_fd_path(int fd, char *out, size_t cap)
{
    char link[64], host[PATH_MAX];
    ssize_t n;

    if (fd == AT_FDCWD) {
        snprintf(link, sizeof(link), "/proc/self/cwd");
    } else {
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    }
    n = readlink(link, host, sizeof(host) - 1);
    if (n < 0) {
        return -errno;
    }
    host[n] = '\0';
    return guest_of_host(host, out, cap);
}

int sfemu_guestfs_guest_name(const char *host, char *out, size_t cap)
{
    static const char deleted[] = " (deleted)";
    char buf[PATH_MAX];
    size_t n;
    ssize_t len;

    snprintf(buf, sizeof(buf), "%s", host ? host : "");
    if (!strncmp(buf, "/proc/self/fd/", 14)) {
        /* qemu runs a guest-exec'd program from an fd: name its file */
        len = readlink(host, buf, sizeof(buf) - 1);
        if (len < 0) {
            snprintf(buf, sizeof(buf), "%s", host);
        } else {
            buf[len] = '\0';
        }
    }
    n = strlen(buf);
    if (n > sizeof(deleted) - 1 &&
        !strcmp(buf + n - (sizeof(deleted) - 1), deleted)) {
        buf[n - (sizeof(deleted) - 1)] = '\0'; /* replaced since mapped */
    }
    if (guest_of_host(buf, out, cap) < 0) {
        snprintf(out, cap, "%s", buf); /* outside the root: as it is */
    }
    return 0;
}
