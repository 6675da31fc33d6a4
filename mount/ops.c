/*
 * The FUSE front end: each operation resolves the path in the overlay and
 * hands off to overlay.c (real files: kernel page cache and attribute cache)
 * or to fakefs (fake resources: direct I/O through the state machine).
 * Everything returns -errno.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "containment.h"
#include "passthrough.h"
#include "str_hash.h"
#include "sfemu_mount.h"

#define XATTR_SYMLINK "security.sfemu.symlink"
#define XATTR_LAYER "security.sfemu.layer"

enum hkind { H_REAL = 0, H_FAKE = 1, H_RECORD = 2 };
struct handle {
    struct handle *prev, *next; /* all open handles (freed at shutdown) */
    int fd;
    enum hkind kind;
    struct pt_backing *pt; /* passthrough reference, or NULL */
    char rel[]; /* the path at open time (nullpath_ok: ops get no path) */
};

#define S (sfemu_g)
#define O (&sfemu_g->ovl)

const char *rel_of(const char *path)
{
    while (*path == '/') {
        path++;
    }
    return *path ? path : ".";
}

static const char *base_of(const char *rel)
{
    const char *b = strrchr(rel, '/');
    return b ? b + 1 : rel;
}

static struct handle *H(struct fuse_file_info *fi)
{
    return (struct handle *)(uintptr_t)fi->fh;
}

/* With nullpath_ok, operations on an open file get path == NULL: use the
 * path remembered at open time. */
static const char *op_rel(const char *path, struct fuse_file_info *fi)
{
    if (path) {
        return rel_of(path);
    }
    if (fi && fi->fh) {
        return H(fi)->rel;
    }
    return NULL;
}

static void guest_of(const char *rel, char *out, size_t cap)
{
    snprintf(out, cap, "/%s", strcmp(rel, ".") ? rel : "");
}

static struct fakefs_caller caller(void)
{
    struct fakefs_caller c = { .pid = fuse_get_context()->pid,
                               .fd = -1,
                               .side = "fuse" };
    return c;
}

/* Overlay stat -> what the mount shows: ownership root unless recorded. */
static void present(const char *rel, struct stat *st)
{
    struct meta_rec m;
    int have = meta_get(O->meta, rel, &m);
    st->st_uid = have && m.uid >= 0 ? (uid_t)m.uid : 0;
    st->st_gid = have && m.gid >= 0 ? (gid_t)m.gid : 0;
    if (have && m.mode >= 0) {
        st->st_mode = (st->st_mode & S_IFMT) | ((mode_t)m.mode & 07777);
    }
}

/* Record the creator as owner (the daemon itself runs as root), and a
 * device's type and number: 0, or -errno when it cannot be written (the
 * caller then undoes the create). */
static int own_new(const char *rel, mode_t dev_mode, dev_t rdev)
{
    struct fuse_context *c = fuse_get_context();
    meta_del(O->meta, rel);
    if (!c->uid && !c->gid && !dev_mode) {
        return 0;
    }
    struct meta_rec m = { -1, -1, -1, -1 };
    if (c->uid || c->gid) {
        m.uid = (long)c->uid;
        m.gid = (long)c->gid;
    }
    if (dev_mode) {
        m.mode = (long)dev_mode;
        m.rdev = (long)rdev;
    }
    return meta_set(O->meta, rel, &m);
}

/* A create whose metadata could not be recorded is taken back. */
static int undo_new(const char *rel, int r, int flags)
{
    const char *name;
    int pfd = ovl_parent_fd(O->upper_fd, rel, &name);
    if (pfd >= 0) {
        unlinkat(pfd, name, flags);
        close(pfd);
    }
    return r;
}

/* ------------------------------------------------------------------ cache */

/* Which layer serves a path, and whether it is fake, remembered until the
 * namespace changes (ovl_gen): an open of a known file is then a single
 * openat2.  Direct-mapped; a collision just replaces the entry. */
#define RC_SIZE 4096
struct rc_ent {
    char *path;
    unsigned gen;
    unsigned char layer, fake;
};
static struct rc_ent rc[RC_SIZE];
static pthread_mutex_t rc_lock = PTHREAD_MUTEX_INITIALIZER;

static int rc_get(const char *rel, unsigned gen, enum ovl_layer *layer,
                  int *fake)
{
    struct rc_ent *e = &rc[sfemu_str_hash(rel) % RC_SIZE];
    int hit = 0;
    pthread_mutex_lock(&rc_lock);
    if (e->path && e->gen == gen && !strcmp(e->path, rel)) {
        *layer = (enum ovl_layer)e->layer;
        *fake = e->fake;
        hit = 1;
    }
    pthread_mutex_unlock(&rc_lock);
    return hit;
}

static void rc_put(const char *rel, unsigned gen, enum ovl_layer layer,
                   int fake)
{
    struct rc_ent *e = &rc[sfemu_str_hash(rel) % RC_SIZE];
    pthread_mutex_lock(&rc_lock);
    if (!e->path || strcmp(e->path, rel)) {
        free(e->path);
        e->path = strdup(rel);
    }
    e->gen = gen;
    e->layer = (unsigned char)layer;
    e->fake = (unsigned char)fake;
    pthread_mutex_unlock(&rc_lock);
}

static int is_record(const char *rel)
{
    int r = fakefs_is_record_name(base_of(rel));
    if (r) {
        fake_dir_forget(S, rel);
    }
    return r;
}

/* The kernel insists that the reply to MKNOD has the requested file type.
 * For a device it gets that once (the mount is nodev: the node cannot be
 * opened); when the entry is next revalidated (--cache-timeout) the name
 * turns into the regular file the fake engine serves. */
static __thread mode_t mknod_type;

static int sf_getattr(const char *path, struct stat *st,
                      struct fuse_file_info *fi)
{
    const char *rel = op_rel(path, fi);
    if (!rel) {
        return -ENOENT;
    }
    struct ovl_ent e;
    if (mknod_type) {
        mode_t t = mknod_type;
        mknod_type = 0;
        int r = ovl_resolve(O, rel, &e);
        if (r < 0) {
            return r;
        }
        *st = e.st;
        st->st_mode = t | 0666;
        present(rel, st);
        st->st_mode = t | (st->st_mode & 07777);
        return 0;
    }
    if (fi && fi->fh && H(fi)->kind == H_REAL && H(fi)->fd >= 0) {
        if (fstat(H(fi)->fd, st) < 0) {
            return -errno;
        }
        present(rel, st);
        return 0;
    }
    int r = ovl_resolve(O, rel, &e);
    int f = fake_getattr(S, rel, r == 0 ? &e : NULL, st);
    if (f < 0) {
        return f;
    }
    if (f == 1) {
        return 0;
    }
    if (r < 0) {
        return r;
    }
    *st = e.st;
    if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
        st->st_mode = S_IFREG | (st->st_mode & 07777);
    }
    present(rel, st);
    return 0;
}

/* The firmware's own target of the symlink at rel (resolved as e), into
 * target[PATH_MAX]: length, or -errno. */
static ssize_t link_target(const char *rel, const struct ovl_ent *e,
                           char *target)
{
    const char *name;
    int pfd = ovl_parent_fd(ovl_layer_fd(O, e->layer), rel, &name);
    if (pfd < 0) {
        return pfd;
    }
    ssize_t n = readlinkat(pfd, name, target, PATH_MAX - 1);
    int err = errno;
    close(pfd);
    if (n < 0) {
        return -err;
    }
    target[n] = 0;
    return n;
}

static int sf_readlink(const char *path, char *buf, size_t size)
{
    const char *rel = rel_of(path);
    struct ovl_ent e;
    int r = ovl_resolve(O, rel, &e);
    if (r < 0) {
        return r;
    }
    if (!S_ISLNK(e.st.st_mode)) {
        return -EINVAL;
    }
    char target[PATH_MAX];
    ssize_t n = link_target(rel, &e, target);
    if (n < 0) {
        return (int)n;
    }
    if (S->symlinks_contained) {
        char out[PATH_MAX];
        r = contain_symlink(O, rel, target, out, sizeof out);
        if (r < 0) {
            return r;
        }
        snprintf(buf, size, "%s", out);
    } else {
        snprintf(buf, size, "%s", target);
    }
    return 0;
}

/* Common start of every create-like operation: the name must be free; get
 * the upper parent with the whiteout removed.  *had_wh tells whether a lower
 * entry was deleted before (a new directory must then be opaque). */
static int prepare_new(const char *rel, const char **name, int *had_wh)
{
    if (!strcmp(rel, ".")) {
        return -EEXIST;
    }
    if (ovl_is_hidden_name(base_of(rel))) {
        return -EPERM;
    }
    struct ovl_ent e;
    if (ovl_resolve(O, rel, &e) == 0) {
        return -EEXIST;
    }
    int pfd = ovl_upper_parent(O, rel, name);
    if (pfd < 0) {
        return pfd;
    }
    char wh[NAME_MAX + 8];
    struct stat st;
    snprintf(wh, sizeof wh, WH_PREFIX "%s", *name);
    *had_wh = fstatat(pfd, wh, &st, AT_SYMLINK_NOFOLLOW) == 0;
    int r = ovl_clear_whiteout(pfd, *name);
    if (r < 0) {
        close(pfd);
        return r;
    }
    return pfd;
}

static int do_mknod(const char *path, mode_t mode, dev_t rdev)
{
    const char *rel = rel_of(path), *name;
    int had_wh;
    int pfd = prepare_new(rel, &name, &had_wh);
    if (pfd < 0) {
        return pfd;
    }
    int r = 0;
    if (S_ISCHR(mode) || S_ISBLK(mode) || S_ISREG(mode)) {
        /* a device is an empty regular file plus a metadata record: it is
         * served by the fake engine ("dev"), never by the host */
        int fd = openat(pfd, name,
                        O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                        mode & 07777);
        if (fd < 0) {
            r = -errno;
        } else {
            close(fd);
        }
    } else if (S_ISFIFO(mode) || S_ISSOCK(mode)) {
        r = mknodat(pfd, name, mode, 0) < 0 ? -errno : 0;
    } else {
        r = -EINVAL;
    }
    close(pfd);
    if (r == 0 && is_record(rel)) {
        fake_record_touched(S, rel, 1);
    }
    if (r == 0) {
        int dev = S_ISCHR(mode) || S_ISBLK(mode);
        r = own_new(rel, dev ? mode : 0, dev ? rdev : 0);
        if (r < 0) {
            return undo_new(rel, r, 0);
        }
        if (dev) {
            mknod_type = mode & S_IFMT;
        }
    }
    return r;
}

static int do_mkdir(const char *path, mode_t mode)
{
    const char *rel = rel_of(path), *name;
    int had_wh;
    int pfd = prepare_new(rel, &name, &had_wh);
    if (pfd < 0) {
        return pfd;
    }
    int r = mkdirat(pfd, name, (mode & 07777) | 0700) < 0 ? -errno : 0;
    if (r == 0 && had_wh) {
        int dfd =
            openat(pfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int fd = dfd >= 0 ? openat(dfd, WH_OPAQUE,
                                   O_WRONLY | O_CREAT | O_CLOEXEC, 0600)
                          : -1;
        if (fd >= 0) {
            close(fd);
        } else {
            r = -EIO;
        }
        if (dfd >= 0) {
            close(dfd);
        }
    }
    if (r == 0 && fchmodat(pfd, name, mode & 07777, 0) < 0) {
        r = -errno;
    }
    close(pfd);
    if (r == 0 && (r = own_new(rel, 0, 0)) < 0) {
        return undo_new(rel, r, AT_REMOVEDIR);
    }
    return r;
}

/* Remove rel's visible entry: the upper one, and a whiteout for the lower. */
static int remove_entry(const char *rel, const struct ovl_ent *e)
{
    if (e->layer == OVL_UPPER) {
        const char *name;
        int pfd = ovl_parent_fd(O->upper_fd, rel, &name);
        if (pfd < 0) {
            return pfd;
        }
        int r = unlinkat(pfd, name, 0) < 0 ? -errno : 0;
        close(pfd);
        if (r < 0) {
            return r;
        }
    }
    if (e->lower_visible) {
        int r = ovl_whiteout(O, rel);
        if (r < 0) {
            return r;
        }
    }
    meta_del(O->meta, rel);
    return 0;
}

static int do_unlink(const char *path)
{
    const char *rel = rel_of(path);
    struct ovl_ent e, re;
    char recrel[PATH_MAX];
    snprintf(recrel, sizeof recrel, "%s" FAKEFS_SUFFIX, rel);
    int has_rec = !is_record(rel) && ovl_resolve(O, recrel, &re) == 0;
    int r = ovl_resolve(O, rel, &e);
    if (r < 0 && !has_rec) {
        return r;
    }
    if (r == 0) {
        if (S_ISDIR(e.st.st_mode)) {
            return -EISDIR;
        }
        pthread_mutex_lock(&O->copy_lock);
        r = remove_entry(rel, &e);
        pthread_mutex_unlock(&O->copy_lock);
        if (r < 0) {
            return r;
        }
    }
    if (has_rec) {
        /* deleting a fake resource deletes its record: it is gone */
        pthread_mutex_lock(&O->copy_lock);
        r = remove_entry(recrel, &re);
        pthread_mutex_unlock(&O->copy_lock);
        fake_record_touched(S, recrel, 1);
    }
    if (is_record(rel)) {
        fake_record_touched(S, rel, 1);
    }
    return r;
}

static int do_rmdir(const char *path)
{
    const char *rel = rel_of(path);
    struct ovl_ent e;
    int r = ovl_resolve(O, rel, &e);
    if (r < 0) {
        return r;
    }
    if (!S_ISDIR(e.st.st_mode)) {
        return -ENOTDIR;
    }
    if (!strcmp(rel, ".")) {
        return -EBUSY;
    }
    pthread_mutex_lock(&O->copy_lock);
    r = ovl_dir_empty(O, rel, &e);
    if (r == 0) {
        r = -ENOTEMPTY;
    }
    if (r > 0) {
        r = 0;
        if (e.layer == OVL_UPPER) {
            r = ovl_remove_upper_dir(O, rel);
        }
        if (r == 0 && e.lower_visible) {
            r = ovl_whiteout(O, rel);
        }
        if (r == 0) {
            meta_del(O->meta, rel);
        }
    }
    pthread_mutex_unlock(&O->copy_lock);
    return r;
}

static int do_symlink(const char *target, const char *path)
{
    const char *rel = rel_of(path), *name;
    int had_wh;
    int pfd = prepare_new(rel, &name, &had_wh);
    if (pfd < 0) {
        return pfd;
    }
    int r = symlinkat(target, pfd, name) < 0 ? -errno : 0;
    close(pfd);
    if (r == 0 && (r = own_new(rel, 0, 0)) < 0) {
        return undo_new(rel, r, 0);
    }
    return r;
}

static int do_rename(const char *from, const char *to, unsigned int flags)
{
    const char *rf = rel_of(from), *rt = rel_of(to);
    if (flags & ~RENAME_NOREPLACE) {
        return -EINVAL;
    }
    if (ovl_is_hidden_name(base_of(rt))) {
        return -EPERM;
    }
    struct ovl_ent ef, et;
    int r = ovl_resolve(O, rf, &ef);
    if (r < 0) {
        return r == -ENOENT ? -EXDEV : r; /* a record-only fake: let mv copy */
    }
    int to_exists = ovl_resolve(O, rt, &et) == 0;
    int from_dir = S_ISDIR(ef.st.st_mode);
    if (from_dir && ef.lower_visible) {
        return -EXDEV; /* like overlayfs without redirect_dir: mv copies */
    }
    if (to_exists) {
        if (flags & RENAME_NOREPLACE) {
            return -EEXIST;
        }
        if (S_ISDIR(et.st.st_mode)) {
            if (!from_dir) {
                return -EISDIR;
            }
            r = ovl_dir_empty(O, rt, &et);
            if (r <= 0) {
                return r ? r : -ENOTEMPTY;
            }
        } else if (from_dir) {
            return -ENOTDIR;
        }
    }
    r = ovl_copy_up(O, rf, &ef);
    if (r < 0) {
        return r;
    }
    pthread_mutex_lock(&O->copy_lock);
    const char *nf, *nt;
    int pf = ovl_parent_fd(O->upper_fd, rf, &nf);
    int pt = pf >= 0 ? ovl_upper_parent(O, rt, &nt) : -1;
    if (pf < 0 || pt < 0) {
        r = pf < 0 ? pf : pt;
        goto out;
    }
    ovl_clear_whiteout(pt, nt);
    if (to_exists && S_ISDIR(et.st.st_mode) && et.layer == OVL_UPPER) {
        r = ovl_remove_upper_dir(O, rt);
        if (r < 0) {
            goto out;
        }
    }
    if (renameat(pf, nf, pt, nt) < 0) {
        r = -errno;
        goto out;
    }
    r = meta_rename(O->meta, rf, rt);
    if (r < 0) {
        /* the owners and modes could not follow: take the rename back */
        renameat(pt, nt, pf, nf);
        goto out;
    }
    if (ef.lower_visible || ef.layer == OVL_LOWER) {
        ovl_whiteout(O, rf);
    }
    if (from_dir && to_exists && et.lower_visible) {
        int dfd = openat(pt, nt, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int fd = dfd >= 0 ? openat(dfd, WH_OPAQUE,
                                   O_WRONLY | O_CREAT | O_CLOEXEC, 0600)
                          : -1;
        if (fd >= 0) {
            close(fd);
        }
        if (dfd >= 0) {
            close(dfd);
        }
    }
    if (from_dir) {
        fake_dir_forget(S, NULL);
    }
    r = 0;
out:
    if (pf >= 0) {
        close(pf);
    }
    if (pt >= 0) {
        close(pt);
    }
    pthread_mutex_unlock(&O->copy_lock);
    if (r == 0) {
        if (is_record(rf)) {
            fake_record_touched(S, rf, 1);
        }
        if (is_record(rt)) {
            fake_record_touched(S, rt, 1);
        }
    }
    return r;
}

static int do_link(const char *from, const char *to)
{
    const char *rf = rel_of(from), *rt = rel_of(to), *nf, *nt;
    struct ovl_ent ef;
    int r = ovl_resolve(O, rf, &ef);
    if (r < 0) {
        return r;
    }
    if (S_ISDIR(ef.st.st_mode)) {
        return -EPERM;
    }
    r = ovl_copy_up(O, rf, &ef);
    if (r < 0) {
        return r;
    }
    int had_wh;
    int pt = prepare_new(rt, &nt, &had_wh);
    if (pt < 0) {
        return pt;
    }
    int pf = ovl_parent_fd(O->upper_fd, rf, &nf);
    r = pf < 0 ? pf : (linkat(pf, nf, pt, nt, 0) < 0 ? -errno : 0);
    if (pf >= 0) {
        close(pf);
    }
    close(pt);
    if (r == 0) {
        r = meta_link(O->meta, rf, rt);
        if (r < 0) {
            return undo_new(rt, r, 0);
        }
        if (is_record(rt)) {
            fake_record_touched(S, rt, 1);
        }
    }
    return r;
}

/* The metadata record of an existing path (real or fake), for chmod/chown:
 * 0 with *rel and *m set (m defaults to "nothing recorded"), or -errno. */
static int meta_for_change(const char *path, struct fuse_file_info *fi,
                           const char **rel, struct meta_rec *m)
{
    struct ovl_ent e;
    struct stat st;
    *rel = op_rel(path, fi);
    if (!*rel) {
        return -ENOENT;
    }
    if (ovl_resolve(O, *rel, &e) < 0 && fake_getattr(S, *rel, NULL, &st) != 1) {
        return -ENOENT;
    }
    if (!meta_get(O->meta, *rel, m)) {
        *m = (struct meta_rec){ -1, -1, -1, -1 };
    }
    return 0;
}

static int sf_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    const char *rel;
    struct meta_rec m;
    int rc = meta_for_change(path, fi, &rel, &m);
    if (rc < 0) {
        return rc;
    }
    mode_t type = m.mode >= 0 ? ((mode_t)m.mode & S_IFMT) : 0;
    m.mode = (long)(type | (mode & 07777));
    return meta_set(O->meta, rel, &m);
}

static int sf_chown(const char *path, uid_t uid, gid_t gid,
                    struct fuse_file_info *fi)
{
    const char *rel;
    struct meta_rec m;
    int rc = meta_for_change(path, fi, &rel, &m);
    if (rc < 0) {
        return rc;
    }
    if (uid != (uid_t)-1) {
        m.uid = (long)uid;
    }
    if (gid != (gid_t)-1) {
        m.gid = (long)gid;
    }
    return meta_set(O->meta, rel, &m);
}

static int is_fake(const char *rel, const struct ovl_ent *e, int have)
{
    struct stat st;
    return fake_getattr(S, rel, have ? e : NULL, &st) == 1;
}

static int sf_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    const char *rel = op_rel(path, fi);
    if (!rel) {
        return -ENOENT;
    }
    if (fi && fi->fh && H(fi)->kind != H_FAKE && H(fi)->fd >= 0) {
        int r = ftruncate(H(fi)->fd, size) < 0 ? -errno : 0;
        if (r == 0 && H(fi)->kind == H_RECORD) {
            fake_record_touched(S, rel, 0);
        }
        return r;
    }
    struct ovl_ent e;
    int have = ovl_resolve(O, rel, &e) == 0;
    if ((fi && fi->fh && H(fi)->kind == H_FAKE) || is_fake(rel, &e, have)) {
        if (!S->fake) {
            return 0;
        }
        char g[PATH_MAX + 1];
        guest_of(rel, g, sizeof g);
        struct fakefs_caller c = caller();
        return fakefs_truncate(S->fake, g, size, &c);
    }
    if (!have) {
        return -ENOENT;
    }
    if (e.layer == OVL_LOWER && pt_busy(rel)) {
        return pt_refuse(rel);
    }
    int r = ovl_copy_up(O, rel, &e);
    if (r < 0) {
        return r;
    }
    int fd = ovl_layer_open(O->upper_fd, rel, O_WRONLY, 0);
    if (fd < 0) {
        return fd;
    }
    r = ftruncate(fd, size) < 0 ? -errno : 0;
    close(fd);
    if (r == 0 && is_record(rel)) {
        fake_record_touched(S, rel, 0);
    }
    return r;
}

/* Open handles, so that those whose RELEASE never arrives (the session
 * ended first) are still freed at shutdown. */
static struct handle handles = { &handles, &handles, -1, H_REAL, NULL };
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;

static void handle_free(struct handle *h)
{
    pthread_mutex_lock(&handles_lock);
    h->prev->next = h->next;
    h->next->prev = h->prev;
    pthread_mutex_unlock(&handles_lock);
    pt_release(h->pt);
    if (h->fd >= 0) {
        close(h->fd);
    }
    free(h);
}

void ops_free_handles(void)
{
    while (handles.next != &handles) {
        handle_free(handles.next);
    }
}

/* gen: ovl_gen() from before rel was resolved (see pt_open()). */
static int new_handle(struct fuse_file_info *fi, int fd, enum hkind kind,
                      const char *rel, unsigned gen)
{
    size_t n = strlen(rel) + 1;
    struct pt_backing *pt = NULL;
    struct handle *h = malloc(sizeof *h + n);
    int r = h ? 0 : -ENOMEM;
    if (!r && kind == H_REAL && fd >= 0) {
        r = pt_open(rel, fd, gen, fi, &pt);
    }
    if (r < 0) {
        free(h);
        if (fd >= 0) {
            close(fd);
        }
        return r;
    }
    memcpy(h->rel, rel, n);
    h->fd = fd;
    h->kind = kind;
    h->pt = pt;
    pthread_mutex_lock(&handles_lock);
    h->next = handles.next;
    h->prev = &handles;
    handles.next->prev = h;
    handles.next = h;
    pthread_mutex_unlock(&handles_lock);
    fi->fh = (uint64_t)(uintptr_t)h;
    if (kind != H_REAL) {
        /* fakes come from a state machine, records are rewritten by the
         * engine behind the kernel's back */
        fi->direct_io = 1;
        fi->keep_cache = 0;
    } else if (fd >= 0 && !pt) {
        fi->keep_cache = 1; /* passthrough off (pt_open() decides otherwise) */
    }
    return 0;
}

static int sf_open(const char *path, struct fuse_file_info *fi)
{
    const char *rel = rel_of(path);
    struct ovl_ent e;
    int fake, have;
    unsigned gen = ovl_gen(O);
    if (rc_get(rel, gen, &e.layer, &fake)) {
        have = e.layer != OVL_NONE;
    } else {
        have = ovl_resolve(O, rel, &e) == 0;
        if (!have) {
            e.layer = OVL_NONE;
        }
        fake = is_fake(rel, &e, have);
        if (have || fake) {
            rc_put(rel, gen, e.layer, fake);
        }
    }
    if (fake) {
        if (S->fake) {
            char g[PATH_MAX + 1];
            guest_of(rel, g, sizeof g);
            struct fakefs_caller c = caller();
            int r = fakefs_open(S->fake, g, fi->flags, &c);
            if (r < 0) {
                return r;
            }
        }
        return new_handle(fi, -1, H_FAKE, rel, gen);
    }
    if (!have) {
        return -ENOENT;
    }
    int flags = fi->flags & OVL_OPEN_FLAGS;
    int wr = pt_open_writes(flags);
    if (wr && e.layer == OVL_LOWER) {
        if (pt_busy(rel)) {
            return pt_refuse(rel);
        }
        int r = ovl_copy_up(O, rel, &e); /* re-resolves under its lock */
        if (r < 0) {
            return r;
        }
        e.layer = OVL_UPPER;
    }
    int fd = ovl_layer_open(ovl_layer_fd(O, e.layer), rel, flags, 0);
    if (fd < 0) {
        return fd;
    }
    return new_handle(fi, fd, is_record(rel) ? H_RECORD : H_REAL, rel, gen);
}

static int do_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    const char *rel = rel_of(path), *name;
    int had_wh;
    unsigned gen = ovl_gen(O); /* sf_create bumps it afterwards */
    int pfd = prepare_new(rel, &name, &had_wh);
    if (pfd < 0) {
        return pfd;
    }
    int fd =
        openat(pfd, name,
               (fi->flags & OVL_OPEN_FLAGS) | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
               mode & 07777);
    int err = errno;
    close(pfd);
    if (fd < 0) {
        return -err;
    }
    int r = own_new(rel, 0, 0);
    if (r < 0) {
        close(fd);
        return undo_new(rel, r, 0);
    }
    int rec = is_record(rel);
    if (rec) {
        fake_record_touched(S, rel, 1);
    }
    return new_handle(fi, fd, rec ? H_RECORD : H_REAL, rel, gen);
}

static int sf_read_buf(const char *path, struct fuse_bufvec **bufp, size_t size,
                       off_t off, struct fuse_file_info *fi)
{
    (void)path;
    struct handle *h = H(fi);
    struct fuse_bufvec *bv = malloc(sizeof *bv);
    if (!bv) {
        return -ENOMEM;
    }
    *bv = FUSE_BUFVEC_INIT(size);
    if (h->kind != H_FAKE) {
        bv->buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
        bv->buf[0].fd = h->fd;
        bv->buf[0].pos = off;
        *bufp = bv;
        return 0;
    }
    char *mem = malloc(size ? size : 1);
    if (!mem) {
        free(bv);
        return -ENOMEM;
    }
    ssize_t n = 0;
    if (S->fake) {
        char g[PATH_MAX + 1];
        guest_of(h->rel, g, sizeof g);
        struct fakefs_caller c = caller();
        n = fakefs_read(S->fake, g, mem, size, off, &c);
    }
    if (n < 0) {
        free(mem);
        free(bv);
        return (int)n;
    }
    bv->buf[0].mem = mem;
    bv->buf[0].size = (size_t)n;
    *bufp = bv; /* libfuse frees bv and its memory buffers */
    return 0;
}

static int sf_write_buf(const char *path, struct fuse_bufvec *buf, off_t off,
                        struct fuse_file_info *fi)
{
    (void)path;
    struct handle *h = H(fi);
    size_t size = fuse_buf_size(buf);
    if (h->kind != H_FAKE) {
        struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);
        dst.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
        dst.buf[0].fd = h->fd;
        dst.buf[0].pos = off;
        return (int)fuse_buf_copy(&dst, buf, FUSE_BUF_SPLICE_NONBLOCK);
    }
    if (!S->fake) {
        return (int)size;
    }
    char *mem = malloc(size ? size : 1);
    if (!mem) {
        return -ENOMEM;
    }
    struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);
    dst.buf[0].mem = mem;
    ssize_t got = fuse_buf_copy(&dst, buf, 0);
    if (got < 0) {
        free(mem);
        return (int)got;
    }
    char g[PATH_MAX + 1];
    guest_of(h->rel, g, sizeof g);
    struct fakefs_caller c = caller();
    ssize_t n = fakefs_write(S->fake, g, mem, (size_t)got, off, &c);
    free(mem);
    return (int)n;
}

static int sf_statfs(const char *path, struct statvfs *sv)
{
    (void)path;
    int fd = openat(O->upper_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    int r = fstatvfs(fd, sv) < 0 ? -errno : 0;
    close(fd);
    return r;
}

static int sf_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    struct handle *h = H(fi);
    if (h->kind == H_FAKE && S->fake) {
        char g[PATH_MAX + 1];
        guest_of(h->rel, g, sizeof g);
        struct fakefs_caller c = caller();
        fakefs_close(S->fake, g, &c);
    }
    if (h->kind == H_RECORD) {
        fake_record_touched(S, h->rel, 0);
    }
    handle_free(h);
    return 0;
}

static int sf_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)path;
    struct handle *h = H(fi);
    if (h->fd < 0) {
        return 0;
    }
    return (datasync ? fdatasync(h->fd) : fsync(h->fd)) < 0 ? -errno : 0;
}

static int sf_opendir(const char *path, struct fuse_file_info *fi)
{
    return new_handle(fi, -1, H_REAL, rel_of(path), 0);
}

static int sf_releasedir(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    handle_free(H(fi));
    return 0;
}

static int sf_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
                      off_t off, struct fuse_file_info *fi,
                      enum fuse_readdir_flags flags)
{
    (void)off;
    (void)flags;
    const char *rel = op_rel(path, fi);
    if (!rel) {
        return -ENOENT;
    }
    struct ovl_ent e;
    int r = ovl_resolve(O, rel, &e);
    if (r < 0) {
        return r;
    }
    if (!S_ISDIR(e.st.st_mode)) {
        return -ENOTDIR;
    }
    struct ovl_dir d;
    r = ovl_list(O, rel, &e, &d);
    if (r < 0) {
        return r;
    }
    struct stat st = { .st_mode = S_IFDIR };
    filler(buf, ".", &st, 0, 0);
    filler(buf, "..", &st, 0, 0);
    for (size_t i = 0; i < d.n; i++) {
        memset(&st, 0, sizeof st);
        st.st_mode = (mode_t)DTTOIF(d.v[i].type);
        if (filler(buf, d.v[i].name, &st, 0, 0)) {
            break;
        }
    }
    ovl_dir_free(&d);
    return 0;
}

static int sf_utimens(const char *path, const struct timespec tv[2],
                      struct fuse_file_info *fi)
{
    (void)fi;
    const char *rel = op_rel(path, fi);
    if (!rel) {
        return -ENOENT;
    }
    struct ovl_ent e;
    int have = ovl_resolve(O, rel, &e) == 0;
    if (is_fake(rel, &e, have)) {
        return 0;
    }
    if (!have) {
        return -ENOENT;
    }
    int r = ovl_copy_up(O, rel, &e);
    if (r < 0) {
        return r;
    }
    if (!strcmp(rel, ".")) {
        return utimensat(O->upper_fd, ".", tv, 0) < 0 ? -errno : 0;
    }
    const char *name;
    int pfd = ovl_parent_fd(O->upper_fd, rel, &name);
    if (pfd < 0) {
        return pfd;
    }
    r = utimensat(pfd, name, tv, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
    close(pfd);
    return r;
}

static int sf_access(const char *path, int mask)
{
    (void)mask;
    struct stat st;
    return sf_getattr(path, &st, NULL);
}

static int sf_ioctl(const char *path, unsigned int cmd, void *arg,
                    struct fuse_file_info *fi, unsigned int flags, void *data)
{
    (void)arg;
    (void)flags;
    (void)path;
    struct handle *h = H(fi);
    if (h->kind != H_FAKE) {
        return -ENOTTY;
    }
    if (!S->fake) {
        return 0;
    }
    size_t sz = _IOC_SIZE(cmd);
    const void *in = (_IOC_DIR(cmd) & _IOC_WRITE) ? data : NULL;
    void *out = (_IOC_DIR(cmd) & _IOC_READ) ? data : NULL;
    char g[PATH_MAX + 1];
    guest_of(h->rel, g, sizeof g);
    struct fakefs_caller c = caller();
    size_t outlen = 0;
    return fakefs_ioctl(S->fake, g, cmd, in, in ? sz : 0, out, out ? sz : 0,
                        &outlen, &c);
}

static int sf_getxattr(const char *path, const char *name, char *value,
                       size_t size)
{
    const char *rel = rel_of(path);
    struct ovl_ent e;
    char v[PATH_MAX];
    int r = ovl_resolve(O, rel, &e);
    if (!strcmp(name, XATTR_SYMLINK)) {
        if (r < 0) {
            return r;
        }
        if (!S_ISLNK(e.st.st_mode)) {
            return -ENODATA;
        }
        ssize_t l = link_target(rel, &e, v);
        if (l < 0) {
            return (int)l;
        }
    } else if (!strcmp(name, XATTR_LAYER)) {
        if (r < 0 || is_fake(rel, &e, r == 0)) {
            snprintf(v, sizeof v, "fake");
        } else {
            snprintf(v, sizeof v, "%s",
                     e.layer == OVL_UPPER ? "upper" : "lower");
        }
    } else {
        return -ENODATA;
    }
    size_t len = strlen(v);
    if (!size) {
        return (int)len;
    }
    if (size < len) {
        return -ERANGE;
    }
    memcpy(value, v, len);
    return (int)len;
}

static int sf_listxattr(const char *path, char *list, size_t size)
{
    (void)path;
    (void)list;
    (void)size;
    return 0;
}

static int sf_setxattr(const char *path, const char *name, const char *value,
                       size_t size, int flags)
{
    (void)path;
    (void)name;
    (void)value;
    (void)size;
    (void)flags;
    return -ENOTSUP;
}

static int sf_removexattr(const char *path, const char *name)
{
    (void)path;
    (void)name;
    return -ENOTSUP;
}

static int sf_fallocate(const char *path, int mode, off_t off, off_t len,
                        struct fuse_file_info *fi)
{
    (void)path;
    struct handle *h = H(fi);
    if (h->fd < 0) {
        return -EOPNOTSUPP;
    }
    return fallocate(h->fd, mode, off, len) < 0 ? -errno : 0;
}

/* Namespace changes: run, then void the cached resolutions. */
static int sf_mknod(const char *p, mode_t m, dev_t d)
{
    int r = do_mknod(p, m, d);
    ovl_changed(O);
    return r;
}
static int sf_mkdir(const char *p, mode_t m)
{
    int r = do_mkdir(p, m);
    ovl_changed(O);
    return r;
}
static int sf_unlink(const char *p)
{
    int r = do_unlink(p);
    ovl_changed(O);
    if (r == 0) {
        pt_removed(rel_of(p));
    }
    return r;
}
static int sf_rmdir(const char *p)
{
    int r = do_rmdir(p);
    ovl_changed(O);
    return r;
}
static int sf_symlink(const char *t, const char *p)
{
    int r = do_symlink(t, p);
    ovl_changed(O);
    return r;
}
static int sf_rename(const char *f, const char *t, unsigned int fl)
{
    int r = do_rename(f, t, fl);
    ovl_changed(O);
    if (r == 0) {
        pt_renamed(rel_of(f), rel_of(t));
    }
    return r;
}
static int sf_link(const char *f, const char *t)
{
    int r = do_link(f, t);
    ovl_changed(O);
    return r;
}
static int sf_create(const char *p, mode_t m, struct fuse_file_info *fi)
{
    int r = do_create(p, m, fi);
    ovl_changed(O);
    return r;
}

static void *sf_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    /* not cfg->kernel_cache: new_handle() keeps the page cache of real
     * files that are not passed through */
    cfg->entry_timeout = sfemu_g->cache_timeout;
    cfg->attr_timeout = sfemu_g->cache_timeout;
    /* Negative entries may be cached only if the kernel can be told that
     * "<x>" appeared when "<x>.fakefile" was created (FUSE_NOTIFY_INC_EPOCH,
     * protocol 7.44): libfuse's high-level API has no parent node ids for
     * FUSE_NOTIFY_INVAL_ENTRY. */
    sfemu_g->epoch_ok = conn->proto_major > 7 ||
                        (conn->proto_major == 7 && conn->proto_minor >= 44);
    cfg->negative_timeout = sfemu_g->epoch_ok ? sfemu_g->cache_timeout : 0;
    log_msg("kernel FUSE %u.%u: negative entries %s", conn->proto_major,
            conn->proto_minor,
            sfemu_g->epoch_ok ? "cached (FUSE_NOTIFY_INC_EPOCH)"
                              : "not cached");
    cfg->hard_remove = 1; /* handles are fds: no .fuse_hidden files */
    cfg->use_ino = 0;
    cfg->nullpath_ok = 1; /* no path lookups for read/write/release */
    /* read replies from fds are spliced: 2.5x faster first reads here
     * (SPLICE_MOVE brought nothing measurable on top) */
    fuse_set_feature_flag(conn, FUSE_CAP_SPLICE_WRITE);
    fuse_unset_feature_flag(conn, FUSE_CAP_WRITEBACK_CACHE);
    /* Every change to real files goes through the mount (the kernel sees
     * it), fake files use direct I/O: no need to revalidate attributes on
     * every read (auto_inval_data), which costs on each read(2). */
    fuse_unset_feature_flag(conn, FUSE_CAP_AUTO_INVAL_DATA);
    pt_init(conn, sfemu_g->passthrough, sfemu_g->backing_depth);
    log_msg("passthrough %s", pt_state());
    return sfemu_g;
}

const struct fuse_operations sfemu_ops = {
    .init = sf_init,
    .getattr = sf_getattr,
    .readlink = sf_readlink,
    .mknod = sf_mknod,
    .mkdir = sf_mkdir,
    .unlink = sf_unlink,
    .rmdir = sf_rmdir,
    .symlink = sf_symlink,
    .rename = sf_rename,
    .link = sf_link,
    .chmod = sf_chmod,
    .chown = sf_chown,
    .truncate = sf_truncate,
    .open = sf_open,
    .create = sf_create,
    .read_buf = sf_read_buf,
    .write_buf = sf_write_buf,
    .statfs = sf_statfs,
    /* no .flush: the kernel then stops sending FLUSH (one round trip less
     * per close); records are re-read on release */
    .release = sf_release,
    .fsync = sf_fsync,
    .opendir = sf_opendir,
    .readdir = sf_readdir,
    .releasedir = sf_releasedir,
    .utimens = sf_utimens,
    .access = sf_access,
    .ioctl = sf_ioctl,
    .getxattr = sf_getxattr,
    .listxattr = sf_listxattr,
    .setxattr = sf_setxattr,
    .removexattr = sf_removexattr,
    .fallocate = sf_fallocate,
};
