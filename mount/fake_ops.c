/*
 * The fake side of the mount (fake_ops.h): the one interface to the fakefs
 * engine, which names are fake resources, the store through which the
 * engine reads and writes "<path>.fakefile" records (the overlay, never the
 * mount), and the kernel-cache invalidations that follow fake state and
 * content changes.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fake_ops.h"
#include "sfemu_mount.h"
#include "str_hash.h"

/* ------------------------------------------------------------ the seam */

long fake_call(struct sfemu *s, struct fakefs_call *c)
{
    if (!s->fake) {
        /* without an engine records are inert: empty, writes discarded */
        switch (c->op) {
        case FAKEFS_WRITE: return (long)c->inlen;
        case FAKEFS_GETATTR: memset(&c->attr, 0, sizeof c->attr); return 0;
        case FAKEFS_CONNECT: c->action = 0; return 0;
        case FAKEFS_INIT: return -ENOSYS;
        default: c->outlen = 0; return 0;
        }
    }
    return fakefs_call(s->fake, c);
}

/* ------------------------------------------------------------ paths */

/* "a/b" or "." -> "/a/b" or "/" (consumes rel). */
static char *guest_of(char *rel)
{
    if (!rel) {
        return NULL;
    }
    size_t n = strlen(rel);
    char *g = malloc(n + 2);
    if (g) {
        g[0] = '/';
        if (strcmp(rel, ".") == 0) {
            g[1] = 0;
        } else {
            memcpy(g + 1, rel, n + 1);
        }
    }
    free(rel);
    return g;
}

/* "/a/b" -> "a/b", "/" -> "." */
static const char *rel_of(const char *guest)
{
    while (*guest == '/') {
        guest++;
    }
    return *guest ? guest : ".";
}

char *fake_guest_path(struct inode *i)
{
    return guest_of(ino_path(i));
}

char *fake_guest_child(struct inode *dir, const char *name)
{
    return guest_of(ino_child_path(dir, name));
}

/* ------------------------------------------------------------ names */

static unsigned records_gen = 1;

unsigned fake_records_gen(void)
{
    return __atomic_load_n(&records_gen, __ATOMIC_ACQUIRE);
}

static void records_changed(void)
{
    __atomic_add_fetch(&records_gen, 1, __ATOMIC_RELEASE);
}

/* Whether a directory holds any record is remembered (until a record is
 * created, removed or renamed anywhere), so a lookup in a directory
 * without records costs nothing extra. */
static int dir_has_records(struct sfemu *s, struct inode *dir)
{
    unsigned g = fake_records_gen();
    signed char has = __atomic_load_n(&dir->records, __ATOMIC_ACQUIRE);
    if (has >= 0 && dir->records_gen == g) {
        return has;
    }
    struct ovl_dir l;
    if (ovl_list(&s->ovl, dir, &l) < 0) {
        return 1; /* when in doubt, look */
    }
    has = 0;
    for (size_t i = 0; i < l.n && !has; i++) {
        has = (signed char)fakefs_is_record_name(l.v[i].name);
    }
    ovl_dir_free(&l);
    dir->records_gen = g;
    __atomic_store_n(&dir->records, has, __ATOMIC_RELEASE);
    return has;
}

int fake_name(struct sfemu *s, struct inode *dir, const char *name,
              const struct ovl_ent *real, struct ovl_ent *rec)
{
    char rn[NAME_MAX + 1];
    if (fakefs_is_record_name(name) || (real && S_ISDIR(real->st.st_mode)) ||
        snprintf(rn, sizeof rn, "%s" FAKEFS_SUFFIX, name) >= (int)sizeof rn ||
        !dir_has_records(s, dir)) {
        return 0;
    }
    int r = ovl_lookup(&s->ovl, dir, rn, rec, 0);
    if (r == -ENOENT) {
        return 0;
    }
    return r < 0 ? r : S_ISREG(rec->st.st_mode);
}

int fake_stat(struct sfemu *s, struct inode *i, struct stat *st)
{
    char *g = fake_guest_path(i);
    int r = g ? 0 : -ENOENT;
    if (!r && ovl_fstat(i, st) == 0) {
        /* a resource over a file of its own */
    } else if (!r) {
        /* a resource without a file of its own: its record's stat */
        struct ovl_ent e;
        size_t n = strlen(g) + FAKEFS_SUFFIX_LEN + 1;
        char *rec = malloc(n);
        r = rec ? 0 : -ENOMEM;
        if (rec) {
            snprintf(rec, n, "%s" FAKEFS_SUFFIX, g);
            r = ovl_resolve(&s->ovl, rel_of(rec), &e);
            if (!r) {
                *st = e.st;
            }
            free(rec);
        }
    }
    struct fakefs_call c = { .op = FAKEFS_GETATTR, .path = g };
    if (!r) {
        r = (int)fake_call(s, &c);
    }
    free(g);
    if (r < 0) {
        return r;
    }
    mode_t type = c.attr.type == FAKEFS_SOCKET ? S_IFSOCK : S_IFREG;
    st->st_mode =
        type |
        (c.attr.mode ? c.attr.mode : (c.attr.type == FAKEFS_DEV ? 0666 : 0644));
    st->st_size = (off_t)c.attr.size;
    st->st_nlink = 1;
    st->st_rdev = 0;
    st->st_blocks = 0;
    st->st_blksize = FAKEFS_MOUNT_BLKSIZE;
    ovl_meta_load(&s->ovl, i);
    struct meta_rec m = i->meta;
    if (m.mode >= 0) {
        m.mode &= 07777; /* the engine decides the type */
    }
    ovl_present(&m, st);
    return 0;
}

int fake_list(struct ovl_dir *d)
{
    size_t n = d->n;
    for (size_t i = 0; i < n; i++) {
        const char *name = d->v[i].name;
        if (!fakefs_is_record_name(name)) {
            continue;
        }
        size_t l = strlen(name) - FAKEFS_SUFFIX_LEN;
        char *base = strndup(name, l);
        int r = base ? 0 : -ENOMEM;
        if (base && !ovl_dir_has(d, base)) {
            r = ovl_dir_add(d, base, DT_REG, d->v[i].ino);
        }
        free(base);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ the store */

/* The engine's guest paths reach files as the guest's own calls would:
 * through the firmware's symlinks, inside the root. */
static const char *store_rel(struct sfemu *s, const char *path, char *buf,
                             size_t cap)
{
    return ovl_follow_dirs(&s->ovl, rel_of(path), buf, cap) == 0 ? buf
                                                                 : rel_of(path);
}

static int store_read(void *ud, const char *path, char **data, size_t *len)
{
    struct sfemu *s = ud;
    char rel[PATH_MAX];
    return ovl_read_file(&s->ovl, store_rel(s, path, rel, sizeof rel), data,
                         len);
}

static int store_write(void *ud, const char *path, const char *data, size_t len)
{
    struct sfemu *s = ud;
    char rel[PATH_MAX];
    const char *where = store_rel(s, path, rel, sizeof rel);
    char gpath[PATH_MAX + 1];
    int r = ovl_write_file(&s->ovl, where, data, len);
    if (r < 0) {
        return r;
    }
    snprintf(gpath, sizeof gpath, "/%s", where);
    fake_invalidate(s, gpath);
    if (r == 1) {
        records_changed(); /* a new file (e.g. a device's record) */
        fake_names_changed();
    }
    return 0;
}

static int store_exists(void *ud, const char *path)
{
    struct sfemu *s = ud;
    struct ovl_ent e;
    char rel[PATH_MAX];
    return ovl_resolve(&s->ovl, store_rel(s, path, rel, sizeof rel), &e) == 0 &&
           S_ISREG(e.st.st_mode);
}

static void store_changed(void *ud, const char *path)
{
    fake_invalidate(ud, path);
}

struct fakefs_store fake_store(struct sfemu *s)
{
    struct fakefs_store st = { .ud = s,
                               .read = store_read,
                               .write = store_write,
                               .exists = store_exists,
                               .changed = store_changed };
    return st;
}

/* ------------------------------------------------------------ kernel caches */

/* Which node id a guest path of a fake resource or a record names, for
 * invalidations.  Ids are not references: a stale one only makes the kernel
 * drop a cache it may not have. */
#define TRACK_SIZE 4096
static struct {
    char *path;
    uint64_t id;
} tracked[TRACK_SIZE];
static pthread_mutex_t track_lock = PTHREAD_MUTEX_INITIALIZER;

void fake_track(struct sfemu *s, const char *guest, struct inode *i)
{
    (void)s;
    unsigned h = sfemu_str_hash(guest) % TRACK_SIZE;
    pthread_mutex_lock(&track_lock);
    if (!tracked[h].path || strcmp(tracked[h].path, guest)) {
        char *p = strdup(guest);
        if (p) {
            free(tracked[h].path);
            tracked[h].path = p;
        }
    }
    tracked[h].id = ino_id(i);
    pthread_mutex_unlock(&track_lock);
}

static uint64_t tracked_id(const char *guest)
{
    unsigned h = sfemu_str_hash(guest) % TRACK_SIZE;
    uint64_t id = 0;
    pthread_mutex_lock(&track_lock);
    if (tracked[h].path && !strcmp(tracked[h].path, guest)) {
        id = tracked[h].id;
    }
    pthread_mutex_unlock(&track_lock);
    return id;
}

void fake_invalidate(struct sfemu *s, const char *guest)
{
    if (!s->inval_running) {
        return;
    }
    char *p = malloc(strlen(guest) + 2);
    if (!p) {
        return;
    }
    sprintf(p, "%s%s", guest[0] == '/' ? "" : "/", guest);
    pthread_mutex_lock(&s->inval_lock);
    char **q = realloc(s->inval_q, (s->inval_n + 1) * sizeof *q);
    if (q) {
        s->inval_q = q;
        q[s->inval_n++] = p;
        pthread_cond_signal(&s->inval_cond);
    } else {
        free(p);
    }
    pthread_mutex_unlock(&s->inval_lock);
}

/* A plain file the engine rewrote behind the kernel's back (the NVRAM
 * store: a temporary file renamed over it, so a new object): drop the
 * kernel's name for it, so the next lookup finds the new file instead of
 * serving the old one's size and pages. */
static void inval_entry(struct sfemu *s, const char *guest)
{
    const char *slash = strrchr(guest, '/');
    char dir[PATH_MAX];
    struct ovl_ent e;
    struct inode *d;

    if (!slash || !slash[1]) {
        return;
    }
    if (slash == guest) {
        d = ino_root();
        ino_ref(d);
    } else {
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - guest - 1), guest + 1);
        if (ovl_resolve(&s->ovl, dir, &e) < 0 || !S_ISDIR(e.st.st_mode)) {
            return;
        }
        struct ino_key k = { e.st.st_dev, e.st.st_ino, 0, 0 };
        if (!(d = ino_find(&k))) {
            return; /* the kernel has not seen the directory: nothing cached */
        }
    }
    fuse_lowlevel_notify_inval_entry(s->se, ino_id(d), slash + 1,
                                     strlen(slash + 1));
    ino_unref(d);
}

/* Invalidations run on their own thread: the kernel may wait for the
 * inode's lock, which a request in flight can hold. */
static void *inval_main(void *arg)
{
    struct sfemu *s = arg;
    pthread_mutex_lock(&s->inval_lock);
    for (;;) {
        while (!s->inval_n && !s->inval_stop) {
            pthread_cond_wait(&s->inval_cond, &s->inval_lock);
        }
        if (s->inval_stop) {
            break;
        }
        char *p = s->inval_q[--s->inval_n];
        pthread_mutex_unlock(&s->inval_lock);
        uint64_t id = tracked_id(p);
        if (id && s->se) {
            /* -ENOENT when the kernel has no such inode */
            fuse_lowlevel_notify_inval_inode(s->se, id, 0, 0);
        } else if (s->se) {
            inval_entry(s, p);
        }
        free(p);
        pthread_mutex_lock(&s->inval_lock);
    }
    pthread_mutex_unlock(&s->inval_lock);
    return NULL;
}

void fake_inval_start(struct sfemu *s)
{
    pthread_mutex_init(&s->inval_lock, NULL);
    pthread_cond_init(&s->inval_cond, NULL);
    if (pthread_create(&s->inval_thr, NULL, inval_main, s) == 0) {
        s->inval_running = 1;
    }
}

void fake_inval_stop(struct sfemu *s)
{
    if (!s->inval_running) {
        return;
    }
    pthread_mutex_lock(&s->inval_lock);
    s->inval_stop = 1;
    pthread_cond_signal(&s->inval_cond);
    pthread_mutex_unlock(&s->inval_lock);
    pthread_join(s->inval_thr, NULL);
    s->inval_running = 0;
    for (size_t i = 0; i < s->inval_n; i++) {
        free(s->inval_q[i]);
    }
    free(s->inval_q);
    s->inval_q = NULL;
    s->inval_n = 0;
    pthread_mutex_lock(&track_lock);
    for (unsigned i = 0; i < TRACK_SIZE; i++) {
        free(tracked[i].path);
        tracked[i].path = NULL;
    }
    pthread_mutex_unlock(&track_lock);
}

void fake_names_changed(void)
{
    struct sfemu *s = sfemu_g;
    if (!s || !s->epoch_ok || !s->se) {
        return;
    }
    /* struct fuse_out_header with error = FUSE_NOTIFY_INC_EPOCH (8): every
     * dentry, negative ones included, is revalidated on its next use.  It
     * takes no lock in the kernel, so it is safe from a request handler. */
    struct {
        uint32_t len;
        int32_t error;
        uint64_t unique;
    } h = { 16, 8, 0 };
    if (write(fuse_session_fd(s->se), &h, sizeof h) != (ssize_t)sizeof h) {
        log_msg("FUSE_NOTIFY_INC_EPOCH failed: %s", strerror(errno));
    }
}

void fake_record_touched(struct sfemu *s, struct inode *dir, const char *name,
                         int names)
{
    if (names) {
        records_changed();
        fake_names_changed();
    }
    size_t n = strlen(name);
    if (n <= FAKEFS_SUFFIX_LEN) {
        return;
    }
    char base[NAME_MAX + 1];
    snprintf(base, sizeof base, "%.*s", (int)(n - FAKEFS_SUFFIX_LEN), name);
    char *g = fake_guest_child(dir, base);
    if (!g) {
        return;
    }
    if (s->fake) {
        fakefs_forget(s->fake, g);
    }
    fake_invalidate(s, g);
    free(g);
}
