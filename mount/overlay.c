/* The overlay: lookup, copy-up, namespace operations, whiteouts, merged
 * listings (overlay.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>
#include "dirfd.h"
#include "overlay.h"
#include "path.h"
#include "str_hash.h"

#define LK_FDS 1   /* open O_PATH fds of what is found */
#define LK_LOWER 2 /* find out lower_visible even under an upper file */

int ovl_is_hidden_name(const char *name)
{
    return strncmp(name, WH_PREFIX, WH_PREFIX_LEN) == 0;
}

/* ------------------------------------------------------------ whiteouts */

static uint64_t hash64(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

/* The whiteout of name: ".wh.<name>", or ".wh.#<hash>" when that would be
 * longer than NAME_MAX (names of 252-255 bytes keep working). */
static void wh_name(const char *name, char out[NAME_MAX + 1])
{
    if (strlen(name) + WH_PREFIX_LEN <= NAME_MAX) {
        snprintf(out, NAME_MAX + 1, WH_PREFIX "%s", name);
    } else {
        snprintf(out, NAME_MAX + 1, WH_PREFIX "#%016llx",
                 (unsigned long long)hash64(name));
    }
}

static int has_wh(int dirfd, const char *name)
{
    char wh[NAME_MAX + 1];
    struct stat st;
    wh_name(name, wh);
    return fstatat(dirfd, wh, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int make_wh(int dirfd, const char *name)
{
    char wh[NAME_MAX + 1];
    wh_name(name, wh);
    int fd =
        openat(dirfd, wh, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return -errno;
    }
    close(fd);
    return 0;
}

static int clear_wh(int dirfd, const char *name)
{
    char wh[NAME_MAX + 1];
    wh_name(name, wh);
    return unlinkat(dirfd, wh, 0) < 0 && errno != ENOENT ? -errno : 0;
}

static int is_opaque(int dirfd)
{
    struct stat st;
    return fstatat(dirfd, WH_OPAQUE, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int make_opaque(int dirfd)
{
    int fd = openat(dirfd, WH_OPAQUE,
                    O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return -errno;
    }
    close(fd);
    return 0;
}

/* ------------------------------------------------------------ helpers */

int ovl_reopen(int opath_fd, int flags)
{
    char p[40];
    snprintf(p, sizeof p, "/proc/self/fd/%d", opath_fd);
    /* the magic link names exactly that object (no O_NOFOLLOW: it is one) */
    int fd = open(p, (flags & OVL_OPEN_FLAGS & ~O_NOFOLLOW) | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* An upper directory that appeared by path (the fake store writes records
 * with their parents) is adopted by its inode when the tree changed. */
static int dir_ufd(struct ovl *o, struct inode *dir)
{
    int fd = __atomic_load_n(&dir->ufd, __ATOMIC_ACQUIRE);
    unsigned g = ovl_upper_gen(o);
    if (fd >= 0 || dir->upper_gen == g) {
        return fd;
    }
    struct inode *p;
    char *name;
    if (ino_first_link(dir, &p, &name) == 0) {
        int pfd = dir_ufd(o, p);
        int nfd = pfd < 0
                      ? -1
                      : openat(pfd, name,
                               O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (nfd >= 0 && fstat(nfd, &st) == 0 && ino_set_ufd(dir, nfd)) {
            ino_rekey(dir, st.st_dev, st.st_ino);
        } else if (nfd >= 0) {
            close(nfd);
        }
        ino_unref(p);
        free(name);
    }
    dir->upper_gen = g;
    return __atomic_load_n(&dir->ufd, __ATOMIC_ACQUIRE);
}

/* A directory's O_PATH descriptor. */
static int open_dir(int dirfd, const char *name)
{
    return openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int lookup(struct ovl *o, struct inode *dir, const char *name,
                  struct ovl_ent *e, int how)
{
    memset(e, 0, sizeof *e);
    e->ufd = e->lfd = -1;
    if (ovl_is_hidden_name(name)) {
        return -ENOENT;
    }
    if (strlen(name) > NAME_MAX) {
        return -ENAMETOOLONG;
    }
    int ufd = dir_ufd(o, dir), lfd = dir->lfd;
    int lower_ok = lfd >= 0, found = 0;
    if (ufd >= 0) {
        if (fstatat(ufd, name, &e->st, AT_SYMLINK_NOFOLLOW) == 0) {
            found = 1;
            e->layer = OVL_UPPER;
            if (S_ISDIR(e->st.st_mode)) {
                int fd = open_dir(ufd, name);
                e->opaque = fd >= 0 && is_opaque(fd);
                if (fd >= 0 && (how & LK_FDS)) {
                    e->ufd = fd;
                } else if (fd >= 0) {
                    close(fd);
                }
            } else if (!(how & LK_LOWER)) {
                lower_ok = 0; /* nothing to merge */
            }
        } else if (errno != ENOENT) {
            return -errno;
        }
        if (lower_ok && has_wh(ufd, name)) {
            lower_ok = 0;
        }
    }
    struct stat lst;
    if (lower_ok && fstatat(lfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0) {
        e->lower_visible = 1;
        if (!found) {
            found = 1;
            e->layer = OVL_LOWER;
            e->st = lst;
        }
        /* a lower directory merged into this one (or it alone) */
        if ((how & LK_FDS) && S_ISDIR(lst.st_mode) && S_ISDIR(e->st.st_mode) &&
            !e->opaque) {
            e->lfd = open_dir(lfd, name);
        }
    }
    return found ? 0 : -ENOENT;
}

/* Where a non-directory inode's object is: its name below its parent's
 * upper or lower directory, or its own descriptor once it has no name
 * (then name is ""). */
struct where {
    int fd;
    const char *name;
    struct inode *parent; /* referenced */
    char *buf;
};

static int locate(struct inode *i, struct where *w)
{
    memset(w, 0, sizeof *w);
    int up = ino_upper(i);
    int own = __atomic_load_n(up ? &i->ufd : &i->lfd, __ATOMIC_ACQUIRE);
    if (own >= 0 || S_ISDIR(i->type)) {
        w->fd = own;
        w->name = "";
        return own >= 0 ? 0 : -ESTALE;
    }
    int r = ino_first_link(i, &w->parent, &w->buf);
    if (r < 0) {
        return r == -ENOENT ? -ESTALE : r;
    }
    w->name = w->buf;
    w->fd = __atomic_load_n(up ? &w->parent->ufd : &w->parent->lfd,
                            __ATOMIC_ACQUIRE);
    return w->fd >= 0 ? 0 : -ESTALE;
}

static void unlocate(struct where *w)
{
    if (w->parent) {
        ino_unref(w->parent);
    }
    free(w->buf);
}

int ovl_fstat(struct inode *i, struct stat *st)
{
    struct where w;
    int r = locate(i, &w);
    if (!r) {
        r = fstatat(w.fd, w.name, st,
                    *w.name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH) < 0
                ? -errno
                : 0;
    }
    unlocate(&w);
    return r;
}

int ovl_open(struct inode *i, int flags)
{
    struct where w;
    int r = locate(i, &w);
    if (!r && !*w.name) {
        r = ovl_reopen(w.fd, flags);
    } else if (!r) {
        /* one component below a directory we hold: nothing to follow */
        r = openat(w.fd, w.name,
                   (flags & OVL_OPEN_FLAGS) | O_NOFOLLOW | O_CLOEXEC);
        r = r < 0 ? -errno : r;
    }
    unlocate(&w);
    return r;
}

ssize_t ovl_readlink(struct inode *i, char *buf, size_t cap)
{
    struct where w;
    ssize_t r = locate(i, &w);
    if (!r) {
        r = readlinkat(w.fd, w.name, buf, cap);
        r = r < 0 ? -errno : r;
    }
    unlocate(&w);
    return r;
}

int ovl_utimens(struct inode *i, const struct timespec tv[2])
{
    struct where w;
    int r = locate(i, &w);
    if (!r && !*w.name) {
        char p[40];
        snprintf(p, sizeof p, "/proc/self/fd/%d", w.fd);
        r = utimensat(AT_FDCWD, p, tv, 0) < 0 ? -errno : 0;
    } else if (!r) {
        r = utimensat(w.fd, w.name, tv, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
    }
    unlocate(&w);
    return r;
}

struct ino_key ovl_key(const struct ovl_ent *e, struct inode *dir,
                       const char *name, int fake)
{
    struct ino_key k = { e->st.st_dev, e->st.st_ino, 0, (unsigned char)fake };
    if (e->layer == OVL_LOWER && !S_ISDIR(e->st.st_mode) &&
        e->st.st_nlink > 1) {
        /* one of several firmware names of a file */
        k.salt =
            hash64(name) ^ (uint64_t)(uintptr_t)dir * 0x9e3779b97f4a7c15ull;
        k.salt |= 1; /* never 0, the key of an object itself */
    }
    return k;
}

int ovl_lookup(struct ovl *o, struct inode *dir, const char *name,
               struct ovl_ent *e, int fds)
{
    return lookup(o, dir, name, e, fds ? LK_FDS : 0);
}

static void ent_close(struct ovl_ent *e)
{
    if (e->ufd >= 0) {
        close(e->ufd);
    }
    if (e->lfd >= 0) {
        close(e->lfd);
    }
    e->ufd = e->lfd = -1;
}

/* ------------------------------------------------------------ metadata */

void ovl_present(const struct meta_rec *r, struct stat *st)
{
    st->st_uid = r->uid >= 0 ? (uid_t)r->uid : 0;
    st->st_gid = r->gid >= 0 ? (gid_t)r->gid : 0;
    if (r->mode >= 0) {
        mode_t type = (mode_t)r->mode & S_IFMT;
        /* a recorded type (a device over its placeholder file) wins */
        st->st_mode =
            (type ? type : (st->st_mode & S_IFMT)) | ((mode_t)r->mode & 07777);
    }
    if (r->rdev >= 0 && (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))) {
        st->st_rdev = (dev_t)r->rdev;
    }
}

void ovl_meta_load(struct ovl *o, struct inode *i)
{
    if (__atomic_load_n(&i->meta_ok, __ATOMIC_ACQUIRE)) {
        return;
    }
    struct meta_rec r = META_REC_NONE;
    char *path = ino_path(i);
    if (path) {
        meta_get(o->meta, path, &r);
        free(path);
    }
    i->meta = r;
    __atomic_store_n(&i->meta_ok, 1, __ATOMIC_RELEASE);
}

int ovl_getattr(struct ovl *o, struct inode *i, int fd, struct stat *st)
{
    int r = fd >= 0 ? (fstat(fd, st) < 0 ? -errno : 0) : ovl_fstat(i, st);
    if (r < 0) {
        return r;
    }
    ovl_meta_load(o, i);
    ovl_present(&i->meta, st);
    return 0;
}

int ovl_chmeta(struct ovl *o, struct inode *i, long uid, long gid, long mode)
{
    pthread_mutex_lock(&o->lock);
    ovl_meta_load(o, i);
    struct meta_rec r = i->meta;
    if (uid >= 0) {
        r.uid = uid;
    }
    if (gid >= 0) {
        r.gid = gid;
    }
    if (mode >= 0) {
        long type = r.mode >= 0 ? r.mode & S_IFMT : 0;
        r.mode = type | (mode & 07777);
    }
    int ret = 0;
    char *path = ino_path(i);
    if (path) { /* an unlinked file: the change lives as long as it does */
        ret = meta_set(o->meta, path, &r);
        free(path);
    }
    if (!ret) {
        i->meta = r;
        if (ino_upper(i)) {
            struct where w;
            if (locate(i, &w) == 0) {
                /* chown(-1, -1) changes nothing but the ctime, as a real
                 * chmod/chown would */
                fchownat(w.fd, w.name, (uid_t)-1, (gid_t)-1,
                         *w.name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH);
            }
            unlocate(&w);
        }
    }
    pthread_mutex_unlock(&o->lock);
    return ret;
}

/* ------------------------------------------------------------ copy-up */

static int copy_data(int in, int out, off_t size)
{
    off_t off = 0;
    while (off < size) {
        ssize_t n =
            copy_file_range(in, &off, out, NULL, (size_t)(size - off), 0);
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
                      errno == EOPNOTSUPP)) {
            n = sendfile(out, in, &off, (size_t)(size - off));
        }
        if (n < 0) {
            return -errno;
        }
        if (n == 0) {
            break;
        }
    }
    return 0;
}

/* Copy the lower object (lname below ldir, or ldir itself when lname is
 * "") of stat st to name in the upper directory pfd. */
static int copy_object(struct ovl *o, int ldir, const char *lname,
                       const struct stat *st, int pfd, const char *name)
{
    struct timespec ts[2] = { st->st_atim, st->st_mtim };
    int ret = 0;
    switch (st->st_mode & S_IFMT) {
    case S_IFDIR:
        if (mkdirat(pfd, name, st->st_mode & 01777) < 0 && errno != EEXIST) {
            return -errno;
        }
        utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
    case S_IFLNK: {
        char target[PATH_MAX];
        ssize_t n = readlinkat(ldir, lname, target, sizeof target - 1);
        if (n < 0) {
            return -errno;
        }
        target[n] = 0;
        if (symlinkat(target, pfd, name) < 0) {
            return -errno;
        }
        utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
    }
    case S_IFREG: {
        int in = *lname ? openat(ldir, lname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                        : ovl_reopen(ldir, O_RDONLY);
        if (in < 0) {
            return *lname ? -errno : in;
        }
        char tmp[64];
        static unsigned seq;
        snprintf(tmp, sizeof tmp, "copyup.%d.%u", (int)getpid(),
                 __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
        int out =
            openat(o->work_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                   st->st_mode & 0777);
        if (out < 0) {
            ret = -errno;
        } else {
            ret = copy_data(in, out, st->st_size);
            if (ret == 0) {
                futimens(out, ts);
            }
            close(out);
            if (ret == 0 && renameat(o->work_fd, tmp, pfd, name) < 0) {
                ret = -errno;
            }
            if (ret < 0) {
                unlinkat(o->work_fd, tmp, 0);
            }
        }
        close(in);
        return ret;
    }
    case S_IFIFO:
    case S_IFSOCK:
        return mknodat(pfd, name, (st->st_mode & S_IFMT) | (st->st_mode & 0777),
                       0) < 0
                   ? -errno
                   : 0;
    default: {
        /* a device: an empty regular file stands in, the journal keeps its
         * type and number (the host's device is never reachable) */
        int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        st->st_mode & 0777);
        if (fd < 0) {
            return -errno;
        }
        close(fd);
        return 0;
    }
    }
}

/* What the upper copy cannot carry itself (set-id bits, a device's type)
 * goes into the journal. */
static int copy_meta(struct ovl *o, struct inode *i, const struct stat *st)
{
    int dev = S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode);
    if (!dev && !(st->st_mode & 06000)) {
        return 0;
    }
    ovl_meta_load(o, i);
    struct meta_rec r = i->meta;
    if (r.mode < 0) {
        r.mode = (long)(dev ? st->st_mode : (st->st_mode & 07777));
    }
    if (dev && r.rdev < 0) {
        r.rdev = (long)st->st_rdev;
    }
    char *path = ino_path(i);
    int ret = path ? meta_set(o->meta, path, &r) : -ENOENT;
    free(path);
    if (!ret) {
        i->meta = r;
    }
    return ret;
}

static int copy_up_locked(struct ovl *o, struct inode *i)
{
    if (ino_upper(i)) {
        return 0;
    }
    int isdir = S_ISDIR(i->type);
    if (isdir && dir_ufd(o, i) >= 0) {
        return 0;
    }
    struct where w; /* the lower object */
    memset(&w, 0, sizeof w);
    int ret = isdir ? 0 : locate(i, &w);
    struct inode *p = NULL;
    char *name = NULL;
    if (!ret) {
        /* an unlinked firmware file has nothing to be copied to */
        ret = ino_first_link(i, &p, &name);
    }
    int ldir = isdir ? i->lfd : w.fd;
    const char *lname = isdir ? "" : w.name;
    struct stat st;
    if (!ret) {
        ret = copy_up_locked(o, p);
    }
    if (!ret && fstatat(ldir, lname, &st,
                        *lname ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH) < 0) {
        ret = -errno;
    }
    if (!ret) {
        ret = copy_object(o, ldir, lname, &st, p->ufd, name);
    }
    if (!ret) {
        ret = copy_meta(o, i, &st);
        if (ret < 0) {
            unlinkat(p->ufd, name, isdir ? AT_REMOVEDIR : 0);
        }
    }
    struct stat ust;
    if (!ret && fstatat(p->ufd, name, &ust, AT_SYMLINK_NOFOLLOW) < 0) {
        ret = -errno;
    }
    if (!ret && isdir) {
        int fd = open_dir(p->ufd, name);
        if (fd < 0) {
            ret = -errno;
        } else if (ino_set_ufd(i, fd)) {
            ino_rekey(i, ust.st_dev, ust.st_ino);
        } else {
            close(fd);
        }
    } else if (!ret) {
        ino_rekey(i, ust.st_dev, ust.st_ino);
        ino_set_upper(i);
        if (st.st_nlink > 1 && o->names_changed) {
            /* the other names of a firmware hard link stay on the lower
             * file: the kernel must look them up again */
            o->names_changed();
        }
    }
    unlocate(&w);
    if (p) {
        ino_unref(p);
    }
    free(name);
    return ret;
}

int ovl_copy_up(struct ovl *o, struct inode *i)
{
    if (ino_upper(i)) {
        return 0;
    }
    pthread_mutex_lock(&o->lock);
    int ret = copy_up_locked(o, i);
    pthread_mutex_unlock(&o->lock);
    return ret;
}

/* ------------------------------------------------------------ creates */

/* Common start of every create: the name must be free; the directory gets
 * its upper copy and loses the whiteout of name.  *had_wh: a lower entry
 * was deleted before (a new directory must then be opaque). */
static int prepare_new(struct ovl *o, struct inode *dir, const char *name,
                       int *had_wh)
{
    if (ovl_is_hidden_name(name)) {
        return -EPERM;
    }
    struct ovl_ent e;
    int ret = lookup(o, dir, name, &e, 0);
    if (ret == 0) {
        return -EEXIST;
    }
    if (ret != -ENOENT) {
        return ret;
    }
    ret = copy_up_locked(o, dir);
    if (ret < 0) {
        return ret;
    }
    *had_wh = dir->lfd >= 0 && has_wh(dir->ufd, name);
    ret = clear_wh(dir->ufd, name);
    return ret < 0 ? ret : dir->ufd;
}

static int new_entry(int pfd, const char *name, struct ovl_ent *e)
{
    memset(e, 0, sizeof *e);
    e->ufd = e->lfd = -1;
    e->layer = OVL_UPPER;
    if (fstatat(pfd, name, &e->st, AT_SYMLINK_NOFOLLOW) < 0) {
        return -errno;
    }
    if (S_ISDIR(e->st.st_mode) && (e->ufd = open_dir(pfd, name)) < 0) {
        return -errno;
    }
    return 0;
}

/* The presented mode of directory dir (for its set-group-ID bit). */
static mode_t dir_mode(struct ovl *o, struct inode *dir)
{
    struct stat st;
    return ovl_getattr(o, dir, -1, &st) == 0 ? st.st_mode : 0;
}

/* Record what the backing entry cannot show: the creator as owner (the
 * daemon runs as root), set-id bits, a device's type and number.  The
 * group is the directory's when it is set-group-ID (as Linux does).
 * 0, or -errno when it cannot be written. */
static int own_new(struct ovl *o, struct inode *dir, const char *name,
                   const struct ovl_owner *who, mode_t mode, mode_t shown,
                   dev_t rdev)
{
    char *path = ino_child_path(dir, name);
    if (!path) {
        return -ENOMEM;
    }
    meta_del(o->meta, path); /* a stale record of an earlier file */
    struct meta_rec r = META_REC_NONE;
    long gid = (long)who->gid;
    if (dir_mode(o, dir) & S_ISGID) {
        gid = dir->meta.gid >= 0 ? dir->meta.gid : 0;
    }
    if (who->uid) {
        r.uid = (long)who->uid;
    }
    if (gid) {
        r.gid = gid;
    }
    if ((mode & 07777) != shown || S_ISCHR(mode) || S_ISBLK(mode)) {
        r.mode = (long)mode;
    }
    if (S_ISCHR(mode) || S_ISBLK(mode)) {
        r.rdev = (long)rdev;
    }
    int ret = 0;
    if (r.uid >= 0 || r.gid >= 0 || r.mode >= 0) {
        ret = meta_set(o->meta, path, &r);
    }
    free(path);
    return ret;
}

/* The end of a create: the owner recorded, the new entry opened; on
 * failure the entry is removed again. */
static int finish_new(struct ovl *o, struct inode *dir, int pfd,
                      const char *name, const struct ovl_owner *who,
                      mode_t mode, mode_t shown, dev_t rdev, struct ovl_ent *e)
{
    int ret = own_new(o, dir, name, who, mode, shown, rdev);
    if (!ret) {
        ret = new_entry(pfd, name, e);
    }
    if (ret < 0) {
        unlinkat(pfd, name, 0);
    }
    return ret;
}

int ovl_create(struct ovl *o, struct inode *dir, const char *name, mode_t mode,
               int flags, const struct ovl_owner *who, struct ovl_ent *e,
               int *fdp)
{
    int had_wh;
    pthread_mutex_lock(&o->lock);
    int pfd = prepare_new(o, dir, name, &had_wh), ret = pfd < 0 ? pfd : 0;
    int fd = -1;
    if (!ret) {
        fd = openat(pfd, name,
                    (flags & OVL_OPEN_FLAGS) | O_CREAT | O_EXCL | O_NOFOLLOW |
                        O_CLOEXEC,
                    mode & 0777);
        ret = fd < 0 ? -errno
                     : finish_new(o, dir, pfd, name, who,
                                  S_IFREG | (mode & 07777), mode & 0777, 0, e);
    }
    pthread_mutex_unlock(&o->lock);
    if (ret < 0 && fd >= 0) {
        close(fd);
        fd = -1;
    }
    *fdp = fd;
    return ret;
}

int ovl_mknod(struct ovl *o, struct inode *dir, const char *name, mode_t mode,
              dev_t rdev, const struct ovl_owner *who, struct ovl_ent *e)
{
    int had_wh, ret;
    pthread_mutex_lock(&o->lock);
    int pfd = prepare_new(o, dir, name, &had_wh);
    if (pfd < 0) {
        ret = pfd;
    } else if (S_ISFIFO(mode) || S_ISSOCK(mode)) {
        ret = mknodat(pfd, name, (mode & S_IFMT) | (mode & 0777), 0) < 0
                  ? -errno
                  : 0;
    } else if (S_ISREG(mode) || S_ISCHR(mode) || S_ISBLK(mode)) {
        /* a device is an empty regular file plus its journal record: the
         * host's device is never reachable through the upper tree */
        int fd = openat(pfd, name,
                        O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                        mode & 0777);
        ret = fd < 0 ? -errno : 0;
        if (fd >= 0) {
            close(fd);
        }
    } else {
        ret = -EINVAL;
    }
    if (!ret) {
        ret = finish_new(o, dir, pfd, name, who, mode, mode & 0777, rdev, e);
    }
    pthread_mutex_unlock(&o->lock);
    return ret;
}

int ovl_mkdir(struct ovl *o, struct inode *dir, const char *name, mode_t mode,
              const struct ovl_owner *who, struct ovl_ent *e)
{
    int had_wh, ret;
    pthread_mutex_lock(&o->lock);
    int pfd = prepare_new(o, dir, name, &had_wh);
    mode = S_IFDIR | (mode & 07777);
    if (dir_mode(o, dir) & S_ISGID) {
        mode |= S_ISGID; /* inherited, as Linux does */
    }
    ret = pfd < 0 ? pfd : mkdirat(pfd, name, mode & 01777) < 0 ? -errno : 0;
    if (!ret) {
        ret = new_entry(pfd, name, e);
        if (!ret && had_wh) {
            /* a lower directory of that name was deleted: hide it */
            ret = make_opaque(e->ufd);
            e->opaque = 1;
        }
        if (!ret) {
            ret = own_new(o, dir, name, who, mode, mode & 01777, 0);
        }
        if (ret < 0) {
            if (e->ufd >= 0) {
                unlinkat(e->ufd, WH_OPAQUE, 0);
            }
            ent_close(e);
            unlinkat(pfd, name, AT_REMOVEDIR);
        }
    }
    pthread_mutex_unlock(&o->lock);
    return ret;
}

int ovl_symlink(struct ovl *o, struct inode *dir, const char *name,
                const char *target, const struct ovl_owner *who,
                struct ovl_ent *e)
{
    int had_wh, ret;
    pthread_mutex_lock(&o->lock);
    int pfd = prepare_new(o, dir, name, &had_wh);
    ret = pfd < 0 ? pfd : symlinkat(target, pfd, name) < 0 ? -errno : 0;
    if (!ret) {
        ret = finish_new(o, dir, pfd, name, who, S_IFLNK | 0777, 0777, 0, e);
    }
    pthread_mutex_unlock(&o->lock);
    return ret;
}

int ovl_link(struct ovl *o, struct inode *src, struct inode *dir,
             const char *name, struct ovl_ent *e)
{
    if (S_ISDIR(src->type)) {
        return -EPERM;
    }
    int had_wh;
    pthread_mutex_lock(&o->lock);
    int ret = copy_up_locked(o, src);
    int pfd = ret < 0 ? ret : prepare_new(o, dir, name, &had_wh);
    char from[40], *sp = NULL, *dp = NULL;
    struct where w;
    memset(&w, 0, sizeof w);
    if (pfd < 0) {
        ret = pfd;
    } else if ((ret = locate(src, &w)) == 0 && !*w.name) {
        /* a file with no name left (open, unlinked): by its descriptor */
        snprintf(from, sizeof from, "/proc/self/fd/%d", w.fd);
        ret = linkat(AT_FDCWD, from, pfd, name, AT_SYMLINK_FOLLOW) < 0 ? -errno
                                                                       : 0;
    } else if (!ret) {
        ret = linkat(w.fd, w.name, pfd, name, 0) < 0 ? -errno : 0;
    }
    unlocate(&w);
    if (!ret) {
        sp = ino_path(src);
        dp = ino_child_path(dir, name);
        /* the names share one record: chmod through one shows in all */
        ret = sp && dp ? meta_link(o->meta, sp, dp) : -ENOMEM;
        if (!ret) {
            ret = new_entry(pfd, name, e);
        }
        if (ret < 0) {
            unlinkat(pfd, name, 0);
        }
    }
    free(sp);
    free(dp);
    pthread_mutex_unlock(&o->lock);
    return ret;
}

/* ------------------------------------------------------------ listing */

/* A small open-addressing set of names. */
struct nset {
    char **v;
    size_t cap, n;
};

static int nset_has(const struct nset *s, const char *name)
{
    if (!s->cap) {
        return 0;
    }
    for (size_t i = sfemu_str_hash(name) & (s->cap - 1);;
         i = (i + 1) & (s->cap - 1)) {
        if (!s->v[i]) {
            return 0;
        }
        if (strcmp(s->v[i], name) == 0) {
            return 1;
        }
    }
}

/* Adds a copy of name: 1 added, 0 present, -ENOMEM. */
static int nset_add(struct nset *s, const char *name)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **v = calloc(cap, sizeof *v);
        if (!v) {
            return -ENOMEM;
        }
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->v[i]) {
                continue;
            }
            size_t j = sfemu_str_hash(s->v[i]) & (cap - 1);
            while (v[j]) {
                j = (j + 1) & (cap - 1);
            }
            v[j] = s->v[i];
        }
        free(s->v);
        s->v = v;
        s->cap = cap;
    }
    size_t i = sfemu_str_hash(name) & (s->cap - 1);
    while (s->v[i]) {
        if (strcmp(s->v[i], name) == 0) {
            return 0;
        }
        i = (i + 1) & (s->cap - 1);
    }
    if (!(s->v[i] = strdup(name))) {
        return -ENOMEM;
    }
    s->n++;
    return 1;
}

static void nset_free(struct nset *s)
{
    for (size_t i = 0; i < s->cap; i++) {
        free(s->v[i]);
    }
    free(s->v);
}

int ovl_dir_add(struct ovl_dir *d, const char *name, unsigned char type,
                ino_t ino)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        struct ovl_dirent *v = realloc(d->v, cap * sizeof *v);
        if (!v) {
            return -ENOMEM;
        }
        d->v = v;
        d->cap = cap;
    }
    if (!(d->v[d->n].name = strdup(name))) {
        return -ENOMEM;
    }
    d->v[d->n].type = type;
    d->v[d->n].ino = ino;
    d->n++;
    return 0;
}

int ovl_dir_has(const struct ovl_dir *d, const char *name)
{
    for (size_t i = 0; i < d->n; i++) {
        if (!strcmp(d->v[i].name, name)) {
            return 1;
        }
    }
    return 0;
}

void ovl_dir_free(struct ovl_dir *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].name);
    }
    free(d->v);
    memset(d, 0, sizeof *d);
}

/* A device placeholder in the upper tree is listed as the device. */
static unsigned char shown_type(struct ovl *o, const char *dirpath,
                                const char *name, unsigned char t)
{
    if (t != DT_REG || !dirpath) {
        return t;
    }
    size_t n = strlen(dirpath) + strlen(name) + 2;
    char *p = malloc(n);
    struct meta_rec r;
    if (!p) {
        return t;
    }
    snprintf(p, n, "%s/%s", strcmp(dirpath, ".") ? dirpath : "", name);
    int have = meta_get(o->meta, p[0] == '/' ? p + 1 : p, &r);
    free(p);
    if (have && r.mode >= 0 && ((mode_t)r.mode & S_IFMT)) {
        return (unsigned char)IFTODT((mode_t)r.mode);
    }
    return t;
}

/* One layer's directory into out; upper: whiteouts and the opaque marker
 * are collected instead of listed. */
static int list_layer(struct ovl *o, int dirfd, int upper, const char *dirpath,
                      struct ovl_dir *out, struct nset *seen, struct nset *wh,
                      int *opaque)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        int err = errno;
        if (fd >= 0) {
            close(fd);
        }
        return -err;
    }
    struct dirent *de;
    int ret = 0;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (!strcmp(n, ".") || !strcmp(n, "..")) {
            continue;
        }
        if (ovl_is_hidden_name(n)) {
            if (upper && !strcmp(n, WH_OPAQUE)) {
                *opaque = 1;
            } else if (upper && (ret = nset_add(wh, n + WH_PREFIX_LEN)) < 0) {
                break;
            }
            continue;
        }
        if (nset_has(seen, n)) {
            continue;
        }
        if (!upper) {
            char hashed[NAME_MAX + 1];
            if (nset_has(wh, n)) {
                continue;
            }
            if (strlen(n) + WH_PREFIX_LEN > NAME_MAX) {
                wh_name(n, hashed);
                if (nset_has(wh, hashed + WH_PREFIX_LEN)) {
                    continue;
                }
            }
        }
        if ((ret = nset_add(seen, n)) < 0 ||
            (ret = ovl_dir_add(out, n,
                               upper ? shown_type(o, dirpath, n, de->d_type)
                                     : de->d_type,
                               de->d_ino)) < 0) {
            break;
        }
        ret = 0;
    }
    closedir(d);
    return ret;
}

/* The merged listing of an upper and a lower directory (fds may be -1). */
static int list_merged(struct ovl *o, int ufd, int lfd, const char *dirpath,
                       struct ovl_dir *out)
{
    struct nset seen = { 0 }, wh = { 0 };
    int opaque = 0, ret = 0;
    memset(out, 0, sizeof *out);
    if (ufd >= 0) {
        ret = list_layer(o, ufd, 1, dirpath, out, &seen, &wh, &opaque);
    }
    if (!ret && lfd >= 0 && !opaque) {
        ret = list_layer(o, lfd, 0, dirpath, out, &seen, &wh, &opaque);
    }
    nset_free(&seen);
    nset_free(&wh);
    if (ret < 0) {
        ovl_dir_free(out);
    }
    return ret;
}

int ovl_list(struct ovl *o, struct inode *dir, struct ovl_dir *out)
{
    char *path = ino_path(dir);
    int ret = list_merged(o, dir_ufd(o, dir), dir->lfd, path, out);
    free(path);
    return ret;
}

/* Is the merged directory e empty? 1/0/-errno */
static int ent_empty(struct ovl *o, const struct ovl_ent *e)
{
    struct ovl_dir d;
    int ret = list_merged(o, e->ufd, e->opaque ? -1 : e->lfd, NULL, &d);
    if (ret < 0) {
        return ret;
    }
    ret = d.n == 0;
    ovl_dir_free(&d);
    return ret;
}

void ovl_unlink_entries(int dfd, int (*which)(const char *name))
{
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) {
            close(fd);
        }
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (which(de->d_name)) {
            unlinkat(dirfd(d), de->d_name, 0);
        }
    }
    closedir(d);
}

/* Empty an upper directory of its whiteouts and opaque marker. */
static void clear_hidden(int dfd)
{
    ovl_unlink_entries(dfd, ovl_is_hidden_name);
}

/* ------------------------------------------------------------ removal */

/* The inode of a name that went away loses that name. */
static void forget_name(const struct ovl_ent *e, struct inode *dir,
                        const char *name)
{
    for (int fake = 0; fake < 2; fake++) {
        struct ino_key k = ovl_key(e, dir, name, fake);
        struct inode *i = ino_find(&k);
        if (i) {
            ino_link_drop(i, dir, name);
            ino_unref(i);
        }
    }
}

/* An inode about to lose its last name keeps a descriptor of its object:
 * an open file that is unlinked keeps working. */
static void pin_last(const struct ovl_ent *e, struct inode *dir,
                     const char *name)
{
    if (S_ISDIR(e->st.st_mode)) {
        return;
    }
    for (int fake = 0; fake < 2; fake++) {
        struct ino_key k = ovl_key(e, dir, name, fake);
        struct inode *i = ino_find(&k);
        if (!i) {
            continue;
        }
        int at = e->layer == OVL_UPPER ? dir->ufd : dir->lfd;
        int fd = ino_last_link(i, dir, name)
                     ? openat(at, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)
                     : -1;
        if (fd >= 0) {
            ino_pin(i, fd);
        }
        ino_unref(i);
    }
}

/* Remove name (its entry e, looked up in dir): a whiteout hides its lower
 * entry, the upper one goes, and so do its record and its inode's name. */
static int remove_name(struct ovl *o, struct inode *dir, const char *name,
                       const struct ovl_ent *e)
{
    int isdir = S_ISDIR(e->st.st_mode), ret = 0;
    pin_last(e, dir, name);
    if (e->lower_visible) {
        ret = copy_up_locked(o, dir);
        ret = ret < 0 ? ret : make_wh(dir->ufd, name);
    }
    if (!ret && e->layer == OVL_UPPER) {
        if (isdir) {
            clear_hidden(e->ufd); /* what an empty merged directory holds */
        }
        if (unlinkat(dir->ufd, name, isdir ? AT_REMOVEDIR : 0) < 0) {
            ret = -errno;
            if (e->lower_visible) {
                clear_wh(dir->ufd, name);
            }
        }
    }
    if (!ret) {
        char *path = ino_child_path(dir, name);
        if (path) {
            meta_del(o->meta, path); /* pruned at mount if this fails */
            free(path);
        }
        forget_name(e, dir, name);
    }
    return ret;
}

int ovl_unlink(struct ovl *o, struct inode *dir, const char *name)
{
    struct ovl_ent e;
    pthread_mutex_lock(&o->lock);
    int ret = lookup(o, dir, name, &e, LK_LOWER);
    if (!ret) {
        ret = S_ISDIR(e.st.st_mode) ? -EISDIR : remove_name(o, dir, name, &e);
    }
    pthread_mutex_unlock(&o->lock);
    return ret;
}

int ovl_rmdir(struct ovl *o, struct inode *dir, const char *name)
{
    struct ovl_ent e;
    pthread_mutex_lock(&o->lock);
    int ret = lookup(o, dir, name, &e, LK_LOWER | LK_FDS);
    if (!ret && !S_ISDIR(e.st.st_mode)) {
        ret = -ENOTDIR;
    }
    if (!ret) {
        ret = ent_empty(o, &e);
        ret = ret < 0 ? ret : ret ? remove_name(o, dir, name, &e) : -ENOTEMPTY;
    }
    ent_close(&e);
    pthread_mutex_unlock(&o->lock);
    return ret;
}

int ovl_rename(struct ovl *o, struct inode *dir, const char *name,
               struct inode *ndir, const char *nname, unsigned flags)
{
    if (flags & ~RENAME_NOREPLACE) {
        return -EINVAL;
    }
    if (ovl_is_hidden_name(nname)) {
        return -EPERM;
    }
    if (strlen(nname) > NAME_MAX) {
        return -ENAMETOOLONG;
    }
    struct ovl_ent ef, et;
    struct inode *src = NULL;
    char *fp = NULL, *tp = NULL;
    int wh_made = 0;
    memset(&et, 0, sizeof et);
    et.ufd = et.lfd = -1;
    pthread_mutex_lock(&o->lock);
    int ret = lookup(o, dir, name, &ef, LK_LOWER);
    int from_dir = !ret && S_ISDIR(ef.st.st_mode);
    if (from_dir && ef.lower_visible && !ef.opaque) {
        ret = -EXDEV; /* like overlayfs without redirect_dir: mv copies */
    }
    int to_exists = 0;
    if (!ret) {
        int r = lookup(o, ndir, nname, &et, LK_LOWER | LK_FDS);
        if (r < 0 && r != -ENOENT) {
            ret = r;
        }
        to_exists = r == 0;
    }
    if (!ret && to_exists) {
        if (flags & RENAME_NOREPLACE) {
            ret = -EEXIST;
        } else if (S_ISDIR(et.st.st_mode)) {
            ret = !from_dir ? -EISDIR : ent_empty(o, &et);
            ret = ret < 0 ? ret : ret ? 0 : -ENOTEMPTY;
        } else if (from_dir) {
            ret = -ENOTDIR;
        }
    }
    if (!ret) {
        struct ino_key k = ovl_key(&ef, dir, name, 0);
        src = ino_find(&k);
        if (!src) {
            k.fake = 1;
            src = ino_find(&k);
        }
        ret = src                     ? copy_up_locked(o, src)
              : ef.layer == OVL_UPPER ? 0
                                      : -ESTALE;
    }
    if (!ret) {
        ret = copy_up_locked(o, dir);
    }
    if (!ret) {
        ret = copy_up_locked(o, ndir);
    }
    if (!ret) {
        fp = ino_child_path(dir, name);
        tp = ino_child_path(ndir, nname);
        ret = fp && tp ? 0 : -ENOMEM;
    }
    if (!ret && to_exists && S_ISDIR(et.st.st_mode) && et.layer == OVL_UPPER) {
        clear_hidden(et.ufd); /* an empty merged directory may hold them */
    }
    if (!ret && ef.lower_visible) {
        ret = make_wh(dir->ufd, name);
        wh_made = !ret;
    }
    if (!ret && to_exists) {
        pin_last(&et, ndir, nname);
    }
    if (!ret && renameat2(dir->ufd, name, ndir->ufd, nname, flags) < 0) {
        ret = -errno;
    }
    if (!ret) {
        ret = meta_rename(o->meta, fp, tp);
        if (ret < 0 && !to_exists) {
            /* the owners and modes could not follow: take it back */
            renameat(ndir->ufd, nname, dir->ufd, name);
        } else if (ret < 0) {
            ret = 0; /* the target is gone: keep what was done */
        }
    }
    if (ret < 0 && wh_made) {
        clear_wh(dir->ufd, name);
    }
    if (!ret) {
        clear_wh(ndir->ufd, nname);
        struct stat lst;
        if (from_dir && ndir->lfd >= 0 &&
            fstatat(ndir->lfd, nname, &lst, AT_SYMLINK_NOFOLLOW) == 0) {
            /* a lower entry of that name must not merge into it */
            int fd = openat(ndir->ufd, nname,
                            O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0) {
                make_opaque(fd);
                close(fd);
            }
        }
        if (to_exists) {
            forget_name(&et, ndir, nname);
        }
        if (src) {
            ino_link_move(src, dir, name, ndir, nname);
        }
    }
    if (src) {
        ino_unref(src);
    }
    ent_close(&et);
    free(fp);
    free(tp);
    pthread_mutex_unlock(&o->lock);
    return ret;
}

/* ------------------------------------------------------------ path-based */

/* Nothing resolves outside a layer, and no symlink is followed. */
#define LAYER_RESOLVE \
    (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

/* never -ENOSYS: from OPEN the kernel takes it for "this filesystem needs no
 * open" and sends READs without a handle (main.c checks for openat2 at
 * start-up) */
static int no_enosys(int r)
{
    return r == -ENOSYS ? -EOPNOTSUPP : r;
}

int ovl_layer_open(int layer_fd, const char *rel, int flags, mode_t mode)
{
    return no_enosys(
        dirfd_open(layer_fd, rel, flags | O_NOFOLLOW, mode, LAYER_RESOLVE));
}

int ovl_layer_fd(const struct ovl *o, enum ovl_layer l)
{
    return l == OVL_UPPER ? o->upper_fd : o->lower_fd;
}

int ovl_parent_fd(int layer_fd, const char *rel, const char **name)
{
    char dir[PATH_MAX];
    int r = path_split(rel, dir, sizeof dir, name);
    if (r < 0) {
        return r;
    }
    if (*name == rel) { /* at the top: the layer itself */
        int fd = fcntl(layer_fd, F_DUPFD_CLOEXEC, 0);
        return fd < 0 ? -errno : fd;
    }
    return ovl_layer_open(layer_fd, dir, O_PATH | O_DIRECTORY, 0);
}

int ovl_resolve(struct ovl *o, const char *rel, struct ovl_ent *e)
{
    memset(e, 0, sizeof *e);
    e->ufd = e->lfd = -1;
    if (strcmp(rel, ".") == 0) {
        e->layer = OVL_UPPER;
        e->lower_visible = 1;
        e->opaque = is_opaque(o->upper_fd);
        return fstat(o->upper_fd, &e->st) < 0 ? -errno : 0;
    }
    /* Walk the upper chain of the parent directories: an opaque directory or
     * a whiteout on the way hides everything of the lower tree below it.
     * ufd is borrowed (== o->upper_fd) until the first component. */
    int lower_ok = 1;
    int ufd = o->upper_fd;
    const char *p = rel;
    const char *name;
#define DROP_UFD()                          \
    do {                                    \
        if (ufd >= 0 && ufd != o->upper_fd) \
            close(ufd);                     \
    } while (0)
    for (;;) {
        const char *slash = strchr(p, '/');
        if (!slash) {
            name = p;
            break;
        }
        char comp[NAME_MAX + 1];
        size_t n = (size_t)(slash - p);
        if (n > NAME_MAX) {
            DROP_UFD();
            return -ENAMETOOLONG;
        }
        memcpy(comp, p, n);
        comp[n] = 0;
        if (ovl_is_hidden_name(comp)) {
            DROP_UFD();
            return -ENOENT;
        }
        if (ufd >= 0) {
            int nfd = openat(ufd, comp,
                             O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (nfd < 0 && has_wh(ufd, comp)) {
                lower_ok = 0;
            }
            DROP_UFD();
            ufd = nfd;
            if (ufd >= 0 && is_opaque(ufd)) {
                lower_ok = 0;
            }
        }
        p = slash + 1;
    }
    if (ovl_is_hidden_name(name) || strlen(name) > NAME_MAX) {
        DROP_UFD();
        return strlen(name) > NAME_MAX ? -ENAMETOOLONG : -ENOENT;
    }
    int ret = -ENOENT;
    if (ufd >= 0) {
        if (fstatat(ufd, name, &e->st, AT_SYMLINK_NOFOLLOW) == 0) {
            e->layer = OVL_UPPER;
            ret = 0;
            if (S_ISDIR(e->st.st_mode)) {
                int dfd = openat(ufd, name,
                                 O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd >= 0) {
                    e->opaque = is_opaque(dfd);
                    close(dfd);
                }
            }
        } else if (has_wh(ufd, name)) {
            lower_ok = 0;
        }
        DROP_UFD();
    }
#undef DROP_UFD
    if (lower_ok) {
        struct stat lst;
        const char *lname;
        int lfd = ovl_parent_fd(o->lower_fd, rel, &lname);
        int found =
            lfd >= 0 && fstatat(lfd, lname, &lst, AT_SYMLINK_NOFOLLOW) == 0;
        if (lfd >= 0) {
            close(lfd);
        }
        if (found) {
            e->lower_visible = 1;
            if (ret < 0) {
                e->st = lst;
                e->layer = OVL_LOWER;
                ret = 0;
            }
        }
    }
    return ret;
}

/* Appends the name n (of len bytes) to the normalized relative path cur;
 * ".." goes up (never above the top). */
static int rel_push(char *cur, size_t cap, const char *n, size_t len)
{
    size_t at = strlen(cur);
    if (len == 1 && n[0] == '.') {
        return 0;
    }
    if (len == 2 && n[0] == '.' && n[1] == '.') {
        char *slash = strrchr(cur, '/');
        *(slash ? slash : cur) = 0;
        return 0;
    }
    if (at + !!at + len + 1 > cap) {
        return -ENAMETOOLONG;
    }
    if (at) {
        cur[at++] = '/';
    }
    memcpy(cur + at, n, len);
    cur[at + len] = 0;
    return 0;
}

int ovl_follow_dirs(struct ovl *o, const char *rel, char *out, size_t cap)
{
    char cur[PATH_MAX] = "", rest[PATH_MAX], target[PATH_MAX], tmp[PATH_MAX];
    int hops = 0;

    if (snprintf(rest, sizeof rest, "%s", rel) >= (int)sizeof rest) {
        return -ENAMETOOLONG;
    }
    for (;;) {
        char *p = rest + strspn(rest, "/");
        size_t n = strcspn(p, "/");
        const char *after = p + n + strspn(p + n, "/");
        if (!*after) { /* the last name: kept as it is */
            int r = rel_push(cur, sizeof cur, p, n);
            if (r < 0) {
                return r;
            }
            break;
        }
        int r = rel_push(cur, sizeof cur, p, n);
        if (r < 0) {
            return r;
        }
        struct ovl_ent e;
        if (!*cur || ovl_resolve(o, cur, &e) < 0 || !S_ISLNK(e.st.st_mode)) {
            memmove(rest, after, strlen(after) + 1);
            continue;
        }
        const char *lname;
        int pfd = ovl_parent_fd(ovl_layer_fd(o, e.layer), cur, &lname);
        ssize_t len =
            pfd < 0 ? -1 : readlinkat(pfd, lname, target, sizeof target - 1);
        if (pfd >= 0) {
            close(pfd);
        }
        if (len < 0 || ++hops > 40) {
            return len < 0 ? -EIO : -ELOOP;
        }
        target[len] = 0;
        /* the rest goes on from the target: from the top when absolute,
         * else from the link's own directory */
        char *slash = strrchr(cur, '/');
        *(target[0] == '/' || !slash ? cur : slash) = 0;
        if (snprintf(tmp, sizeof tmp, "%s/%s", target, after) >=
            (int)sizeof tmp) {
            return -ENAMETOOLONG;
        }
        memcpy(rest, tmp, strlen(tmp) + 1);
    }
    if (snprintf(out, cap, "%s", *cur ? cur : ".") >= (int)cap) {
        return -ENAMETOOLONG;
    }
    return 0;
}

/* mkdir -p of a directory chain in the upper tree, copying modes and times
 * from the lower tree; returns an fd of the innermost directory. */
static int upper_dirs(struct ovl *o, const char *reldir)
{
    int fd = fcntl(o->upper_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0 || strcmp(reldir, ".") == 0 || !*reldir) {
        return fd < 0 ? -errno : fd;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", reldir);
    char *p = path;
    for (;;) {
        char *slash = strchr(p, '/');
        if (slash) {
            *slash = 0;
        }
        int nfd = openat(fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0 && errno == ENOENT) {
            struct stat lst = { .st_mode = S_IFDIR | 0755 };
            int lfd =
                ovl_layer_open(o->lower_fd, path, O_PATH | O_DIRECTORY, 0);
            if (lfd >= 0) {
                fstat(lfd, &lst);
                close(lfd);
            }
            int r = copy_object(o, -1, "", &lst, fd, p);
            if (r < 0) {
                close(fd);
                return r;
            }
            __atomic_add_fetch(&o->upper_gen, 1, __ATOMIC_RELEASE);
            nfd = openat(fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        int err = errno;
        close(fd);
        if (nfd < 0) {
            return -err;
        }
        fd = nfd;
        if (!slash) {
            break;
        }
        *slash = '/';
        p = slash + 1;
    }
    return fd;
}

int ovl_read_file(struct ovl *o, const char *rel, char **data, size_t *len)
{
    struct ovl_ent e;
    int ret = ovl_resolve(o, rel, &e);
    if (ret < 0) {
        return ret;
    }
    if (!S_ISREG(e.st.st_mode)) {
        return -EINVAL;
    }
    int fd = ovl_layer_open(ovl_layer_fd(o, e.layer), rel, O_RDONLY, 0);
    if (fd < 0) {
        return fd;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    ssize_t r;
    while (buf && (r = read(fd, buf + n, cap - n)) > 0) {
        n += (size_t)r;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    close(fd);
    if (!buf) {
        return -ENOMEM;
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return 0;
}

/* Write all of data at the start of fd. */
static int pwrite_all(int fd, const char *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = pwrite(fd, data + off, len - off, (off_t)off);
        if (n < 0) {
            return -errno;
        }
        off += (size_t)n;
    }
    return 0;
}

int ovl_write_file(struct ovl *o, const char *rel, const char *data, size_t len)
{
    char dir[PATH_MAX];
    const char *name;
    int ret = path_split(rel, dir, sizeof dir, &name);
    if (ret < 0) {
        return ret;
    }
    pthread_mutex_lock(&o->lock);
    int pfd = upper_dirs(o, dir);
    if (pfd < 0) {
        pthread_mutex_unlock(&o->lock);
        return pfd;
    }
    /* An upper file is rewritten in place: it stays the inode the kernel
     * knows.  A new one is written aside and renamed into place. */
    int fd = openat(pfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        ret = pwrite_all(fd, data, len);
        if (!ret && ftruncate(fd, (off_t)len) < 0) {
            ret = -errno;
        }
        close(fd);
        goto out;
    }
    if (fd >= 0) {
        close(fd);
    }
    char tmp[64];
    static unsigned seq;
    snprintf(tmp, sizeof tmp, "write.%d.%u", (int)getpid(),
             __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
    fd = openat(o->work_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        ret = -errno;
        goto out;
    }
    ret = pwrite_all(fd, data, len);
    close(fd);
    if (ret == 0 && renameat(o->work_fd, tmp, pfd, name) < 0) {
        ret = -errno;
    }
    if (ret < 0) {
        unlinkat(o->work_fd, tmp, 0);
    } else {
        clear_wh(pfd, name);
        ret = 1;
    }
out:
    close(pfd);
    pthread_mutex_unlock(&o->lock);
    return ret;
}
