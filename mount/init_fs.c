/*
 * File operations of --init inside the mounted root (see init_fs.h).  A
 * name is made or changed with *at() calls on the fd of its parent, which
 * openat2 resolved with RESOLVE_IN_ROOT: no host path is ever built.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "dirfd.h"
#include "init_fs.h"

#define IFS_RESOLVE (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
#define IFS_MAX_HOPS 40

int ifs_open(int root, const char *path, int flags, mode_t mode)
{
    return dirfd_open(root, path, flags, mode, IFS_RESOLVE);
}

void ifs_join(const char *cwd, const char *path, char *out, size_t cap)
{
    char buf[PATH_MAX * 2];
    size_t n = 0;

    snprintf(buf, sizeof buf, "%s/%s", path[0] == '/' ? "" : cwd, path);
    out[0] = 0;
    for (char *p = buf; *p;) {
        p += strspn(p, "/");
        size_t len = strcspn(p, "/");
        if (!len) {
            break;
        }
        if (len == 1 && p[0] == '.') {
            /* nothing */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (n > 0 && out[n - 1] != '/') {
                n--;
            }
            if (n > 0) {
                n--;
            }
            out[n] = 0;
        } else if (n + len + 2 < cap) {
            out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
            out[n] = 0;
        }
        p += len;
    }
    if (!n) {
        snprintf(out, cap, "/");
    }
}

/* The parent directory of path (opened in the root) and the last name;
 * -EINVAL for the root itself. */
static int parent_of(int root, const char *path, char name[NAME_MAX + 1],
                     int make)
{
    char dir[PATH_MAX];

    ifs_join("/", path, dir, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (!slash[1]) {
        return -EINVAL;
    }
    if (strlen(slash + 1) > NAME_MAX) {
        return -ENAMETOOLONG;
    }
    snprintf(name, NAME_MAX + 1, "%s", slash + 1);
    slash[slash == dir ? 1 : 0] = 0;
    if (make) {
        int rc = ifs_mkdir_p(root, dir, 0755);
        if (rc < 0) {
            return rc;
        }
    }
    return ifs_open(root, dir, O_PATH | O_DIRECTORY, 0);
}

int ifs_lstat(int root, const char *path, struct stat *st)
{
    char name[NAME_MAX + 1];
    int pfd = parent_of(root, path, name, 0);

    if (pfd == -EINVAL) {
        return fstat(root, st) < 0 ? -errno : 0;
    }
    if (pfd < 0) {
        return pfd;
    }
    int rc = fstatat(pfd, name, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
    close(pfd);
    return rc;
}

int ifs_mkdir_p(int root, const char *path, mode_t mode)
{
    char g[PATH_MAX];
    const struct dirfd_mkdir how = { .resolve = IFS_RESOLVE,
                                     .mode = mode,
                                     .follow_dangling = 1 };

    ifs_join("/", path, g, sizeof g);
    return dirfd_mkdir_p(root, g, &how);
}

/* Opens path for writing; a missing parent (or a dangling last link's
 * target's parent) is made first. */
static int open_create(int root, const char *path, int flags, mode_t mode)
{
    int fd = ifs_open(root, path, flags | O_CREAT, mode);
    char name[NAME_MAX + 1], target[PATH_MAX], dir[PATH_MAX];

    for (int hops = 0; fd == -ENOENT && hops < IFS_MAX_HOPS; hops++) {
        int pfd = parent_of(root, path, name, 1);
        if (pfd < 0) {
            return pfd;
        }
        ssize_t len = readlinkat(pfd, name, target, sizeof target - 1);
        close(pfd);
        if (len >= 0) { /* dangling last link: make its target's parents */
            target[len] = 0;
            ifs_join("/", path, dir, sizeof dir);
            *strrchr(dir, '/') = 0;
            ifs_join(dir[0] ? dir : "/", target, dir, sizeof dir);
            int rc = parent_of(root, dir, name, 1);
            if (rc < 0) {
                return rc;
            }
            close(rc);
        }
        fd = ifs_open(root, path, flags | O_CREAT, mode);
    }
    return fd;
}

int ifs_write(int root, const char *path, const char *data, size_t len,
              int append)
{
    int fd =
        open_create(root, path, O_WRONLY | (append ? O_APPEND : O_TRUNC), 0644);
    if (fd < 0) {
        return fd;
    }
    int rc = 0;
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w <= 0) {
            rc = w < 0 ? -errno : -EIO;
            break;
        }
        data += w;
        len -= (size_t)w;
    }
    close(fd);
    return rc;
}

int ifs_touch(int root, const char *path)
{
    int fd = open_create(root, path, O_WRONLY, 0644);
    if (fd < 0) {
        return fd;
    }
    int rc = futimens(fd, NULL) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int ifs_symlink(int root, const char *target, const char *path, int force)
{
    char name[NAME_MAX + 1];
    int pfd = parent_of(root, path, name, 1);

    if (pfd < 0) {
        return pfd;
    }
    int rc = symlinkat(target, pfd, name) < 0 ? -errno : 0;
    if (rc == -EEXIST && force) {
        rc = unlinkat(pfd, name, 0) < 0 ? -errno : 0;
        if (rc == 0) {
            rc = symlinkat(target, pfd, name) < 0 ? -errno : 0;
        }
    }
    close(pfd);
    return rc;
}

int ifs_chmod(int root, const char *path, mode_t mode)
{
    int fd = ifs_open(root, path, O_PATH, 0);
    if (fd < 0) {
        return fd;
    }
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    int rc = chmod(proc, mode) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* The firmware's own target of the symlink name in pfd: the mount shows a
 * contained (rewritten) target, and keeps the original as an xattr. */
static int link_target(int pfd, const char *name, char *buf, size_t cap)
{
    int fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        ssize_t n = getxattr(proc, "security.sfemu.symlink", buf, cap - 1);
        close(fd);
        if (n >= 0) {
            buf[n] = 0;
            return 0;
        }
    }
    ssize_t n = readlinkat(pfd, name, buf, cap - 1);
    if (n < 0) {
        return -errno;
    }
    buf[n] = 0;
    return 0;
}

static void keep_meta(int fd, const struct stat *st, int preserve)
{
    if (preserve) {
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        if (fchown(fd, st->st_uid, st->st_gid) < 0) {
            /* the owner is best effort, as cp -a as a user */
        }
        futimens(fd, ts);
    }
    fchmod(fd, st->st_mode & 07777);
}

static int copy_file(int sfd, int dpfd, const char *name, const struct stat *st,
                     int preserve)
{
    int dfd =
        openat(dpfd, name,
               O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (dfd < 0) {
        return -errno;
    }
    char buf[65536];
    ssize_t r;
    int rc = 0;
    while ((r = read(sfd, buf, sizeof buf)) > 0) {
        if (write(dfd, buf, (size_t)r) != r) {
            rc = -EIO;
            break;
        }
    }
    if (r < 0) {
        rc = -errno;
    }
    keep_meta(dfd, st, preserve);
    close(dfd);
    return rc;
}

/* Copies name in spfd to name dname in dpfd (both resolved dirs). */
static int copy_at(int spfd, const char *sname, int dpfd, const char *dname,
                   struct ifs_copy *c, int depth)
{
    struct stat st, dst;
    int follow = !c->preserve || depth == 0;

    if (depth > 64) {
        return -ELOOP;
    }
    if (fstatat(spfd, sname, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0) {
        return -errno;
    }
    int exists = fstatat(dpfd, dname, &dst, AT_SYMLINK_NOFOLLOW) == 0;
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        int rc = link_target(spfd, sname, target, sizeof target);
        if (rc < 0) {
            return rc;
        }
        if (exists && c->no_clobber) {
            c->kept++;
            return 0;
        }
        if (exists && !S_ISDIR(dst.st_mode)) {
            unlinkat(dpfd, dname, 0);
        }
        c->copied++;
        return symlinkat(target, dpfd, dname) < 0 ? -errno : 0;
    }
    if (S_ISDIR(st.st_mode)) {
        if (!c->recursive) {
            return -EISDIR;
        }
        if (!exists) {
            if (mkdirat(dpfd, dname, 0700) < 0) {
                return -errno;
            }
            c->copied++;
        } else if (!S_ISDIR(dst.st_mode)) {
            return -ENOTDIR;
        }
        int sfd = openat(spfd, sname,
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC |
                             (follow ? 0 : O_NOFOLLOW));
        int dfd = openat(dpfd, dname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0 || dfd < 0) {
            int rc = -errno;
            if (sfd >= 0) {
                close(sfd);
            }
            if (dfd >= 0) {
                close(dfd);
            }
            return rc;
        }
        DIR *d = fdopendir(dup(sfd));
        struct dirent *e;
        int rc = 0;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
                continue;
            }
            int r = copy_at(sfd, e->d_name, dfd, e->d_name, c, depth + 1);
            if (r < 0 && !rc) {
                rc = r;
            }
        }
        if (d) {
            closedir(d);
        }
        if (!exists) {
            keep_meta(dfd, &st, c->preserve);
        }
        close(sfd);
        close(dfd);
        return rc;
    }
    if (exists && c->no_clobber) {
        c->kept++;
        return 0;
    }
    if (exists && S_ISDIR(dst.st_mode)) {
        return -EISDIR;
    }
    if (!S_ISREG(st.st_mode)) {
        return -EOPNOTSUPP; /* device nodes, FIFOs: not boot-time copies */
    }
    int sfd = openat(spfd, sname, O_RDONLY | O_CLOEXEC);
    if (sfd < 0) {
        return -errno;
    }
    if (exists && S_ISLNK(dst.st_mode)) {
        unlinkat(dpfd, dname, 0); /* cp replaces a link, not its target */
    }
    int rc = copy_file(sfd, dpfd, dname, &st, c->preserve);
    close(sfd);
    c->copied++;
    return rc;
}

int ifs_copy(int root, const char *src, const char *dst, struct ifs_copy *c)
{
    char sname[NAME_MAX + 1], dname[NAME_MAX + 1];
    char s[PATH_MAX], d[PATH_MAX];

    ifs_join("/", src, s, sizeof s);
    ifs_join("/", dst, d, sizeof d);
    size_t sl = strlen(s);
    if (!strcmp(s, d) || (!strncmp(d, s, sl) && (d[sl] == '/' || sl == 1))) {
        return -EINVAL; /* into itself */
    }
    int spfd = parent_of(root, s, sname, 0);
    if (spfd == -EINVAL) {
        spfd = ifs_open(root, "/", O_PATH | O_DIRECTORY, 0);
        snprintf(sname, sizeof sname, ".");
    }
    if (spfd < 0) {
        return spfd;
    }
    int dpfd = parent_of(root, d, dname, 1);
    if (dpfd < 0) {
        close(spfd);
        return dpfd;
    }
    int rc = copy_at(spfd, sname, dpfd, dname, c, 0);
    close(spfd);
    close(dpfd);
    return rc;
}
