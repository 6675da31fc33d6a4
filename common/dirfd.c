/* Files and directories below a directory fd (see dirfd.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
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
    int fd = resolve ? (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how))
                     : openat(dirfd, path, flags | O_CLOEXEC, mode);

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
