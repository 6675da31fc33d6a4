/* The metadata journal (see meta.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "meta.h"
#include "str_hash.h"

/* One record, shared by the names of a hard-linked file. */
struct mgrp {
    struct meta_rec r;
    unsigned refs;
    const char *emitted; /* compaction: the path its "set" line named */
};

struct ment {
    char *path;
    struct mgrp *g;
    struct ment *next;
};

#define META_HASH 4096

struct meta {
    pthread_mutex_t lock;
    int dirfd;
    char *name;
    int fd;     /* journal, O_APPEND */
    off_t size; /* its length: a failed append is cut back to it */
    struct ment *tab[META_HASH];
    size_t count;
    char note[256];
};

static int rec_none(const struct meta_rec *r)
{
    return r->uid < 0 && r->gid < 0 && r->mode < 0 && r->rdev < 0;
}

/* ------------------------------------------------------------------ table */

static struct ment **find(struct meta *m, const char *p)
{
    struct ment **pp = &m->tab[sfemu_str_hash(p) % META_HASH];
    while (*pp && strcmp((*pp)->path, p) != 0) {
        pp = &(*pp)->next;
    }
    return pp;
}

static int is_under(const char *p, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(p, prefix, n) == 0 && (p[n] == 0 || p[n] == '/');
}

static void grp_put(struct mgrp *g)
{
    if (--g->refs == 0) {
        free(g);
    }
}

/* Give p the group g (taking a reference); replaces p's old one. */
static int attach(struct meta *m, const char *p, struct mgrp *g)
{
    struct ment **pp = find(m, p);
    if (*pp) {
        g->refs++;
        grp_put((*pp)->g);
        (*pp)->g = g;
        return 0;
    }
    struct ment *e = malloc(sizeof *e);
    if (!e || !(e->path = strdup(p))) {
        free(e);
        return -ENOMEM;
    }
    g->refs++;
    e->g = g;
    e->next = NULL;
    *pp = e;
    m->count++;
    return 0;
}

static int apply_set(struct meta *m, const char *p, const struct meta_rec *r)
{
    struct ment *e = *find(m, p);
    if (e) {
        e->g->r = *r; /* seen through every name of the file */
        return 0;
    }
    struct mgrp *g = calloc(1, sizeof *g);
    if (!g) {
        return -ENOMEM;
    }
    g->r = *r;
    int ret = attach(m, p, g);
    if (ret < 0) {
        free(g);
    }
    return ret;
}

/* Drop every entry whose path keep() refuses. */
static void drop_unless(struct meta *m, int (*keep)(void *ud, const char *p),
                        void *ud)
{
    for (int i = 0; i < META_HASH; i++) {
        struct ment **pp = &m->tab[i];
        while (*pp) {
            if (!keep(ud, (*pp)->path)) {
                struct ment *d = *pp;
                *pp = d->next;
                grp_put(d->g);
                free(d->path);
                free(d);
                m->count--;
            } else {
                pp = &(*pp)->next;
            }
        }
    }
}

static int outside(void *prefix, const char *p)
{
    return !is_under(p, prefix);
}

static void apply_del(struct meta *m, const char *p)
{
    drop_unless(m, outside, (void *)p);
}

static void apply_mv(struct meta *m, const char *from, const char *to)
{
    struct ment *moved = NULL;
    apply_del(m, to);
    for (int i = 0; i < META_HASH; i++) {
        struct ment **pp = &m->tab[i];
        while (*pp) {
            if (is_under((*pp)->path, from)) {
                struct ment *d = *pp;
                *pp = d->next;
                d->next = moved;
                moved = d;
                m->count--;
            } else {
                pp = &(*pp)->next;
            }
        }
    }
    size_t fl = strlen(from);
    while (moved) {
        struct ment *d = moved;
        moved = d->next;
        char *np = malloc(strlen(to) + strlen(d->path) - fl + 1);
        if (np) {
            sprintf(np, "%s%s", to, d->path + fl);
            attach(m, np, d->g);
            free(np);
        }
        grp_put(d->g);
        free(d->path);
        free(d);
    }
}

static int apply_ln(struct meta *m, const char *from, const char *to)
{
    struct ment *e = *find(m, from);
    if (!e) {
        int ret = apply_set(m, from, &META_REC_NONE);
        if (ret < 0) {
            return ret;
        }
        e = *find(m, from);
    }
    return attach(m, to, e->g);
}

/* ------------------------------------------------------------------ lines */

struct line {
    char *buf;
    size_t len, cap;
};

static int put(struct line *l, const char *s, size_t n)
{
    if (l->len + n + 1 > l->cap) {
        size_t cap = (l->len + n + 1) * 2;
        char *b = realloc(l->buf, cap);
        if (!b) {
            return -ENOMEM;
        }
        l->buf = b;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    l->buf[l->len] = 0;
    return 0;
}

static int put_path(struct line *l, const char *p)
{
    int ret = put(l, " ", 1);
    for (const unsigned char *s = (const unsigned char *)p; !ret && *s; s++) {
        if (*s <= 0x20 || *s == '%' || *s == 0x7f) {
            char hex[4];
            snprintf(hex, sizeof hex, "%%%02x", *s);
            ret = put(l, hex, 3);
        } else {
            ret = put(l, (const char *)s, 1);
        }
    }
    return ret;
}

/* Append one journal line to l. */
static int format(struct line *l, const char *kind, const char *a,
                  const char *b, const struct meta_rec *r)
{
    int ret = put(l, kind, strlen(kind));
    ret = ret ? ret : put_path(l, a);
    if (!ret && b) {
        ret = put_path(l, b);
    }
    if (!ret && r) {
        char num[96];
        int n;
        if (r->mode < 0) {
            n = snprintf(num, sizeof num, " %ld %ld -1 %ld", r->uid, r->gid,
                         r->rdev);
        } else {
            n = snprintf(num, sizeof num, " %ld %ld %lo %ld", r->uid, r->gid,
                         r->mode, r->rdev);
        }
        ret = put(l, num, (size_t)n);
    }
    return ret ? ret : put(l, "\n", 1);
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            return -EIO;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Append a line to the journal (lock held).  A line that does not fit
 * entirely is cut off again, so the journal never ends in half a line. */
static int journal(struct meta *m, const char *kind, const char *a,
                   const char *b, const struct meta_rec *r)
{
    struct line l = { 0 };
    int ret = format(&l, kind, a, b, r);
    if (!ret && m->fd < 0) {
        ret = -EBADF;
    }
    if (!ret) {
        ret = write_all(m->fd, l.buf, l.len);
        if (ret < 0) {
            if (ftruncate(m->fd, m->size) < 0) { /* nothing more to do */
            }
        } else {
            m->size += (off_t)l.len;
        }
    }
    free(l.buf);
    return ret;
}

static void unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '%' && s[1] && s[2]) {
            char hex[3] = { s[1], s[2], 0 };
            *o++ = (char)strtol(hex, NULL, 16);
            s += 2;
        } else {
            *o++ = *s;
        }
    }
    *o = 0;
}

static int parse_long(const char *s, int base, long *out)
{
    char *end;
    if (!s) {
        return -1;
    }
    if (!strcmp(s, "-1")) {
        *out = -1;
        return 0;
    }
    errno = 0;
    *out = strtol(s, &end, base);
    return errno || *end || end == s ? -1 : 0;
}

/* Apply one journal line; malformed lines are skipped. */
static void replay_line(struct meta *m, char *line)
{
    char *save = NULL;
    char *kind = strtok_r(line, " \n", &save);
    char *a = strtok_r(NULL, " \n", &save);
    if (!kind || !a) {
        return;
    }
    unescape(a);
    if (!strcmp(kind, "set")) {
        struct meta_rec r;
        char *f[4];
        for (int i = 0; i < 4; i++) {
            f[i] = strtok_r(NULL, " \n", &save);
        }
        if (parse_long(f[0], 10, &r.uid) || parse_long(f[1], 10, &r.gid) ||
            parse_long(f[2], 8, &r.mode) || parse_long(f[3], 10, &r.rdev)) {
            return;
        }
        apply_set(m, a, &r);
    } else if (!strcmp(kind, "del")) {
        apply_del(m, a);
    } else if (!strcmp(kind, "mv") || !strcmp(kind, "ln")) {
        char *b = strtok_r(NULL, " \n", &save);
        if (!b) {
            return;
        }
        unescape(b);
        if (kind[0] == 'm') {
            apply_mv(m, a, b);
        } else {
            apply_ln(m, a, b);
        }
    }
}

/* Replay the journal; *complete is 0 when it ends in a torn line (a crash
 * or a full disk mid-write), which is then ignored. */
static int replay(struct meta *m, int fd, off_t *good_end)
{
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return -errno;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    *good_end = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n') {
            break; /* torn last line */
        }
        *good_end += n;
        replay_line(m, line);
    }
    free(line);
    fclose(f);
    return 0;
}

/* ------------------------------------------------------------------ open */

/* Write the table to name.tmp, put it on disk and rename it over the
 * journal; on any failure the old journal stays as it was. */
static int compact(struct meta *m)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", m->name);
    struct line l = { 0 };
    int ret = 0;
    for (int i = 0; i < META_HASH && !ret; i++) {
        for (struct ment *e = m->tab[i]; e && !ret; e = e->next) {
            if (e->g->refs == 1 && rec_none(&e->g->r)) {
                continue; /* says nothing */
            }
            if (e->g->emitted) {
                ret = format(&l, "ln", e->g->emitted, e->path, NULL);
            } else {
                ret = format(&l, "set", e->path, NULL, &e->g->r);
                e->g->emitted = e->path;
            }
        }
    }
    for (int i = 0; i < META_HASH; i++) {
        for (struct ment *e = m->tab[i]; e; e = e->next) {
            e->g->emitted = NULL;
        }
    }
    int fd = -1;
    if (!ret) {
        fd =
            openat(m->dirfd, tmp,
                   O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        ret = fd < 0 ? -errno : 0;
    }
    if (!ret) {
        ret = write_all(fd, l.buf ? l.buf : "", l.len);
    }
    if (!ret && fsync(fd) < 0) {
        ret = -errno;
    }
    if (fd >= 0 && close(fd) < 0 && !ret) {
        ret = -errno;
    }
    if (!ret && renameat(m->dirfd, tmp, m->dirfd, m->name) < 0) {
        ret = -errno;
    }
    if (ret < 0) {
        unlinkat(m->dirfd, tmp, 0);
    } else {
        int dfd = openat(m->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd); /* the rename itself on disk */
            close(dfd);
        }
    }
    free(l.buf);
    return ret;
}

struct meta *meta_open(int dirfd, const char *name,
                       int (*exists)(void *ud, const char *rel), void *ud,
                       char *err, size_t errlen)
{
    struct meta *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&m->lock, NULL);
    m->dirfd = dirfd;
    m->name = strdup(name);
    m->fd = -1;
    off_t good_end = 0;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        int r = replay(m, fd, &good_end);
        if (r < 0) {
            snprintf(err, errlen, "cannot read %s: %s", name, strerror(-r));
            meta_close(m);
            return NULL;
        }
    } else if (errno != ENOENT) {
        snprintf(err, errlen, "cannot read %s: %s", name, strerror(errno));
        meta_close(m);
        return NULL;
    }
    if (exists) {
        drop_unless(m, exists, ud); /* records of paths that are gone */
    }
    int r = compact(m);
    if (r < 0) {
        snprintf(m->note, sizeof m->note,
                 "%s: compaction failed (%s): the journal is kept as it was",
                 name, strerror(-r));
    }
    m->fd =
        openat(dirfd, name,
               O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    struct stat st;
    if (m->fd < 0 || fstat(m->fd, &st) < 0) {
        snprintf(err, errlen, "cannot open %s for writing: %s", name,
                 strerror(errno));
        meta_close(m);
        return NULL;
    }
    m->size = st.st_size;
    if (r < 0 && good_end < m->size) {
        /* a torn last line: later lines must not be glued to it */
        if (ftruncate(m->fd, good_end) == 0) {
            m->size = good_end;
        }
    }
    return m;
}

const char *meta_note(const struct meta *m)
{
    return m->note;
}

void meta_close(struct meta *m)
{
    if (!m) {
        return;
    }
    for (int i = 0; i < META_HASH; i++) {
        struct ment *e = m->tab[i];
        while (e) {
            struct ment *n = e->next;
            grp_put(e->g);
            free(e->path);
            free(e);
            e = n;
        }
    }
    if (m->fd >= 0) {
        close(m->fd);
    }
    free(m->name);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

int meta_get(struct meta *m, const char *rel, struct meta_rec *out)
{
    pthread_mutex_lock(&m->lock);
    struct ment *e = *find(m, rel);
    if (e) {
        *out = e->g->r;
    }
    pthread_mutex_unlock(&m->lock);
    return e != NULL;
}

int meta_set(struct meta *m, const char *rel, const struct meta_rec *r)
{
    pthread_mutex_lock(&m->lock);
    int ret = journal(m, "set", rel, NULL, r);
    if (!ret) {
        ret = apply_set(m, rel, r);
    }
    pthread_mutex_unlock(&m->lock);
    return ret;
}

/* Does any record lie at or under p (lock held)? */
static int any_under(struct meta *m, const char *p)
{
    for (int i = 0; i < META_HASH; i++) {
        for (struct ment *e = m->tab[i]; e; e = e->next) {
            if (is_under(e->path, p)) {
                return 1;
            }
        }
    }
    return 0;
}

int meta_del(struct meta *m, const char *rel)
{
    pthread_mutex_lock(&m->lock);
    int ret = 0;
    if (any_under(m, rel)) {
        ret = journal(m, "del", rel, NULL, NULL);
        /* the name is gone either way; a record that could not be
         * deleted on disk is pruned at the next mount */
        apply_del(m, rel);
    }
    pthread_mutex_unlock(&m->lock);
    return ret;
}

int meta_rename(struct meta *m, const char *from, const char *to)
{
    pthread_mutex_lock(&m->lock);
    int ret = 0;
    if (any_under(m, from) || any_under(m, to)) {
        ret = journal(m, "mv", from, to, NULL);
        if (!ret) {
            apply_mv(m, from, to);
        }
    }
    pthread_mutex_unlock(&m->lock);
    return ret;
}

int meta_link(struct meta *m, const char *from, const char *to)
{
    pthread_mutex_lock(&m->lock);
    int ret = journal(m, "ln", from, to, NULL);
    if (!ret) {
        ret = apply_ln(m, from, to);
    }
    pthread_mutex_unlock(&m->lock);
    return ret;
}
