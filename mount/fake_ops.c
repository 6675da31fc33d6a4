/*
 * The fake side of the mount: which paths are fake resources, the store the
 * fakefs engine uses to read/write "<path>.fakefile" records through the
 * overlay (never through the mount), and asynchronous invalidation of the
 * kernel caches when fake state or content changes.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "path.h"
#include "sfemu_mount.h"
#include "str_hash.h"
#include <fuse_lowlevel.h>

static const char *strip(const char *guest)
{
    while (*guest == '/') {
        guest++;
    }
    return *guest ? guest : ".";
}

static void fake_dir_mark(struct sfemu *s, const char *rel);

static int st_read(void *ud, const char *path, char **data, size_t *len)
{
    struct sfemu *s = ud;
    return ovl_read_file(&s->ovl, strip(path), data, len);
}

static int st_write(void *ud, const char *path, const char *data, size_t len)
{
    struct sfemu *s = ud;
    fake_dir_mark(s, strip(path));
    struct ovl_ent e;
    int existed = ovl_resolve(&s->ovl, strip(path), &e) == 0;
    int r = ovl_write_file(&s->ovl, strip(path), data, len);
    if (r == 0) {
        fake_invalidate(s, path);
        if (!existed) {
            fake_names_changed(s); /* e.g. a device's record on first open */
        }
    }
    return r;
}

static int st_exists(void *ud, const char *path)
{
    struct sfemu *s = ud;
    struct ovl_ent e;
    return ovl_resolve(&s->ovl, strip(path), &e) == 0 && S_ISREG(e.st.st_mode);
}

static void st_changed(void *ud, const char *path)
{
    fake_invalidate(ud, path);
}

struct fakefs_store fake_store(struct sfemu *s)
{
    struct fakefs_store st = { .ud = s,
                               .read = st_read,
                               .write = st_write,
                               .exists = st_exists,
                               .changed = st_changed };
    return st;
}

/* ------------------------------------------------------------------ inval */

void fake_invalidate(struct sfemu *s, const char *guest_path)
{
    if (!s->inval_running) {
        return;
    }
    char *p = malloc(strlen(guest_path) + 2);
    if (!p) {
        return;
    }
    sprintf(p, "%s%s", guest_path[0] == '/' ? "" : "/", guest_path);
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
        if (s->fuse) {
            fuse_invalidate_path(s->fuse,
                                 p); /* -ENOENT when the kernel has no node */
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
}

/* ------------------------------------------------------------------ dirs */

/* Whether a directory holds any record is remembered, so that a lookup in a
 * directory without records costs nothing extra.  Every change of a record
 * name goes through the mount or the engine's store (the lower tree is
 * read-only), and each forgets the directory. */
struct fake_dir {
    char *rel;
    int has;
    struct fake_dir *next;
};

static unsigned dh(const char *s)
{
    return sfemu_str_hash(s) % 1024;
}

/* rel's directory, the key of its records cache ("" if too long). */
static void dir_of(const char *rel, char *out, size_t cap)
{
    const char *name;
    if (path_split(rel, out, cap, &name) < 0) {
        out[0] = 0;
    }
}

void fake_dir_forget(struct sfemu *s, const char *rel)
{
    pthread_mutex_lock(&s->dirs_lock);
    char d[PATH_MAX];
    if (rel) {
        dir_of(rel, d, sizeof d);
    }
    for (int i = rel ? (int)dh(d) : 0; i < (rel ? (int)dh(d) + 1 : 1024); i++) {
        struct fake_dir **pp = &s->dirs[i];
        while (*pp) {
            if (!rel || !strcmp((*pp)->rel, d)) {
                struct fake_dir *x = *pp;
                *pp = x->next;
                free(x->rel);
                free(x);
            } else {
                pp = &(*pp)->next;
            }
        }
    }
    pthread_mutex_unlock(&s->dirs_lock);
}

/* Under dirs_lock: d's entry, or NULL. */
static struct fake_dir *dir_find(struct sfemu *s, const char *d, unsigned h)
{
    struct fake_dir *x = s->dirs[h];
    while (x && strcmp(x->rel, d)) {
        x = x->next;
    }
    return x;
}

/* Under dirs_lock: d's entry, added with has if d has none yet (NULL when
 * memory runs out: the directory is just listed again next time). */
static struct fake_dir *dir_get(struct sfemu *s, const char *d, unsigned h,
                                int has)
{
    struct fake_dir *x = dir_find(s, d, h);
    if (x) {
        return x;
    }
    if (!(x = malloc(sizeof *x))) {
        return NULL;
    }
    if (!(x->rel = strdup(d))) {
        free(x);
        return NULL;
    }
    x->has = has;
    x->next = s->dirs[h];
    s->dirs[h] = x;
    return x;
}

/* A record is being written in rel's directory: it has records now. */
static void fake_dir_mark(struct sfemu *s, const char *rel)
{
    char d[PATH_MAX];
    dir_of(rel, d, sizeof d);
    pthread_mutex_lock(&s->dirs_lock);
    struct fake_dir *x = dir_get(s, d, dh(d), 1);
    if (x) {
        x->has = 1;
    }
    pthread_mutex_unlock(&s->dirs_lock);
}

static int dir_has_records(struct sfemu *s, const char *rel)
{
    char d[PATH_MAX];
    dir_of(rel, d, sizeof d);
    unsigned h = dh(d);
    pthread_mutex_lock(&s->dirs_lock);
    struct fake_dir *x = dir_find(s, d, h);
    int known = x != NULL, has = x ? x->has : 1; /* when in doubt, look */
    pthread_mutex_unlock(&s->dirs_lock);
    if (known) {
        return has;
    }
    struct ovl_ent e;
    struct ovl_dir l;
    if (ovl_resolve(&s->ovl, d, &e) == 0 && ovl_list(&s->ovl, d, &e, &l) == 0) {
        has = 0;
        for (size_t i = 0; i < l.n && !has; i++) {
            has = fakefs_is_record_name(l.v[i].name);
        }
        ovl_dir_free(&l);
        /* (a record marked meanwhile keeps its entry) */
        pthread_mutex_lock(&s->dirs_lock);
        dir_get(s, d, h, has);
        pthread_mutex_unlock(&s->dirs_lock);
    }
    return has;
}

/* ------------------------------------------------------------------ lookup */

int fake_getattr(struct sfemu *s, const char *rel, const struct ovl_ent *ent,
                 struct stat *st)
{
    const char *name = path_base(rel);
    if (!strcmp(rel, ".") || fakefs_is_record_name(name)) {
        return 0;
    }
    struct meta_rec m;
    int have_meta = meta_get(s->ovl.meta, rel, &m);
    int dev = (ent && (S_ISCHR(ent->st.st_mode) || S_ISBLK(ent->st.st_mode))) ||
              (have_meta && m.mode >= 0 &&
               (S_ISCHR((mode_t)m.mode) || S_ISBLK((mode_t)m.mode)));
    char recrel[PATH_MAX];
    if (snprintf(recrel, sizeof recrel, "%s" FAKEFS_SUFFIX, rel) >=
        (int)sizeof recrel) {
        return dev;
    }
    struct ovl_ent rec;
    int has_rec = dir_has_records(s, rel) &&
                  ovl_resolve(&s->ovl, recrel, &rec) == 0 &&
                  S_ISREG(rec.st.st_mode);
    if (!dev && !has_rec) {
        return 0;
    }
    if (ent && S_ISDIR(ent->st.st_mode)) {
        return 0; /* a directory stays a directory */
    }
    struct fakefs_attr a = { .type = dev ? FAKEFS_DEV : FAKEFS_TEXT,
                             .size = 0,
                             .mode = 0 };
    if (s->fake) {
        char guest[PATH_MAX + 1];
        snprintf(guest, sizeof guest, "/%s", rel);
        int r = fakefs_lookup(s->fake, guest, dev, &a);
        if (r < 0) {
            return r;
        }
        if (r == 0 && !dev && !has_rec) {
            return 0;
        }
    }
    *st = has_rec ? rec.st : ent->st;
    st->st_mode = (a.type == FAKEFS_SOCKET ? S_IFSOCK : S_IFREG) |
                  (a.mode ? a.mode : (dev ? 0666 : 0644));
    if (have_meta && m.mode >= 0) {
        st->st_mode = (st->st_mode & S_IFMT) | ((mode_t)m.mode & 07777);
    }
    st->st_uid = have_meta && m.uid >= 0 ? (uid_t)m.uid : 0;
    st->st_gid = have_meta && m.gid >= 0 ? (gid_t)m.gid : 0;
    st->st_size = (off_t)a.size;
    st->st_nlink = 1;
    st->st_rdev = 0;
    st->st_blocks = 0;
    return 1;
}

void fake_names_changed(struct sfemu *s)
{
    if (!s->epoch_ok || !s->fuse) {
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
    int fd = fuse_session_fd(fuse_get_session(s->fuse));
    if (write(fd, &h, sizeof h) != (ssize_t)sizeof h) {
        log_msg("FUSE_NOTIFY_INC_EPOCH failed: %s", strerror(errno));
    }
}

void fake_record_touched(struct sfemu *s, const char *rel, int names)
{
    if (names) {
        fake_names_changed(s);
    }
    size_t n = strlen(rel);
    if (n <= FAKEFS_SUFFIX_LEN) {
        return;
    }
    char guest[PATH_MAX + 1];
    snprintf(guest, sizeof guest, "/%.*s", (int)(n - FAKEFS_SUFFIX_LEN), rel);
    if (s->fake) {
        fakefs_forget(s->fake, guest);
    }
    fake_invalidate(s, guest);
}
