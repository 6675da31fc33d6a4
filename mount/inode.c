/* The inode table (inode.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "inode.h"
#include "passthrough.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct inode root;
static struct inode **tab;
static size_t nbuckets, count;

static size_t bucket(dev_t dev, ino_t ino, uint64_t salt, int fake, size_t n)
{
    uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev ^ salt ^
                 (uint64_t)fake << 63;
    return (size_t)(h ^ h >> 29) & (n - 1);
}

static int same(const struct inode *i, const struct ino_key *k)
{
    return i->dev == k->dev && i->ino == k->ino && i->salt == k->salt &&
           i->fake == k->fake;
}

void ino_init(int upper_fd, int lower_fd)
{
    root.nlookup = 1;
    root.refs = 1; /* never freed */
    root.ufd = upper_fd;
    root.lfd = lower_fd;
    root.upper = 1;
    root.type = S_IFDIR;
    root.records = -1;
    root.meta = META_REC_NONE;
    nbuckets = 1024;
    tab = calloc(nbuckets, sizeof *tab);
}

struct inode *ino_root(void)
{
    return &root;
}

struct inode *ino_of(uint64_t nodeid)
{
    return nodeid == INODE_ROOT ? &root : (struct inode *)(uintptr_t)nodeid;
}

uint64_t ino_id(const struct inode *i)
{
    return i == &root ? INODE_ROOT : (uint64_t)(uintptr_t)i;
}

static struct inode **slot(const struct ino_key *k)
{
    struct inode **pp =
        &tab[bucket(k->dev, k->ino, k->salt, k->fake, nbuckets)];
    while (*pp && !same(*pp, k)) {
        pp = &(*pp)->hnext;
    }
    return pp;
}

static void grow(void)
{
    size_t n = nbuckets * 2;
    struct inode **t = calloc(n, sizeof *t);
    if (!t) {
        return; /* longer chains, still correct */
    }
    for (size_t b = 0; b < nbuckets; b++) {
        while (tab[b]) {
            struct inode *i = tab[b];
            tab[b] = i->hnext;
            size_t k = bucket(i->dev, i->ino, i->salt, i->fake, n);
            i->hnext = t[k];
            t[k] = i;
        }
    }
    free(tab);
    tab = t;
    nbuckets = n;
}

static void unhash(struct inode *i)
{
    struct inode **pp =
        &tab[bucket(i->dev, i->ino, i->salt, i->fake, nbuckets)];
    while (*pp && *pp != i) {
        pp = &(*pp)->hnext;
    }
    if (*pp) {
        *pp = i->hnext;
        count--;
    }
    i->hnext = NULL;
}

/* Free an unhashed inode (its links are the caller's). */
static void destroy(struct inode *i)
{
    pt_forget(i);
    if (i->ufd >= 0) {
        close(i->ufd);
    }
    if (i->lfd >= 0) {
        close(i->lfd);
    }
    free(i);
}

/* Free i if nothing holds it, and then the parents it held (lock held). */
static void maybe_free(struct inode *i)
{
    if (!i || i == &root || i->nlookup || i->refs) {
        return;
    }
    unhash(i);
    struct ilink *links = i->links;
    destroy(i);
    while (links) {
        struct ilink *l = links;
        struct inode *p = l->parent;
        links = l->next;
        free(l->name);
        free(l);
        p->refs--;
        maybe_free(p);
    }
}

static struct ilink **find_link(struct inode *i, struct inode *parent,
                                const char *name)
{
    struct ilink **pp = &i->links;
    while (*pp && ((*pp)->parent != parent || strcmp((*pp)->name, name))) {
        pp = &(*pp)->next;
    }
    return pp;
}

static void link_add_locked(struct inode *i, struct inode *parent,
                            const char *name)
{
    if (!parent || *find_link(i, parent, name)) {
        return;
    }
    struct ilink *l = malloc(sizeof *l);
    char *n = strdup(name);
    if (!l || !n) {
        free(l);
        free(n);
        return; /* only the path-based parts lose this name */
    }
    if (S_ISDIR(i->type)) {
        /* a directory has one name: this one replaces it */
        while (i->links) {
            struct ilink *o = i->links;
            i->links = o->next;
            o->parent->refs--;
            maybe_free(o->parent);
            free(o->name);
            free(o);
        }
    }
    parent->refs++;
    l->parent = parent;
    l->name = n;
    l->next = i->links;
    i->links = l;
}

struct inode *ino_learn(struct inode *parent, const char *name,
                        const struct ino_key *k, mode_t type, int upper,
                        int ufd, int lfd)
{
    pthread_mutex_lock(&lock);
    struct inode **pp = slot(k), *i = *pp;
    if (i) {
        i->nlookup++;
        link_add_locked(i, parent, name);
        pthread_mutex_unlock(&lock);
        if (ufd >= 0 && ufd != i->ufd) {
            close(ufd);
        }
        if (lfd >= 0 && lfd != i->lfd) {
            close(lfd);
        }
        return i;
    }
    i = calloc(1, sizeof *i);
    if (!i) {
        pthread_mutex_unlock(&lock);
        return NULL;
    }
    i->dev = k->dev;
    i->ino = k->ino;
    i->salt = k->salt;
    i->fake = k->fake;
    i->nlookup = 1;
    i->ufd = ufd;
    i->lfd = lfd;
    i->upper = (unsigned char)(upper != 0);
    i->type = type & S_IFMT;
    i->records = -1;
    i->meta = META_REC_NONE;
    i->hnext = *pp;
    *pp = i;
    if (++count > nbuckets * 2) {
        grow();
    }
    link_add_locked(i, parent, name);
    pthread_mutex_unlock(&lock);
    return i;
}

struct inode *ino_find(const struct ino_key *k)
{
    pthread_mutex_lock(&lock);
    struct inode *i = *slot(k);
    if (i) {
        i->refs++;
    }
    pthread_mutex_unlock(&lock);
    return i;
}

void ino_forget(struct inode *i, uint64_t n)
{
    pthread_mutex_lock(&lock);
    i->nlookup = n > i->nlookup ? 0 : i->nlookup - n;
    maybe_free(i);
    pthread_mutex_unlock(&lock);
}

void ino_ref(struct inode *i)
{
    pthread_mutex_lock(&lock);
    i->refs++;
    pthread_mutex_unlock(&lock);
}

void ino_unref(struct inode *i)
{
    pthread_mutex_lock(&lock);
    i->refs--;
    maybe_free(i);
    pthread_mutex_unlock(&lock);
}

void ino_link_add(struct inode *i, struct inode *parent, const char *name)
{
    pthread_mutex_lock(&lock);
    link_add_locked(i, parent, name);
    pthread_mutex_unlock(&lock);
}

static void link_drop_locked(struct inode *i, struct inode *parent,
                             const char *name)
{
    struct ilink **pp = find_link(i, parent, name), *l = *pp;
    if (!l) {
        return;
    }
    *pp = l->next;
    free(l->name);
    free(l);
    parent->refs--;
    maybe_free(parent);
}

void ino_link_drop(struct inode *i, struct inode *parent, const char *name)
{
    pthread_mutex_lock(&lock);
    link_drop_locked(i, parent, name);
    pthread_mutex_unlock(&lock);
}

void ino_link_move(struct inode *i, struct inode *oparent, const char *oname,
                   struct inode *nparent, const char *nname)
{
    pthread_mutex_lock(&lock);
    i->refs++; /* dropping the last link must not free i here */
    link_drop_locked(i, oparent, oname);
    link_add_locked(i, nparent, nname);
    i->refs--;
    pthread_mutex_unlock(&lock);
}

int ino_has_link(struct inode *i)
{
    pthread_mutex_lock(&lock);
    int r = i == &root || i->links != NULL;
    pthread_mutex_unlock(&lock);
    return r;
}

int ino_first_link(struct inode *i, struct inode **parent, char **name)
{
    pthread_mutex_lock(&lock);
    struct ilink *l = i->links;
    int r = -ENOENT;
    if (l && (*name = strdup(l->name))) {
        *parent = l->parent;
        l->parent->refs++;
        r = 0;
    } else if (l) {
        r = -ENOMEM;
    }
    pthread_mutex_unlock(&lock);
    return r;
}

/* Path of i + "/" + extra (extra may be NULL), lock held. */
static char *path_locked(struct inode *i, const char *extra)
{
    size_t len = 0, depth = 0;
    for (struct inode *p = i; p != &root; p = p->links->parent) {
        if (!p->links || ++depth > 4096) {
            return NULL;
        }
        len += strlen(p->links->name);
    }
    if (extra) {
        len += strlen(extra);
        depth++;
    }
    if (!depth) {
        return strdup(".");
    }
    len += depth - 1; /* the slashes */
    char *out = malloc(len + 1);
    if (!out) {
        return NULL;
    }
    size_t end = len;
    out[end] = 0;
    if (extra) {
        end -= strlen(extra);
        memcpy(out + end, extra, strlen(extra));
        if (end) {
            out[--end] = '/';
        }
    }
    for (struct inode *p = i; p != &root; p = p->links->parent) {
        size_t n = strlen(p->links->name);
        end -= n;
        memcpy(out + end, p->links->name, n);
        if (end) {
            out[--end] = '/';
        }
    }
    return out;
}

char *ino_path(struct inode *i)
{
    pthread_mutex_lock(&lock);
    char *p = path_locked(i, NULL);
    pthread_mutex_unlock(&lock);
    return p;
}

char *ino_child_path(struct inode *dir, const char *name)
{
    pthread_mutex_lock(&lock);
    char *p = path_locked(dir, name);
    pthread_mutex_unlock(&lock);
    return p;
}

void ino_rekey(struct inode *i, dev_t dev, ino_t ino)
{
    pthread_mutex_lock(&lock);
    if (i != &root && (i->dev != dev || i->ino != ino || i->salt)) {
        unhash(i);
        struct ino_key k = { dev, ino, 0, i->fake };
        struct inode **pp = slot(&k);
        i->dev = dev;
        i->ino = ino;
        i->salt = 0;
        i->hnext = *pp;
        *pp = i;
        count++;
    }
    pthread_mutex_unlock(&lock);
}

int ino_set_ufd(struct inode *i, int fd)
{
    pthread_mutex_lock(&lock);
    int set = i->ufd < 0;
    if (set) {
        __atomic_store_n(&i->ufd, fd, __ATOMIC_RELEASE);
        __atomic_store_n(&i->upper, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&lock);
    return set;
}

int ino_last_link(struct inode *i, struct inode *parent, const char *name)
{
    pthread_mutex_lock(&lock);
    struct ilink *l = i->links;
    int last =
        !l || (!l->next && l->parent == parent && !strcmp(l->name, name));
    pthread_mutex_unlock(&lock);
    return last;
}

void ino_pin(struct inode *i, int fd)
{
    pthread_mutex_lock(&lock);
    int *slot = i->upper ? &i->ufd : &i->lfd;
    if (*slot < 0) {
        *slot = fd;
        fd = -1;
    }
    pthread_mutex_unlock(&lock);
    if (fd >= 0) {
        close(fd);
    }
}

void ino_free_all(void)
{
    pthread_mutex_lock(&lock);
    for (size_t b = 0; b < nbuckets; b++) {
        while (tab[b]) {
            struct inode *i = tab[b];
            i->nlookup = 0;
            i->refs = 0;
            while (i->links) { /* the parents go too */
                struct ilink *l = i->links;
                i->links = l->next;
                free(l->name);
                free(l);
            }
            unhash(i);
            destroy(i);
        }
    }
    free(tab);
    tab = NULL;
    pthread_mutex_unlock(&lock);
}
