/* Files and directories below a directory fd (see dirfd.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dirfd.h"

int dirfd_open(int dirfd, const char *path, int flags, mode_t mode,
               uint64_t resolve)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        /* openat2 refuses a mode it would not use */
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        .resolve = resolve,
    };
    int fd;

    if (!resolve) {
        fd = openat(dirfd, path, flags | O_CLOEXEC, mode);
        return fd < 0 ? -errno : fd;
    }
    /* EAGAIN: a rename or mount somewhere on the system while a ".." was
     * resolved (RESOLVE_IN_ROOT, RESOLVE_BENEATH) made the kernel distrust
     * it: the walk is simply tried again. */
    for (int i = 0; i < 64; i++) {
        fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        if (fd >= 0 || errno != EAGAIN) {
            break;
        }
    }
    return fd < 0 ? -errno : fd;
}

static int open_dir(int dirfd, const char *path, uint64_t resolve)
{
    return dirfd_open(dirfd, path, O_PATH | O_DIRECTORY, 0, resolve);
}

int dirfd_mkdir_p_open(int dirfd, const char *path,
                       const struct dirfd_mkdir *how)
{
    char buf[PATH_MAX], *p = buf;
    size_t len = strlen(path);
    int fd, pfd;

    if (len >= sizeof(buf)) {
        return -ENAMETOOLONG;
    }
    memcpy(buf, path, len + 1);
    /* Most calls find the whole chain already there. */
    fd = open_dir(dirfd, *buf ? buf : ".", how->resolve);
    if (fd != -ENOENT) {
        return fd;
    }
    pfd = open_dir(dirfd, *buf == '/' ? "/" : ".", how->resolve);
    while (pfd >= 0) {
        const char *name;
        char end;

        p += strspn(p, "/");
        if (!*p) {
            break;
        }
        name = p;
        p += strcspn(p, "/");
        end = *p;
        *p = '\0'; /* buf is the path up to this directory */
        fd = open_dir(dirfd, buf, how->resolve);
        if (fd == -ENOENT) {
            mode_t mode = how->mode_of ? how->mode_of(how->ud, buf) : how->mode;
            fd = mkdirat(pfd, name, mode) != 0 && errno != EEXIST
                     ? -errno
                     : open_dir(dirfd, buf, how->resolve);
        }
        *p = end;
        close(pfd);
        pfd = fd;
    }
    return pfd;
}

int dirfd_mkdir_p(int dirfd, const char *path, const struct dirfd_mkdir *how)
{
    int fd = dirfd_mkdir_p_open(dirfd, path, how);

    if (fd < 0) {
        return fd;
    }
    close(fd);
    return 0;
}

/*
 * One walk of dirfd_mkdir_p_in_root: 0 when g is a directory, 1 with next
 * set to the path to walk instead (a dangling symlink was met), or -errno.
 */
static int walk_in_root(const char *g, char next[PATH_MAX], mode_t mode,
                        const struct dirfd_walk *w)
{
    char cur[PATH_MAX], target[PATH_MAX], name[NAME_MAX + 1];
    const char *p = g;
    int fd = w->open(w->ud, g, O_PATH | O_DIRECTORY);

    if (fd != -ENOENT) {
        if (fd >= 0) {
            close(fd);
        }
        return fd < 0 ? fd : 0;
    }
    cur[0] = 0; /* "" is the root */
    for (;;) {
        size_t n;
        ssize_t len;
        int pfd, rc;

        p += strspn(p, "/");
        if (!*p) {
            return 0;
        }
        n = strcspn(p, "/");
        if (n >= sizeof(name) ||
            snprintf(next, PATH_MAX, "%s/%.*s", cur, (int)n, p) >= PATH_MAX) {
            return -ENAMETOOLONG;
        }
        memcpy(name, p, n);
        name[n] = 0;
        p += n;
        fd = w->open(w->ud, next, O_PATH | O_DIRECTORY);
        if (fd >= 0) {
            close(fd);
            memcpy(cur, next, strlen(next) + 1);
            continue;
        }
        if (fd != -ENOENT) {
            return fd;
        }
        /* cur exists: the name is missing, or a dangling symlink */
        pfd = w->open(w->ud, cur[0] ? cur : "/", O_PATH | O_DIRECTORY);
        if (pfd < 0) {
            return pfd;
        }
        len = readlinkat(pfd, name, target, sizeof(target) - 1);
        if (len >= 0) {
            close(pfd);
            target[len] = 0;
            /* the rest of the path goes on from the link's target */
            if (snprintf(next, PATH_MAX, "%s%s%s%s",
                         target[0] == '/' ? "" : cur,
                         target[0] == '/' ? "" : "/", target, p) >= PATH_MAX) {
                return -ENAMETOOLONG;
            }
            return 1;
        }
        rc = mkdirat(pfd, name, mode) == 0 ? 0 : -errno;
        if (rc == 0 && w->made) {
            w->made(w->ud, pfd, name);
        }
        close(pfd);
        if (rc && rc != -EEXIST) {
            return rc;
        }
        memcpy(cur, next, strlen(next) + 1);
    }
}

int dirfd_mkdir_p_in_root(const char *path, mode_t mode,
                          const struct dirfd_walk *w)
{
    char g[PATH_MAX], next[PATH_MAX];
    int hops = 0, rc;

    if (snprintf(g, sizeof(g), "%s", path) >= (int)sizeof(g)) {
        return -ENAMETOOLONG;
    }
    while ((rc = walk_in_root(g, next, mode, w)) == 1) {
        if (++hops > 40) {
            return -ELOOP;
        }
        memcpy(g, next, strlen(next) + 1);
    }
    return rc;
}
