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

#define DIRFD_MAX_HOPS 40

/*
 * One walk of dirfd_mkdir_p_open over path (in buf, changed): the fd of
 * the last directory, -errno, or INT_MIN with next set to the path to walk
 * instead (a dangling symlink was met and how->follow_dangling is set).
 */
static int mkdir_walk(int dirfd, char *buf, const struct dirfd_mkdir *how,
                      char next[PATH_MAX])
{
    char *p = buf;
    int fd, pfd;

    /* Most calls find the whole chain already there. */
    fd = open_dir(dirfd, *buf ? buf : ".", how->resolve);
    if (fd != -ENOENT) {
        return fd;
    }
    pfd = open_dir(dirfd, *buf == '/' ? "/" : ".", how->resolve);
    while (pfd >= 0) {
        const char *name;
        char end, target[PATH_MAX];
        ssize_t n;
        mode_t mode;

        p += strspn(p, "/");
        if (!*p) {
            break;
        }
        name = p;
        p += strcspn(p, "/");
        end = *p;
        *p = '\0'; /* buf is the path up to this directory */
        fd = open_dir(dirfd, buf, how->resolve);
        if (fd != -ENOENT) {
            goto next_name;
        }
        mode = how->mode_of ? how->mode_of(how->ud, buf) : how->mode;
        if (mkdirat(pfd, name, mode) == 0) {
            if (how->made) {
                how->made(how->ud, pfd, name);
            }
        } else if (errno != EEXIST) {
            fd = -errno;
            goto next_name;
        }
        fd = open_dir(dirfd, buf, how->resolve);
        if (fd == -ENOENT && how->follow_dangling &&
            (n = readlinkat(pfd, name, target, sizeof(target) - 1)) >= 0) {
            /* the rest goes on from the link's target: relative to the
             * directory holding the link, or from "/" as resolve sees it */
            size_t dir_len = (size_t)(name - buf);

            target[n] = '\0';
            *p = end;
            close(pfd);
            if (snprintf(next, PATH_MAX, "%.*s%s%s",
                         target[0] == '/' ? 0 : (int)dir_len, buf, target,
                         p) >= PATH_MAX) {
                return -ENAMETOOLONG;
            }
            return INT_MIN;
        }
    next_name:
        *p = end;
        close(pfd);
        pfd = fd;
    }
    return pfd;
}

int dirfd_mkdir_p_open(int dirfd, const char *path,
                       const struct dirfd_mkdir *how)
{
    char buf[PATH_MAX], next[PATH_MAX];
    size_t len = strlen(path);
    int fd, hops = 0;

    if (len >= sizeof(buf)) {
        return -ENAMETOOLONG;
    }
    memcpy(buf, path, len + 1);
    while ((fd = mkdir_walk(dirfd, buf, how, next)) == INT_MIN) {
        if (++hops > DIRFD_MAX_HOPS) {
            return -ELOOP;
        }
        memcpy(buf, next, strlen(next) + 1);
    }
    return fd;
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
