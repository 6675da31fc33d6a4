/* The metadata journal (see meta.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "meta.h"
#include "str_hash.h"

struct ment {
    char *path;
    struct meta_rec r;
    struct ment *next;
};

#define META_HASH 4096

struct meta {
    pthread_mutex_t lock;
    int dirfd;
    char *name;
    int fd; /* journal, O_APPEND */
    struct ment *tab[META_HASH];
    size_t count;
};

static unsigned h(const char *s)
{
    return sfemu_str_hash(s) % META_HASH;
}

static struct ment **find(struct meta *m, const char *p)
{
    struct ment **pp = &m->tab[h(p)];
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

static void put(struct meta *m, const char *p, const struct meta_rec *r)
{
    struct ment **pp = find(m, p);
    if (*pp) {
        (*pp)->r = *r;
        return;
    }
    struct ment *e = malloc(sizeof *e);
    if (!e || !(e->path = strdup(p))) {
        free(e);
        return;
    }
    e->r = *r;
    e->next = NULL;
    *pp = e;
    m->count++;
}

static void del_tree(struct meta *m, const char *p)
{
    for (int i = 0; i < META_HASH; i++) {
        struct ment **pp = &m->tab[i];
        while (*pp) {
            if (is_under((*pp)->path, p)) {
                struct ment *d = *pp;
                *pp = d->next;
                free(d->path);
                free(d);
                m->count--;
            } else {
                pp = &(*pp)->next;
            }
        }
    }
}

static void mv_tree(struct meta *m, const char *from, const char *to)
{
    struct ment *moved = NULL;
    del_tree(m, to);
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
            put(m, np, &d->r);
            free(np);
        }
        free(d->path);
        free(d);
    }
}

static void esc(FILE *f, const char *p)
{
    for (const unsigned char *s = (const unsigned char *)p; *s; s++) {
        if (*s <= 0x20 || *s == '%' || *s == 0x7f) {
            fprintf(f, "%%%02x", *s);
        } else {
            fputc(*s, f);
        }
    }
}

static void unesc(char *s)
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

static void journal(struct meta *m, const char *kind, const char *a,
                    const char *b, const struct meta_rec *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        return;
    }
    fprintf(f, "%s ", kind);
    esc(f, a);
    if (b) {
        fputc(' ', f);
        esc(f, b);
    }
    if (r) {
        fprintf(f, " %ld %ld ", r->uid, r->gid);
        if (r->mode < 0) {
            fputs("-1", f);
        } else {
            fprintf(f, "%lo", r->mode);
        }
        fprintf(f, " %ld", r->rdev);
    }
    fputc('\n', f);
    fclose(f);
    if (m->fd >= 0 && write(m->fd, buf, len) < 0) { /* best effort */
    }
    free(buf);
}

static void replay(struct meta *m, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        char kind[8], a[4096], b[4096];
        struct meta_rec r;
        char mode[32];
        if (sscanf(line, "set %4095s %ld %ld %31s %ld", a, &r.uid, &r.gid, mode,
                   &r.rdev) == 5) {
            r.mode = strcmp(mode, "-1") == 0 ? -1 : strtol(mode, NULL, 8);
            unesc(a);
            put(m, a, &r);
        } else if (sscanf(line, "del %4095s", a) == 1) {
            unesc(a);
            del_tree(m, a);
        } else if (sscanf(line, "mv %4095s %4095s", a, b) == 2) {
            unesc(a);
            unesc(b);
            mv_tree(m, a, b);
        }
        (void)kind;
    }
    free(line);
}

struct meta *meta_open(int dirfd, const char *name, char *err, size_t errlen)
{
    struct meta *m = calloc(1, sizeof *m);
    if (!m) {
        return NULL;
    }
    pthread_mutex_init(&m->lock, NULL);
    m->dirfd = dirfd;
    m->name = strdup(name);
    m->fd = -1;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        FILE *f = fdopen(fd, "r");
        if (f) {
            replay(m, f);
            fclose(f);
        } else {
            close(fd);
        }
    } else if (errno != ENOENT) {
        snprintf(err, errlen, "cannot read %s: %s", name, strerror(errno));
        meta_close(m);
        return NULL;
    }
    /* compact: write the current table, then rename over the journal */
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", name);
    int tfd =
        openat(dirfd, tmp,
               O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (tfd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        meta_close(m);
        return NULL;
    }
    m->fd = tfd;
    for (int i = 0; i < META_HASH; i++) {
        for (struct ment *e = m->tab[i]; e; e = e->next) {
            journal(m, "set", e->path, NULL, &e->r);
        }
    }
    fsync(tfd);
    close(tfd);
    m->fd = -1;
    if (renameat(dirfd, tmp, dirfd, name) < 0) {
        snprintf(err, errlen, "cannot replace %s: %s", name, strerror(errno));
        meta_close(m);
        return NULL;
    }
    m->fd = openat(dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (m->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", name, strerror(errno));
        meta_close(m);
        return NULL;
    }
    return m;
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
    struct ment **pp = find(m, rel);
    int found = *pp != NULL;
    if (found) {
        *out = (*pp)->r;
    }
    pthread_mutex_unlock(&m->lock);
    return found;
}

int meta_set(struct meta *m, const char *rel, const struct meta_rec *r)
{
    pthread_mutex_lock(&m->lock);
    put(m, rel, r);
    journal(m, "set", rel, NULL, r);
    pthread_mutex_unlock(&m->lock);
    return 0;
}

int meta_del(struct meta *m, const char *rel)
{
    pthread_mutex_lock(&m->lock);
    size_t before = m->count;
    del_tree(m, rel);
    if (m->count != before) {
        journal(m, "del", rel, NULL, NULL);
    }
    pthread_mutex_unlock(&m->lock);
    return 0;
}

int meta_rename(struct meta *m, const char *from, const char *to)
{
    pthread_mutex_lock(&m->lock);
    mv_tree(m, from, to);
    journal(m, "mv", from, to, NULL);
    pthread_mutex_unlock(&m->lock);
    return 0;
}
