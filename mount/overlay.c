/* The overlay: resolution, copy-up, whiteouts, merged listings (overlay.h). */
#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "overlay.h"
#include "str_hash.h"

int ovl_layer_open(int layer_fd, const char *rel, int flags, mode_t mode)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
        .mode = mode,
        .resolve =
            RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    if (!(flags & O_CREAT) && !(flags & O_TMPFILE)) {
        how.mode = 0;
    }
    int fd = (int)syscall(SYS_openat2, layer_fd, rel, &how, sizeof how);
    /* never -ENOSYS: from OPEN the kernel takes it for "this filesystem
     * needs no open" and sends READs without a handle (main.c checks for
     * openat2 at start-up) */
    return fd >= 0 ? fd : errno == ENOSYS ? -EOPNOTSUPP : -errno;
}

int ovl_layer_fd(const struct ovl *o, enum ovl_layer l)
{
    return l == OVL_UPPER ? o->upper_fd : o->lower_fd;
}

/* rel's parent directory into dir[PATH_MAX] ("." at the top) and its last
 * name into *name. */
static int split_parent(const char *rel, char *dir, const char **name)
{
    const char *slash = strrchr(rel, '/');
    size_t n = slash ? (size_t)(slash - rel) : 1;
    if (n >= PATH_MAX) {
        return -ENAMETOOLONG;
    }
    memcpy(dir, slash ? rel : ".", n);
    dir[n] = 0;
    *name = slash ? slash + 1 : rel;
    return 0;
}

int ovl_parent_fd(int layer_fd, const char *rel, const char **name)
{
    char dir[PATH_MAX];
    int r = split_parent(rel, dir, name);
    if (r < 0) {
        return r;
    }
    if (*name == rel) { /* at the top: the layer itself */
        int fd = fcntl(layer_fd, F_DUPFD_CLOEXEC, 0);
        return fd < 0 ? -errno : fd;
    }
    return ovl_layer_open(layer_fd, dir, O_PATH | O_DIRECTORY, 0);
}

int ovl_is_hidden_name(const char *name)
{
    return strncmp(name, WH_PREFIX, WH_PREFIX_LEN) == 0;
}

static int has_wh(int dirfd, const char *name)
{
    char wh[NAME_MAX + 8];
    if (snprintf(wh, sizeof wh, WH_PREFIX "%s", name) >= (int)sizeof wh) {
        return 0;
    }
    struct stat st;
    return fstatat(dirfd, wh, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int is_opaque(int dirfd)
{
    struct stat st;
    return fstatat(dirfd, WH_OPAQUE, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int ovl_resolve(struct ovl *o, const char *rel, struct ovl_ent *e)
{
    memset(e, 0, sizeof *e);
    if (strcmp(rel, ".") == 0) {
        e->layer = OVL_UPPER;
        e->lower_visible = 1;
        e->opaque = is_opaque(o->upper_fd);
        if (fstat(o->lower_fd, &e->st) < 0) {
            return -errno;
        }
        return 0;
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
    if (ovl_is_hidden_name(name)) {
        DROP_UFD();
        return -ENOENT;
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
        int found;
        if (name == rel) {
            /* top level: no directory to walk, nothing to follow */
            found = fstatat(o->lower_fd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0;
        } else {
            const char *lname;
            int lfd = ovl_parent_fd(o->lower_fd, rel, &lname);
            found =
                lfd >= 0 && fstatat(lfd, lname, &lst, AT_SYMLINK_NOFOLLOW) == 0;
            if (lfd >= 0) {
                close(lfd);
            }
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

/* ------------------------------------------------------------------ copy-up */

int ovl_clear_whiteout(int upper_parent_fd, const char *name)
{
    char wh[NAME_MAX + 8];
    if (snprintf(wh, sizeof wh, WH_PREFIX "%s", name) >= (int)sizeof wh) {
        return -ENAMETOOLONG;
    }
    if (unlinkat(upper_parent_fd, wh, 0) < 0 && errno != ENOENT) {
        return -errno;
    }
    return 0;
}

/* mkdir -p of rel's directory chain in the upper tree, copying modes from the
 * lower tree; returns an fd of the innermost directory. */
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
            struct stat lst;
            mode_t mode = 0755;
            int lfd =
                ovl_layer_open(o->lower_fd, path, O_PATH | O_DIRECTORY, 0);
            if (lfd >= 0) {
                if (fstat(lfd, &lst) == 0) {
                    mode = lst.st_mode & 07777;
                }
                close(lfd);
            }
            if (mkdirat(fd, p, mode | 0700) < 0 && errno != EEXIST) {
                int err = errno;
                close(fd);
                return -err;
            }
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

int ovl_upper_parent(struct ovl *o, const char *rel, const char **name)
{
    char dir[PATH_MAX];
    int r = split_parent(rel, dir, name);
    return r < 0 ? r : upper_dirs(o, dir);
}

static int copy_data(int in, int out, off_t size)
{
    off_t off = 0;
    while (off < size) {
        ssize_t n =
            copy_file_range(in, &off, out, NULL, (size_t)(size - off), 0);
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
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

int ovl_copy_up(struct ovl *o, const char *rel, const struct ovl_ent *e)
{
    if (e->layer == OVL_UPPER) {
        return 0;
    }
    pthread_mutex_lock(&o->copy_lock);
    struct ovl_ent now;
    int ret = ovl_resolve(o, rel, &now);
    if (ret < 0 || now.layer == OVL_UPPER) {
        goto out;
    }
    const char *name;
    int pfd = ovl_upper_parent(o, rel, &name);
    if (pfd < 0) {
        ret = pfd;
        goto out;
    }
    const struct stat *st = &now.st;
    if (S_ISDIR(st->st_mode)) {
        ret = mkdirat(pfd, name, (st->st_mode & 07777) | 0700) < 0 &&
                      errno != EEXIST
                  ? -errno
                  : 0;
    } else if (S_ISLNK(st->st_mode)) {
        char target[PATH_MAX];
        const char *lname;
        int lfd = ovl_parent_fd(o->lower_fd, rel, &lname);
        ssize_t n =
            lfd >= 0 ? readlinkat(lfd, lname, target, sizeof target - 1) : -1;
        if (lfd >= 0) {
            close(lfd);
        }
        if (n < 0) {
            ret = -errno;
        } else {
            target[n] = 0;
            ret = symlinkat(target, pfd, name) < 0 ? -errno : 0;
        }
    } else if (S_ISREG(st->st_mode)) {
        int in = ovl_layer_open(o->lower_fd, rel, O_RDONLY, 0);
        if (in < 0) {
            ret = in;
        } else {
            char tmp[64];
            static unsigned seq;
            snprintf(tmp, sizeof tmp, "copyup.%d.%u", (int)getpid(),
                     __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
            int out =
                openat(o->work_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                       (st->st_mode & 07777) | 0600);
            if (out < 0) {
                ret = -errno;
            } else {
                ret = copy_data(in, out, st->st_size);
                if (ret == 0) {
                    fchmod(out, st->st_mode & 07777);
                    struct timespec ts[2] = { st->st_atim, st->st_mtim };
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
        }
    } else {
        /* device nodes, fifos, sockets: an empty regular file stands in (the
         * device itself is served by the fake engine, never by the host) */
        int fd =
            openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        ret = fd < 0 ? -errno : 0;
        if (fd >= 0) {
            close(fd);
        }
        if (ret == 0 && (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))) {
            struct meta_rec r;
            if (!meta_get(o->meta, rel, &r)) {
                r = (struct meta_rec){ -1, -1, -1, -1 };
            }
            if (r.mode < 0) {
                r.mode = (long)st->st_mode;
            }
            if (r.rdev < 0) {
                r.rdev = (long)st->st_rdev;
            }
            ret = meta_set(o->meta, rel, &r);
            if (ret < 0) {
                unlinkat(pfd, name, 0);
            }
        }
    }
    close(pfd);
    ovl_changed(o);
out:
    pthread_mutex_unlock(&o->copy_lock);
    return ret;
}

int ovl_whiteout(struct ovl *o, const char *rel)
{
    const char *name;
    int pfd = ovl_upper_parent(o, rel, &name);
    if (pfd < 0) {
        return pfd;
    }
    char wh[NAME_MAX + 8];
    int ret = 0;
    if (snprintf(wh, sizeof wh, WH_PREFIX "%s", name) >= (int)sizeof wh) {
        ret = -ENAMETOOLONG;
    } else {
        int fd =
            openat(pfd, wh, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            ret = -errno;
        } else {
            close(fd);
        }
    }
    close(pfd);
    ovl_changed(o);
    return ret;
}

/* ------------------------------------------------------------------ listing */

static int dir_add(struct ovl_dir *d, const char *name, unsigned char type)
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
    d->v[d->n].name = strdup(name);
    if (!d->v[d->n].name) {
        return -ENOMEM;
    }
    d->v[d->n].type = type;
    d->n++;
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

static int nset_add(struct nset *s, char *name) /* name owned by the caller */
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 128;
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
    s->v[i] = name;
    s->n++;
    return 1;
}

static int list_layer(int layer_fd, const char *rel, int upper,
                      struct ovl_dir *out, struct nset *seen, struct nset *wh,
                      char ***own, size_t *nown, int *opaque)
{
    int fd = ovl_layer_open(layer_fd, rel, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) {
        return fd == -ENOENT || fd == -ENOTDIR ? 0 : fd;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    struct dirent *de;
    int ret = 0;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (!strcmp(n, ".") || !strcmp(n, "..")) {
            continue;
        }
        if (upper && ovl_is_hidden_name(n)) {
            if (!strcmp(n, WH_OPAQUE)) {
                *opaque = 1;
            } else {
                char *w = strdup(n + WH_PREFIX_LEN);
                if (!w || nset_add(wh, w) <= 0) {
                    free(w);
                }
            }
            continue;
        }
        if (!upper && ovl_is_hidden_name(n)) {
            continue;
        }
        if (nset_has(seen, n) || (!upper && nset_has(wh, n))) {
            continue;
        }
        char *c = strdup(n);
        if (!c) {
            ret = -ENOMEM;
            break;
        }
        *own = realloc(*own, (*nown + 1) * sizeof **own);
        (*own)[(*nown)++] = c;
        nset_add(seen, c);
        unsigned char t = de->d_type;
        if (t == DT_CHR || t == DT_BLK) {
            t = DT_REG; /* fake devices are regular files on the mount */
        }
        if ((ret = dir_add(out, n, t)) < 0) {
            break;
        }
    }
    closedir(d);
    return ret;
}

int ovl_list(struct ovl *o, const char *rel, const struct ovl_ent *e,
             struct ovl_dir *out)
{
    struct nset seen = { 0 }, wh = { 0 };
    char **own = NULL;
    size_t nown = 0;
    int opaque = 0, ret = 0;
    memset(out, 0, sizeof *out);
    if (e->layer == OVL_UPPER) {
        ret = list_layer(o->upper_fd, rel, 1, out, &seen, &wh, &own, &nown,
                         &opaque);
    }
    if (ret == 0 && e->lower_visible && !opaque && !e->opaque) {
        ret = list_layer(o->lower_fd, rel, 0, out, &seen, &wh, &own, &nown,
                         &opaque);
    }
    /* "<x>.fakefile" makes "<x>" appear */
    size_t n = out->n;
    for (size_t i = 0; ret == 0 && i < n; i++) {
        size_t l = strlen(out->v[i].name);
        if (l > 9 && strcmp(out->v[i].name + l - 9, ".fakefile") == 0) {
            char *base = strndup(out->v[i].name, l - 9);
            if (base && !nset_has(&seen, base) && !nset_has(&wh, base)) {
                ret = dir_add(out, base, DT_REG);
                own = realloc(own, (nown + 1) * sizeof *own);
                own[nown++] = base;
                nset_add(&seen, base);
            } else {
                free(base);
            }
        }
    }
    for (size_t i = 0; i < nown; i++) {
        free(own[i]);
    }
    free(own);
    for (size_t i = 0; i < wh.cap; i++) {
        free(wh.v[i]);
    }
    free(wh.v);
    free(seen.v);
    if (ret < 0) {
        ovl_dir_free(out);
    }
    return ret;
}

int ovl_dir_empty(struct ovl *o, const char *rel, const struct ovl_ent *e)
{
    struct ovl_dir d;
    int ret = ovl_list(o, rel, e, &d);
    if (ret < 0) {
        return ret;
    }
    ret = d.n == 0;
    ovl_dir_free(&d);
    return ret;
}

int ovl_remove_upper_dir(struct ovl *o, const char *rel)
{
    int fd = ovl_layer_open(o->upper_fd, rel, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) {
        return fd;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (ovl_is_hidden_name(de->d_name)) {
            unlinkat(dirfd(d), de->d_name, 0);
        }
    }
    closedir(d);
    const char *name;
    int pfd = ovl_parent_fd(o->upper_fd, rel, &name);
    if (pfd < 0) {
        return pfd;
    }
    int ret = unlinkat(pfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
    close(pfd);
    ovl_changed(o);
    return ret;
}

/* ------------------------------------------------------------------ files */

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

int ovl_write_file(struct ovl *o, const char *rel, const char *data, size_t len)
{
    const char *name;
    pthread_mutex_lock(&o->copy_lock);
    int pfd = ovl_upper_parent(o, rel, &name);
    if (pfd < 0) {
        pthread_mutex_unlock(&o->copy_lock);
        return pfd;
    }
    char tmp[64];
    static unsigned seq;
    snprintf(tmp, sizeof tmp, "write.%d.%u", (int)getpid(),
             __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
    int ret = 0;
    int fd =
        openat(o->work_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        ret = -errno;
    } else {
        size_t off = 0;
        while (off < len) {
            ssize_t n = write(fd, data + off, len - off);
            if (n < 0) {
                ret = -errno;
                break;
            }
            off += (size_t)n;
        }
        close(fd);
        if (ret == 0 && renameat(o->work_fd, tmp, pfd, name) < 0) {
            ret = -errno;
        }
        if (ret < 0) {
            unlinkat(o->work_fd, tmp, 0);
        } else {
            ovl_clear_whiteout(pfd, name);
        }
    }
    close(pfd);
    ovl_changed(o);
    pthread_mutex_unlock(&o->copy_lock);
    return ret;
}
