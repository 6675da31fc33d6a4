/*
 * The FUSE front end (libfuse's low-level API): each request names inodes
 * (inode.c); namespace operations go to the overlay (overlay.c), fake
 * resources to the fake seam (fake_ops.c) on a worker thread (workers.c),
 * real files to their backing descriptors (passthrough or the page cache).
 * Handlers switch on the handle's kind.  Errors are -errno until the reply.
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
#include "fake_ops.h"
#include "passthrough.h"
#include "sfemu_mount.h"

#define XATTR_SYMLINK "security.sfemu.symlink"
#define XATTR_LAYER "security.sfemu.layer"

enum hkind { H_REAL, H_RECORD, H_FAKE, H_DIR };

struct handle {
    struct handle *prev, *next; /* all open handles (freed at shutdown) */
    enum hkind kind;
    int fd;
    int pt;             /* counted by pt_open() */
    struct inode *node; /* referenced */
    char *guest;        /* fake: the resource's guest path at open */
    struct ovl_dir dir; /* directory: the listing */
    int listed;
};

static struct handle handles = { &handles, &handles, H_REAL, -1, 0,
                                 NULL,     NULL,     { 0 },  0 };
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;

static struct handle *handle_of(struct fuse_file_info *fi)
{
    return (struct handle *)(uintptr_t)fi->fh;
}

static struct handle *handle_new(enum hkind kind, int fd, struct inode *node)
{
    struct handle *h = calloc(1, sizeof *h);
    if (!h) {
        return NULL;
    }
    h->kind = kind;
    h->fd = fd;
    h->node = node;
    ino_ref(node);
    pthread_mutex_lock(&handles_lock);
    h->next = handles.next;
    h->prev = &handles;
    handles.next->prev = h;
    handles.next = h;
    pthread_mutex_unlock(&handles_lock);
    return h;
}

static void handle_free(struct handle *h)
{
    pthread_mutex_lock(&handles_lock);
    h->prev->next = h->next;
    h->next->prev = h->prev;
    pthread_mutex_unlock(&handles_lock);
    if (h->pt) {
        pt_release(h->node);
    }
    if (h->fd >= 0) {
        close(h->fd);
    }
    ovl_dir_free(&h->dir);
    free(h->guest);
    ino_unref(h->node);
    free(h);
}

void ops_free_handles(void)
{
    while (handles.next != &handles) {
        handle_free(handles.next);
    }
}

static struct fakefs_caller caller(fuse_req_t req)
{
    struct fakefs_caller c = { .pid = fuse_req_ctx(req)->pid,
                               .fd = -1,
                               .side = "fuse" };
    return c;
}

static struct ovl_owner owner(fuse_req_t req)
{
    const struct fuse_ctx *c = fuse_req_ctx(req);
    struct ovl_owner w = { c->uid, c->gid };
    return w;
}

/* ino with one bit flipped: bit small while ino is below 2^30, so the
 * number stays below 2^32 (a 32-bit guest's stat() fails with EOVERFLOW
 * past that), else bit big. */
static ino_t tag_ino(ino_t ino, int small, int big)
{
    return ino ^ ((ino_t)1 << (ino < ((ino_t)1 << 30) ? small : big));
}

/* st_ino as the mount shows it: a fake resource is not its record, and
 * lower and upper inode numbers do not collide on different filesystems. */
static void show_ino(struct inode *i, struct stat *st)
{
    if (i->fake) {
        st->st_ino = tag_ino(st->st_ino, 30, 62);
    } else if (sfemu_g->split_devs && st->st_dev == sfemu_g->lower_dev) {
        st->st_ino = tag_ino(st->st_ino, 31, 63);
    }
}

static int real_attr(struct inode *i, int fd, struct stat *st)
{
    int r = ovl_getattr(&sfemu_g->ovl, i, fd, st);
    if (!r) {
        show_ino(i, st);
    }
    return r;
}

static void reply_entry(fuse_req_t req, struct inode *i, const struct stat *st)
{
    struct fuse_entry_param e = { .ino = ino_id(i),
                                  .attr = *st,
                                  .attr_timeout = sfemu_g->cache_timeout,
                                  .entry_timeout = sfemu_g->cache_timeout };
    if (fuse_reply_entry(req, &e) == -ENOENT) {
        ino_forget(i, 1); /* the request was interrupted */
    }
}

/* Turn a looked-up or created real entry into an inode (fds taken over)
 * and its attributes; NULL with *err. */
static struct inode *learn(struct inode *dir, const char *name,
                           struct ovl_ent *e, struct stat *st, int *err)
{
    struct ino_key k = ovl_key(e, dir, name, 0);
    struct inode *i = ino_learn(dir, name, &k, e->st.st_mode,
                                e->layer == OVL_UPPER, e->ufd, e->lfd);
    e->ufd = e->lfd = -1;
    if (!i) {
        *err = -ENOMEM;
        return NULL;
    }
    *err = real_attr(i, -1, st);
    if (*err < 0) {
        ino_forget(i, 1);
        return NULL;
    }
    i->type = st->st_mode & S_IFMT; /* a device over its placeholder */
    if (fakefs_is_record_name(name)) {
        i->record = 1;
        char *g = fake_guest_child(dir, name);
        if (g) {
            fake_track(sfemu_g, g, i);
            free(g);
        }
    }
    return i;
}

static void close_ent(struct ovl_ent *e)
{
    if (e->ufd >= 0) {
        close(e->ufd);
    }
    if (e->lfd >= 0) {
        close(e->lfd);
    }
}

/* ------------------------------------------------------------ fake jobs */

/* A request about a fake resource, run on a worker (workers.c). */
enum fop {
    F_LOOKUP,
    F_GETATTR,
    F_SETATTR,
    F_OPEN,
    F_READ,
    F_WRITE,
    F_IOCTL,
    F_RELEASE
};

struct fjob {
    enum fop op;
    fuse_req_t req;
    struct inode *node; /* referenced (not for F_LOOKUP) */
    struct inode *dir;  /* F_LOOKUP: referenced */
    char *name;         /* F_LOOKUP */
    struct ovl_ent ent; /* F_LOOKUP: the name's real entry (fds), if any */
    struct stat recst;  /* F_LOOKUP: its record's stat */
    struct handle *h;   /* F_READ, F_WRITE, F_IOCTL, F_RELEASE */
    struct fuse_file_info fi;
    struct stat attr; /* F_SETATTR */
    int valid;
    size_t size; /* F_READ, F_IOCTL out */
    off_t off;
    void *buf; /* F_WRITE data, F_IOCTL argument */
    size_t buflen;
    unsigned cmd;
    char *guest;
};

static void fjob_free(struct fjob *j)
{
    if (j->node) {
        ino_unref(j->node);
    }
    if (j->dir) {
        ino_unref(j->dir);
    }
    close_ent(&j->ent);
    free(j->name);
    free(j->buf);
    free(j->guest);
    free(j);
}

static void fake_reply_attr(fuse_req_t req, struct inode *i)
{
    struct stat st;
    int r = fake_stat(sfemu_g, i, &st);
    if (r < 0) {
        fuse_reply_err(req, -r);
        return;
    }
    show_ino(i, &st);
    fuse_reply_attr(req, &st, sfemu_g->cache_timeout);
}

static void fjob_lookup(struct fjob *j)
{
    struct ovl_ent *e = &j->ent;
    /* over the name's own file, or else its record */
    const struct stat *ks = e->layer ? &e->st : &j->recst;
    struct ino_key k = { ks->st_dev, ks->st_ino, 0, 1 };
    struct inode *i =
        ino_learn(j->dir, j->name, &k, S_IFREG,
                  e->layer ? e->layer == OVL_UPPER : 1, e->ufd, e->lfd);
    e->ufd = e->lfd = -1;
    if (!i) {
        fuse_reply_err(j->req, ENOMEM);
        return;
    }
    struct stat st;
    int r = fake_stat(sfemu_g, i, &st);
    if (r < 0) {
        ino_forget(i, 1);
        fuse_reply_err(j->req, -r);
        return;
    }
    i->type = st.st_mode & S_IFMT;
    if (j->guest) {
        fake_track(sfemu_g, j->guest, i);
    }
    show_ino(i, &st);
    reply_entry(j->req, i, &st);
}

static void fjob_run(void *arg, int cancelled)
{
    struct fjob *j = arg;
    if (cancelled) {
        fuse_reply_err(j->req, EINTR);
        if (j->op == F_RELEASE) {
            handle_free(j->h);
        }
        fjob_free(j);
        return;
    }
    struct fakefs_call c = { .path = j->h ? j->h->guest : j->guest,
                             .who = caller(j->req) };
    long r;
    switch (j->op) {
    case F_LOOKUP: fjob_lookup(j); break;
    case F_GETATTR: fake_reply_attr(j->req, j->node); break;
    case F_SETATTR:
        r = 0;
        if (j->valid &
            (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
            r = ovl_chmeta(
                &sfemu_g->ovl, j->node,
                j->valid & FUSE_SET_ATTR_UID ? (long)j->attr.st_uid : -1,
                j->valid & FUSE_SET_ATTR_GID ? (long)j->attr.st_gid : -1,
                j->valid & FUSE_SET_ATTR_MODE ? (long)j->attr.st_mode : -1);
        }
        if (!r && (j->valid & FUSE_SET_ATTR_SIZE)) {
            c.op = FAKEFS_TRUNCATE;
            c.offset = (uint64_t)j->attr.st_size;
            r = fake_call(sfemu_g, &c);
        }
        if (r < 0) {
            fuse_reply_err(j->req, (int)-r);
        } else {
            fake_reply_attr(j->req, j->node);
        }
        break;
    case F_OPEN: {
        c.op = FAKEFS_OPEN;
        c.flags = j->fi.flags;
        r = fake_call(sfemu_g, &c);
        struct handle *h = r < 0 ? NULL : handle_new(H_FAKE, -1, j->node);
        if (r >= 0 && !h) {
            r = -ENOMEM;
        }
        if (r < 0) {
            fuse_reply_err(j->req, (int)-r);
            break;
        }
        h->guest = j->guest;
        j->guest = NULL;
        j->fi.fh = (uint64_t)(uintptr_t)h;
        /* fakes come from a state machine: every read reaches it (a
         * shared mmap is allowed all the same: sf_init) */
        j->fi.direct_io = 1;
        j->fi.keep_cache = 0;
        if (fuse_reply_open(j->req, &j->fi) == -ENOENT) {
            handle_free(h);
        }
        break;
    }
    case F_READ: {
        char *mem = malloc(j->size ? j->size : 1);
        if (!mem) {
            fuse_reply_err(j->req, ENOMEM);
            break;
        }
        c.op = FAKEFS_READ;
        c.out = mem;
        c.outcap = j->size;
        c.offset = (uint64_t)j->off;
        r = fake_call(sfemu_g, &c);
        if (r < 0) {
            fuse_reply_err(j->req, (int)-r);
        } else {
            fuse_reply_buf(j->req, mem, c.outlen);
        }
        free(mem);
        break;
    }
    case F_WRITE:
        c.op = FAKEFS_WRITE;
        c.in = j->buf;
        c.inlen = j->buflen;
        c.offset = (uint64_t)j->off;
        r = fake_call(sfemu_g, &c);
        if (r < 0) {
            fuse_reply_err(j->req, (int)-r);
        } else {
            fuse_reply_write(j->req, (size_t)r);
        }
        break;
    case F_IOCTL: {
        char *out = j->size ? malloc(j->size) : NULL;
        if (j->size && !out) {
            fuse_reply_err(j->req, ENOMEM);
            break;
        }
        c.op = FAKEFS_IOCTL;
        c.cmd = j->cmd;
        c.in = j->buf;
        c.inlen = j->buflen;
        c.out = out;
        c.outcap = j->size;
        r = fake_call(sfemu_g, &c);
        if (r < 0) {
            fuse_reply_err(j->req, (int)-r);
        } else {
            fuse_reply_ioctl(j->req, (int)r, out, c.outlen);
        }
        free(out);
        break;
    }
    case F_RELEASE:
        c.op = FAKEFS_CLOSE;
        fake_call(sfemu_g, &c);
        handle_free(j->h);
        fuse_reply_err(j->req, 0);
        break;
    }
    fjob_free(j);
}

/* Hand j to a worker, keyed by its resource; replies an error if it
 * cannot. */
static void fjob_queue(struct fjob *j)
{
    const char *key = j->h ? j->h->guest : j->guest;
    int r = key ? workers_run(key, fjob_run, j) : -ENOMEM;
    if (r < 0) {
        fuse_reply_err(j->req, -r);
        if (j->op == F_RELEASE) {
            handle_free(j->h);
        }
        fjob_free(j);
    }
}

static struct fjob *fjob_new(enum fop op, fuse_req_t req, struct inode *node)
{
    struct fjob *j = calloc(1, sizeof *j);
    if (!j) {
        fuse_reply_err(req, ENOMEM);
        return NULL;
    }
    j->op = op;
    j->req = req;
    j->ent.ufd = j->ent.lfd = -1;
    if (node) {
        j->node = node;
        ino_ref(node);
        j->guest = fake_guest_path(node);
    }
    return j;
}

/* A job on an open fake file. */
static struct fjob *fjob_on(enum fop op, fuse_req_t req, struct handle *h)
{
    struct fjob *j = fjob_new(op, req, NULL);
    if (j) {
        j->h = h;
    }
    return j;
}

/* ------------------------------------------------------------ lookups */

static void sf_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct inode *dir = ino_of(parent);
    struct ovl_ent e, rec;
    int r = ovl_lookup(&sfemu_g->ovl, dir, name, &e, 1);
    if (r < 0 && r != -ENOENT) {
        fuse_reply_err(req, -r);
        return;
    }
    int f = fake_name(sfemu_g, dir, name, r == 0 ? &e : NULL, &rec);
    if (f > 0) {
        struct fjob *j = fjob_new(F_LOOKUP, req, NULL);
        if (!j) {
            close_ent(&e);
            return;
        }
        j->dir = dir;
        ino_ref(dir);
        j->name = strdup(name);
        j->guest = fake_guest_child(dir, name);
        if (r == 0) {
            j->ent = e;
        }
        j->recst = rec.st;
        fjob_queue(j);
        return;
    }
    if (r == -ENOENT || f < 0) {
        if (r == 0) {
            close_ent(&e);
        }
        if (f < 0) {
            fuse_reply_err(req, -f);
            return;
        }
        /* a negative entry, cached when the kernel can be told that a
         * name appeared (FUSE_NOTIFY_INC_EPOCH) */
        struct fuse_entry_param ne = {
            .ino = 0,
            .entry_timeout = sfemu_g->epoch_ok ? sfemu_g->cache_timeout : 0
        };
        fuse_reply_entry(req, &ne);
        return;
    }
    struct stat st;
    struct inode *i = learn(dir, name, &e, &st, &r);
    if (!i) {
        fuse_reply_err(req, -r);
        return;
    }
    reply_entry(req, i, &st);
}

static void sf_forget(fuse_req_t req, fuse_ino_t ino, uint64_t n)
{
    ino_forget(ino_of(ino), n);
    fuse_reply_none(req);
}

static void sf_forget_multi(fuse_req_t req, size_t count,
                            struct fuse_forget_data *f)
{
    for (size_t k = 0; k < count; k++) {
        ino_forget(ino_of(f[k].ino), f[k].nlookup);
    }
    fuse_reply_none(req);
}

static void sf_getattr(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi)
{
    struct inode *i = ino_of(ino);
    if (i->fake) {
        struct fjob *j = fjob_new(F_GETATTR, req, i);
        if (j) {
            fjob_queue(j);
        }
        return;
    }
    struct stat st;
    int fd =
        fi && fi->fh && handle_of(fi)->kind != H_DIR ? handle_of(fi)->fd : -1;
    int r = real_attr(i, fd, &st);
    if (r < 0) {
        fuse_reply_err(req, -r);
    } else {
        fuse_reply_attr(req, &st, sfemu_g->cache_timeout);
    }
}

/* ------------------------------------------------------------ setattr */

static int set_size(struct inode *i, off_t size, struct fuse_file_info *fi)
{
    if (fi && fi->fh && handle_of(fi)->fd >= 0 &&
        handle_of(fi)->kind != H_DIR) {
        return ftruncate(handle_of(fi)->fd, size) < 0 ? -errno : 0;
    }
    if (!ino_upper(i)) {
        if (pt_busy(i)) {
            char *p = ino_path(i);
            int r = pt_refuse(p);
            free(p);
            return r;
        }
        int r = ovl_copy_up(&sfemu_g->ovl, i);
        if (r < 0) {
            return r;
        }
    }
    int fd = ovl_open(i, O_WRONLY);
    if (fd < 0) {
        return fd;
    }
    int r = ftruncate(fd, size) < 0 ? -errno : 0;
    close(fd);
    return r;
}

static int set_times(struct inode *i, const struct stat *a, int valid,
                     struct fuse_file_info *fi)
{
    struct timespec tv[2] = { { .tv_nsec = UTIME_OMIT },
                              { .tv_nsec = UTIME_OMIT } };
    if (valid & FUSE_SET_ATTR_ATIME_NOW) {
        tv[0].tv_nsec = UTIME_NOW;
    } else if (valid & FUSE_SET_ATTR_ATIME) {
        tv[0] = a->st_atim;
    }
    if (valid & FUSE_SET_ATTR_MTIME_NOW) {
        tv[1].tv_nsec = UTIME_NOW;
    } else if (valid & FUSE_SET_ATTR_MTIME) {
        tv[1] = a->st_mtim;
    }
    if (fi && fi->fh && handle_of(fi)->fd >= 0 &&
        handle_of(fi)->kind != H_DIR && ino_upper(i)) {
        return futimens(handle_of(fi)->fd, tv) < 0 ? -errno : 0;
    }
    int r = ovl_copy_up(&sfemu_g->ovl, i);
    return r < 0 ? r : ovl_utimens(i, tv);
}

static void sf_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
                       int valid, struct fuse_file_info *fi)
{
    struct inode *i = ino_of(ino);
    if (i->fake) {
        struct fjob *j = fjob_new(F_SETATTR, req, i);
        if (j) {
            j->attr = *attr;
            j->valid = valid;
            fjob_queue(j);
        }
        return;
    }
    int r = 0;
    if (valid & FUSE_SET_ATTR_SIZE) {
        r = set_size(i, attr->st_size, fi);
        if (!r && i->record) {
            struct inode *p;
            char *n;
            if (ino_first_link(i, &p, &n) == 0) {
                fake_record_touched(sfemu_g, p, n, 0);
                ino_unref(p);
                free(n);
            }
        }
    }
    if (!r && (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
                        FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW))) {
        r = set_times(i, attr, valid, fi);
    }
    if (!r && (valid &
               (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
        r = ovl_chmeta(&sfemu_g->ovl, i,
                       valid & FUSE_SET_ATTR_UID ? (long)attr->st_uid : -1,
                       valid & FUSE_SET_ATTR_GID ? (long)attr->st_gid : -1,
                       valid & FUSE_SET_ATTR_MODE ? (long)attr->st_mode : -1);
    }
    if (r < 0) {
        fuse_reply_err(req, -r);
        return;
    }
    sf_getattr(req, ino, fi);
}

/* ------------------------------------------------------------ namespace */

static void sf_readlink(fuse_req_t req, fuse_ino_t ino)
{
    struct inode *i = ino_of(ino);
    char target[PATH_MAX], out[PATH_MAX];
    ssize_t n = ovl_readlink(i, target, sizeof target - 1);
    if (n < 0) {
        fuse_reply_err(req, n == -ENOENT ? EINVAL : (int)-n);
        return;
    }
    target[n] = 0;
    if (sfemu_g->symlinks_contained) {
        char *path = ino_path(i);
        int r =
            path ? contain_symlink(&sfemu_g->ovl, path, target, out, sizeof out)
                 : -ESTALE;
        free(path);
        if (r < 0) {
            fuse_reply_err(req, -r);
            return;
        }
        fuse_reply_readlink(req, out);
    } else {
        fuse_reply_readlink(req, target);
    }
}

/* After a create: reply the new entry, tell the engine about records. */
static void created(fuse_req_t req, struct inode *dir, const char *name,
                    struct ovl_ent *e, int r)
{
    if (r < 0) {
        fuse_reply_err(req, -r);
        return;
    }
    struct stat st;
    struct inode *i = learn(dir, name, e, &st, &r);
    if (!i) {
        fuse_reply_err(req, -r);
        return;
    }
    if (fakefs_is_record_name(name)) {
        fake_record_touched(sfemu_g, dir, name, 1);
    }
    reply_entry(req, i, &st);
}

static void sf_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
                     mode_t mode, dev_t rdev)
{
    struct ovl_owner w = owner(req);
    struct ovl_ent e;
    struct inode *dir = ino_of(parent);
    created(req, dir, name, &e,
            ovl_mknod(&sfemu_g->ovl, dir, name, mode, rdev, &w, &e));
}

static void sf_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
                     mode_t mode)
{
    struct ovl_owner w = owner(req);
    struct ovl_ent e;
    struct inode *dir = ino_of(parent);
    created(req, dir, name, &e,
            ovl_mkdir(&sfemu_g->ovl, dir, name, mode, &w, &e));
}

static void sf_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
                       const char *name)
{
    struct ovl_owner w = owner(req);
    struct ovl_ent e;
    struct inode *dir = ino_of(parent);
    created(req, dir, name, &e,
            ovl_symlink(&sfemu_g->ovl, dir, name, link, &w, &e));
}

static void sf_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent,
                    const char *name)
{
    struct ovl_ent e;
    struct inode *i = ino_of(ino), *dir = ino_of(parent);
    if (i->fake) {
        fuse_reply_err(req, EPERM);
        return;
    }
    created(req, dir, name, &e, ovl_link(&sfemu_g->ovl, i, dir, name, &e));
}

static void sf_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct inode *dir = ino_of(parent);
    struct ovl_ent e, rec;
    int r = ovl_lookup(&sfemu_g->ovl, dir, name, &e, 0);
    int f = r == 0 || r == -ENOENT
                ? fake_name(sfemu_g, dir, name, r ? NULL : &e, &rec)
                : 0;
    if (f > 0) {
        /* deleting a fake resource deletes its record: it is gone */
        char rn[NAME_MAX + 1];
        snprintf(rn, sizeof rn, "%s" FAKEFS_SUFFIX, name);
        if (r == 0) {
            r = ovl_unlink(&sfemu_g->ovl, dir, name);
        }
        if (r == 0 || r == -ENOENT) {
            r = ovl_unlink(&sfemu_g->ovl, dir, rn);
        }
        struct ino_key k = { rec.st.st_dev, rec.st.st_ino, 0, 1 };
        struct inode *i = ino_find(&k);
        if (i) {
            ino_link_drop(i, dir, name);
            ino_unref(i);
        }
        fake_record_touched(sfemu_g, dir, rn, 1);
    } else {
        r = ovl_unlink(&sfemu_g->ovl, dir, name);
        if (!r && fakefs_is_record_name(name)) {
            fake_record_touched(sfemu_g, dir, name, 1);
        }
    }
    fuse_reply_err(req, -r);
}

static void sf_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    fuse_reply_err(req, -ovl_rmdir(&sfemu_g->ovl, ino_of(parent), name));
}

static void sf_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
                      fuse_ino_t newparent, const char *newname,
                      unsigned int flags)
{
    struct inode *dir = ino_of(parent), *ndir = ino_of(newparent);
    int r = ovl_rename(&sfemu_g->ovl, dir, name, ndir, newname, flags);
    if (r == -ENOENT) {
        struct ovl_ent rec;
        if (fake_name(sfemu_g, dir, name, NULL, &rec) > 0) {
            r = -EXDEV; /* a fake without a file of its own: mv copies */
        }
    }
    if (!r) {
        if (fakefs_is_record_name(name)) {
            fake_record_touched(sfemu_g, dir, name, 1);
        }
        if (fakefs_is_record_name(newname)) {
            fake_record_touched(sfemu_g, ndir, newname, 1);
        }
    }
    fuse_reply_err(req, -r);
}

/* ------------------------------------------------------------ files */

/* A handle for fd of a real inode: passthrough or the page cache. */
static int open_real(struct inode *i, int fd, struct fuse_file_info *fi)
{
    struct handle *h = handle_new(i->record ? H_RECORD : H_REAL, fd, i);
    if (!h) {
        close(fd);
        return -ENOMEM;
    }
    if (h->kind == H_RECORD) {
        /* the engine rewrites records behind the kernel's back */
        fi->direct_io = 1;
        fi->keep_cache = 0;
    } else {
        int r = pt_open(i, fd, fi);
        if (r < 0) {
            handle_free(h);
            return r;
        }
        h->pt = r;
        if (!r) {
            fi->keep_cache = 1; /* passthrough off */
        }
    }
    fi->fh = (uint64_t)(uintptr_t)h;
    return 0;
}

static void sf_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct inode *i = ino_of(ino);
    if (i->fake) {
        struct fjob *j = fjob_new(F_OPEN, req, i);
        if (j) {
            j->fi = *fi;
            fjob_queue(j);
        }
        return;
    }
    if (pt_open_writes(fi->flags) && !ino_upper(i)) {
        if (pt_busy(i)) {
            char *p = ino_path(i);
            fuse_reply_err(req, -pt_refuse(p));
            free(p);
            return;
        }
        int r = ovl_copy_up(&sfemu_g->ovl, i);
        if (r < 0) {
            fuse_reply_err(req, -r);
            return;
        }
    }
    int fd = ovl_open(i, fi->flags & ~(O_CREAT | O_EXCL));
    int r = fd < 0 ? fd : open_real(i, fd, fi);
    if (r < 0) {
        fuse_reply_err(req, -r);
        return;
    }
    if (fuse_reply_open(req, fi) == -ENOENT) {
        handle_free(handle_of(fi));
    }
}

static void sf_create(fuse_req_t req, fuse_ino_t parent, const char *name,
                      mode_t mode, struct fuse_file_info *fi)
{
    struct ovl_owner w = owner(req);
    struct ovl_ent e;
    struct inode *dir = ino_of(parent);
    int fd;
    int r = ovl_create(&sfemu_g->ovl, dir, name, mode, fi->flags, &w, &e, &fd);
    struct stat st;
    struct inode *i = r < 0 ? NULL : learn(dir, name, &e, &st, &r);
    if (!i) {
        if (fd >= 0) {
            close(fd);
        }
        fuse_reply_err(req, -r);
        return;
    }
    if (fakefs_is_record_name(name)) {
        fake_record_touched(sfemu_g, dir, name, 1);
    }
    r = open_real(i, fd, fi);
    if (r < 0) {
        ino_forget(i, 1);
        fuse_reply_err(req, -r);
        return;
    }
    struct fuse_entry_param ep = { .ino = ino_id(i),
                                   .attr = st,
                                   .attr_timeout = sfemu_g->cache_timeout,
                                   .entry_timeout = sfemu_g->cache_timeout };
    if (fuse_reply_create(req, &ep, fi) == -ENOENT) {
        handle_free(handle_of(fi));
        ino_forget(i, 1);
    }
}

static void sf_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    (void)ino;
    struct handle *h = handle_of(fi);
    if (h->kind == H_FAKE) {
        struct fjob *j = fjob_on(F_READ, req, h);
        if (j) {
            j->size = size;
            j->off = off;
            fjob_queue(j);
        }
        return;
    }
    struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);
    bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    bv.buf[0].fd = h->fd;
    bv.buf[0].pos = off;
    /* spliced from the backing fd (2.5x faster first reads here) */
    fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
}

static void sf_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in,
                         off_t off, struct fuse_file_info *fi)
{
    (void)ino;
    struct handle *h = handle_of(fi);
    size_t size = fuse_buf_size(in);
    if (h->kind != H_FAKE) {
        struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);
        dst.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
        dst.buf[0].fd = h->fd;
        dst.buf[0].pos = off;
        ssize_t n = fuse_buf_copy(&dst, in, FUSE_BUF_SPLICE_NONBLOCK);
        if (n < 0) {
            fuse_reply_err(req, (int)-n);
        } else {
            fuse_reply_write(req, (size_t)n);
        }
        return;
    }
    struct fjob *j = fjob_on(F_WRITE, req, h);
    if (!j) {
        return;
    }
    j->off = off;
    j->buf = malloc(size ? size : 1);
    struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);
    dst.buf[0].mem = j->buf;
    ssize_t got = j->buf ? fuse_buf_copy(&dst, in, 0) : -ENOMEM;
    if (got < 0) {
        fuse_reply_err(req, (int)-got);
        fjob_free(j);
        return;
    }
    j->buflen = (size_t)got;
    fjob_queue(j);
}

static void sf_release(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi)
{
    (void)ino;
    struct handle *h = handle_of(fi);
    if (h->kind == H_FAKE) {
        struct fjob *j = fjob_on(F_RELEASE, req, h);
        if (j) {
            fjob_queue(j);
        } else {
            handle_free(h);
        }
        return;
    }
    if (h->kind == H_RECORD) {
        struct inode *p;
        char *n;
        if (ino_first_link(h->node, &p, &n) == 0) {
            fake_record_touched(sfemu_g, p, n, 0);
            ino_unref(p);
            free(n);
        }
    }
    handle_free(h);
    fuse_reply_err(req, 0);
}

static void sf_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
                     struct fuse_file_info *fi)
{
    (void)ino;
    struct handle *h = handle_of(fi);
    int r = 0;
    if (h->fd >= 0) {
        r = (datasync ? fdatasync(h->fd) : fsync(h->fd)) < 0 ? -errno : 0;
    }
    fuse_reply_err(req, -r);
}

static void sf_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
                         off_t len, struct fuse_file_info *fi)
{
    (void)ino;
    struct handle *h = handle_of(fi);
    if (h->fd < 0) {
        fuse_reply_err(req, EOPNOTSUPP);
        return;
    }
    fuse_reply_err(req, fallocate(h->fd, mode, off, len) < 0 ? errno : 0);
}

static void sf_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd,
                     void *arg, struct fuse_file_info *fi, unsigned flags,
                     const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
    (void)ino;
    (void)arg;
    (void)flags;
    struct handle *h = handle_of(fi);
    if (h->kind != H_FAKE) {
        fuse_reply_err(req, ENOTTY);
        return;
    }
    /* restricted ioctls: the kernel copies _IOC_SIZE bytes as _IOC_DIR
     * says (no embedded pointers) */
    size_t sz = _IOC_SIZE(cmd);
    size_t inlen = (_IOC_DIR(cmd) & _IOC_WRITE) ? sz : 0;
    size_t outlen = (_IOC_DIR(cmd) & _IOC_READ) ? sz : 0;
    if (inlen > in_bufsz) {
        inlen = in_bufsz;
    }
    if (outlen > out_bufsz) {
        outlen = out_bufsz;
    }
    struct fjob *j = fjob_on(F_IOCTL, req, h);
    if (!j) {
        return;
    }
    j->cmd = cmd;
    j->size = outlen;
    if (inlen) {
        j->buf = malloc(inlen);
        if (!j->buf) {
            fuse_reply_err(req, ENOMEM);
            fjob_free(j);
            return;
        }
        memcpy(j->buf, in_buf, inlen);
        j->buflen = inlen;
    }
    fjob_queue(j);
}

/* ------------------------------------------------------------ directories */

static void sf_opendir(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi)
{
    struct handle *h = handle_new(H_DIR, -1, ino_of(ino));
    if (!h) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    fi->fh = (uint64_t)(uintptr_t)h;
    if (fuse_reply_open(req, fi) == -ENOENT) {
        handle_free(h);
    }
}

static void sf_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    struct handle *h = handle_of(fi);
    if (off == 0 || !h->listed) {
        ovl_dir_free(&h->dir);
        int r = ovl_list(&sfemu_g->ovl, h->node, &h->dir);
        if (!r) {
            r = fake_list(&h->dir);
        }
        if (r < 0) {
            fuse_reply_err(req, -r);
            return;
        }
        h->listed = 1;
    }
    (void)ino;
    char *buf = malloc(size);
    if (!buf) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    size_t used = 0;
    /* offsets: 1 ".", 2 "..", 3.. the entries */
    for (off_t k = off; k < (off_t)h->dir.n + 2; k++) {
        struct stat st = { 0 };
        const char *name;
        if (k < 2) {
            name = k ? ".." : ".";
            st.st_mode = S_IFDIR;
        } else {
            name = h->dir.v[k - 2].name;
            st.st_mode = (mode_t)DTTOIF(h->dir.v[k - 2].type);
            st.st_ino = h->dir.v[k - 2].ino;
        }
        size_t n =
            fuse_add_direntry(req, buf + used, size - used, name, &st, k + 1);
        if (n > size - used) {
            break;
        }
        used += n;
    }
    fuse_reply_buf(req, buf, used);
    free(buf);
}

static void sf_releasedir(fuse_req_t req, fuse_ino_t ino,
                          struct fuse_file_info *fi)
{
    (void)ino;
    handle_free(handle_of(fi));
    fuse_reply_err(req, 0);
}

static void sf_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
                        struct fuse_file_info *fi)
{
    (void)fi;
    struct inode *i = ino_of(ino);
    int fd = i->ufd >= 0 ? ovl_reopen(i->ufd, O_RDONLY | O_DIRECTORY) : -1;
    int r = 0;
    if (fd >= 0) {
        r = (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? errno : 0;
        close(fd);
    }
    fuse_reply_err(req, r);
}

static void sf_statfs(fuse_req_t req, fuse_ino_t ino)
{
    (void)ino;
    struct statvfs sv;
    int fd =
        openat(sfemu_g->ovl.upper_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fstatvfs(fd, &sv) < 0) {
        fuse_reply_err(req, errno);
    } else {
        fuse_reply_statfs(req, &sv);
    }
    if (fd >= 0) {
        close(fd);
    }
}

/* ------------------------------------------------------------ xattrs */

static void sf_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                        size_t size)
{
    struct inode *i = ino_of(ino);
    char v[PATH_MAX];
    if (!strcmp(name, XATTR_SYMLINK)) {
        if (!S_ISLNK(i->type)) {
            fuse_reply_err(req, ENODATA);
            return;
        }
        ssize_t n = ovl_readlink(i, v, sizeof v - 1);
        if (n < 0) {
            fuse_reply_err(req, (int)-n);
            return;
        }
        v[n] = 0;
    } else if (!strcmp(name, FAKEFS_RING_XATTR)) {
        /* where qemu on this mount finds the ring (docs/ring.md) */
        if (ino != FUSE_ROOT_ID || !sfemu_g->ring_path[0]) {
            fuse_reply_err(req, ENODATA);
            return;
        }
        snprintf(v, sizeof v, "%s", sfemu_g->ring_path);
    } else if (!strcmp(name, FAKEFS_RING_PID_XATTR)) {
        /* qemu in a chroot reaches the socket through /proc/PID/root */
        if (ino != FUSE_ROOT_ID || !sfemu_g->ring_path[0]) {
            fuse_reply_err(req, ENODATA);
            return;
        }
        snprintf(v, sizeof v, "%d", (int)getpid());
    } else if (!strcmp(name, XATTR_LAYER)) {
        snprintf(v, sizeof v, "%s",
                 i->fake        ? "fake"
                 : ino_upper(i) ? "upper"
                                : "lower");
    } else {
        fuse_reply_err(req, ENODATA);
        return;
    }
    size_t len = strlen(v);
    if (!size) {
        fuse_reply_xattr(req, len);
    } else if (size < len) {
        fuse_reply_err(req, ERANGE);
    } else {
        fuse_reply_buf(req, v, len);
    }
}

static void sf_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    (void)ino;
    if (!size) {
        fuse_reply_xattr(req, 0);
    } else {
        fuse_reply_buf(req, NULL, 0);
    }
}

static void sf_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                        const char *value, size_t size, int flags)
{
    (void)ino;
    (void)name;
    (void)value;
    (void)size;
    (void)flags;
    fuse_reply_err(req, ENOTSUP);
}

static void sf_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    (void)ino;
    (void)name;
    fuse_reply_err(req, ENOTSUP);
}

/* ------------------------------------------------------------ session */

static void sf_init(void *ud, struct fuse_conn_info *conn)
{
    struct sfemu *s = ud;
    /* Negative entries may be cached only if the kernel can be told that
     * "<x>" appeared when "<x>.fakefile" was created (protocol 7.44). */
    /* A new epoch makes the kernel drop every name, which detaches the
     * mounts made inside the mount (a chroot's /proc): --no-negative-cache
     * keeps them (docs/chroot.md). */
    s->epoch_ok = !s->no_negative_cache &&
                  (conn->proto_major > 7 ||
                   (conn->proto_major == 7 && conn->proto_minor >= 44));
    log_msg("kernel FUSE %u.%u: negative entries %s", conn->proto_major,
            conn->proto_minor,
            s->epoch_ok            ? "cached (FUSE_NOTIFY_INC_EPOCH)"
            : s->no_negative_cache ? "not cached (--no-negative-cache)"
                                   : "not cached");
    fuse_set_feature_flag(conn, FUSE_CAP_SPLICE_WRITE);
    fuse_set_feature_flag(conn, FUSE_CAP_SPLICE_MOVE);
    fuse_unset_feature_flag(conn, FUSE_CAP_WRITEBACK_CACHE);
    /* Every change to real files goes through the mount (the kernel sees
     * it), fake files use direct I/&sfemu_g->ovl: no need to revalidate attributes on
     * every read. */
    fuse_unset_feature_flag(conn, FUSE_CAP_AUTO_INVAL_DATA);
    /* A shell process may mmap a fake file (shared too) while its reads
     * stay direct: the mapping's pages come from the read handler and are
     * dropped on a state or content change (docs/mount.md). */
    log_msg("mmap of fake files %s",
            fuse_set_feature_flag(conn, FUSE_CAP_DIRECT_IO_ALLOW_MMAP)
                ? "allowed (FUSE_DIRECT_IO_ALLOW_MMAP)"
                : "refused by the kernel (no FUSE_DIRECT_IO_ALLOW_MMAP)");
    pt_init(conn, s->passthrough, s->backing_depth, fuse_session_fd(s->se));
    log_msg("passthrough %s", pt_state());
}

const struct fuse_lowlevel_ops sfemu_ops = {
    .init = sf_init,
    .lookup = sf_lookup,
    .forget = sf_forget,
    .forget_multi = sf_forget_multi,
    .getattr = sf_getattr,
    .setattr = sf_setattr,
    .readlink = sf_readlink,
    .mknod = sf_mknod,
    .mkdir = sf_mkdir,
    .unlink = sf_unlink,
    .rmdir = sf_rmdir,
    .symlink = sf_symlink,
    .rename = sf_rename,
    .link = sf_link,
    .open = sf_open,
    .create = sf_create,
    .read = sf_read,
    .write_buf = sf_write_buf,
    /* no .flush: the kernel then stops sending FLUSH (one round trip less
     * per close); records are re-read on release */
    .release = sf_release,
    .fsync = sf_fsync,
    .opendir = sf_opendir,
    .readdir = sf_readdir,
    .releasedir = sf_releasedir,
    .fsyncdir = sf_fsyncdir,
    .statfs = sf_statfs,
    .setxattr = sf_setxattr,
    .getxattr = sf_getxattr,
    .listxattr = sf_listxattr,
    .removexattr = sf_removexattr,
    .ioctl = sf_ioctl,
    .fallocate = sf_fallocate,
};
