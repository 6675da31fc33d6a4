/*
 * Where a guest path leads (struct tr_loc), decided without following
 * anything on the host:
 *
 *  - A relative path starts at the guest view of its directory (the cwd or
 *    the dirfd): inside the root, the path below the root; under a host
 *    exception, the host path itself (identity).  So ".." from a dirfd on
 *    /proc climbs to the guest's "/", which is the root.
 *  - The path is cleaned up lexically ("//", ".", "..") only to find out
 *    whether it names a host exception; a path that does not is handed to
 *    the kernel as the guest wrote it and resolved inside the root.
 *  - /proc/<pid>/{root,cwd,fd/N,exe} are links to the host's objects: each
 *    is mapped to the guest's root, cwd, fd or program as soon as the walk
 *    reaches it, and the rest of the path (".." included) starts again
 *    from there.  /proc/<pid>/{mem,map_files} are refused; /proc/<pid> of
 *    a process outside the guest's world does not exist.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/runtime.h"
#include "trueroot/tr.h"

bool tr_under(const char *path, const char *prefix, size_t len)
{
    return strncmp(path, prefix, len) == 0 &&
           (path[len] == 0 || path[len] == '/');
}

/*
 * The next component of a path at *p (advanced past it): its length, 0 at
 * the end.  *s is its start; "." comes back as 1 with **s == '.'.
 */
enum { C_END, C_DOT, C_DOTDOT, C_NAME };

static int tr_next(const char **p, const char **s, size_t *n)
{
    while (**p == '/') {
        (*p)++;
    }
    *s = *p;
    while (**p && **p != '/') {
        (*p)++;
    }
    *n = (size_t)(*p - *s);
    if (*n == 0) {
        return C_END;
    }
    if (*n == 1 && (*s)[0] == '.') {
        return C_DOT;
    }
    return *n == 2 && (*s)[0] == '.' && (*s)[1] == '.' ? C_DOTDOT : C_NAME;
}

/* Drop the last component of a normal path of length *o. */
static void tr_pop(char *norm, size_t *o)
{
    while (*o > 0 && norm[--*o] != '/') {
    }
    norm[*o] = 0;
}

/* Lexical normal form ("//", ".", ".." collapsed) of an absolute path. */
void tr_normalize(const char *in, char *out)
{
    const char *s;
    size_t o = 0, n;
    int k;

    out[0] = 0;
    while ((k = tr_next(&in, &s, &n)) != C_END) {
        if (k == C_DOTDOT) {
            tr_pop(out, &o);
        } else if (k == C_NAME) {
            out[o++] = '/';
            memcpy(out + o, s, n);
            o += n;
        }
    }
    if (o == 0) {
        out[o++] = '/';
    }
    out[o] = 0;
}

/* ------------------------------------------------------ guest views */

/* The guest's name for a host path inside the root; -1 if outside. */
int tr_strip(const char *host, char *out)
{
    struct tr_root *r = atomic_load(&tr_root);

    if (r->len == 1) { /* root "/": identity */
        snprintf(out, PATH_MAX, "%s", host);
        return 0;
    }
    if (!tr_under(host, r->path, r->len)) {
        return -1;
    }
    snprintf(out, PATH_MAX, "%s", host[r->len] ? host + r->len : "/");
    return 0;
}

int sfemu_trueroot_guest_path(const char *host, char out[PATH_MAX])
{
    return tr_strip(host, out);
}

/*
 * The guest's name for a host object: inside the root, stripped; a host
 * exception, itself.  -ENOENT for a deleted one, -ENOTDIR for a pipe or
 * socket, -EXDEV for anything else on the host.
 */
static int tr_view(const char *host, char *out)
{
    char norm[PATH_MAX];
    size_t n = strlen(host);

    if (host[0] != '/') {
        return -ENOTDIR; /* "pipe:[12]", "socket:[3]", "anon_inode:..." */
    }
    if (n > 10 && !strcmp(host + n - 10, " (deleted)")) {
        return -ENOENT;
    }
    if (tr_strip(host, out) == 0) {
        return 0;
    }
    tr_normalize(host, norm);
    if (tr_host_prefix(norm)) {
        snprintf(out, PATH_MAX, "%s", norm);
        return 0;
    }
    return -EXDEV;
}

int tr_guest_cwd(char *out)
{
    char host[PATH_MAX];

    if (!getcwd(host, sizeof(host))) {
        return -errno;
    }
    /* Outside the root and the exceptions (qemu started elsewhere): "/". */
    if (tr_view(host, out) != 0) {
        snprintf(out, PATH_MAX, "/");
    }
    return 0;
}

/*
 * The guest view of the object a /proc magic link (cwd, fd/N) points to.
 * A directory outside the root and the exceptions: EACCES (it can only be
 * one the guest got from the host, never through the root).
 */
int tr_fd_view(const char *link, char *out, bool cwd)
{
    char host[PATH_MAX];
    ssize_t n = readlink(link, host, sizeof(host) - 1);
    int rc;

    if (n < 0) {
        return errno == ENOENT ? -EBADF : -errno;
    }
    host[n] = 0;
    rc = tr_view(host, out);
    if (rc == -EXDEV) {
        if (cwd) {
            snprintf(out, PATH_MAX, "/");
            return 0;
        }
        return -EACCES;
    }
    return rc;
}

/* Whether a magic link's object may be reopened for writing. */
static bool tr_link_safe(const char *link)
{
    char host[PATH_MAX], out[PATH_MAX];
    ssize_t n = readlink(link, host, sizeof(host) - 1);

    if (n < 0) {
        return false;
    }
    host[n] = 0;
    return host[0] != '/' || tr_view(host, out) == 0;
}

/* ------------------------------------------------- the guest's world */

/* Tgid and PPid of a process (or thread) from /proc/<pid>/status. */
static int tr_status(int dirfd, const char *rel, int *tgid, int *ppid)
{
    char buf[1024], *p;
    int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        return -errno;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return -ENOENT;
    }
    buf[n] = 0;
    p = strstr(buf, "\nTgid:");
    *tgid = p ? atoi(p + 6) : -1;
    p = strstr(buf, "\nPPid:");
    *ppid = p ? atoi(p + 6) : -1;
    return *tgid > 0 ? 0 : -ENOENT;
}

/*
 * Whether a process belongs to the guest's world: the guest's first
 * process (the one that started the true root) and its descendants.
 * dirfd/rel name its /proc/<pid>/status.
 */
static bool tr_in_world(int dirfd, const char *rel)
{
    int tgid, ppid, procfd = tr_proc_fd();
    char next[32];

    for (int i = 0; i < 64; i++) {
        if (tr_status(dirfd, rel, &tgid, &ppid) != 0) {
            return false;
        }
        if (tgid == tr_leader || tgid == getpid()) {
            return true;
        }
        if (ppid <= 1) {
            return false;
        }
        snprintf(next, sizeof(next), "%d/status", ppid);
        dirfd = procfd;
        rel = next;
    }
    return false;
}

/* ----------------------------------------------------- /proc links */

enum tr_magic { MG_NONE, MG_ROOT, MG_CWD, MG_EXE, MG_FD, MG_DENY };

struct tr_pid {
    bool own;     /* the guest's own process (or one of its threads) */
    char dir[40]; /* "self", "1234", "1234/task/1235" */
    int fd;       /* MG_FD: N */
};

static bool tr_digits(const char *s, size_t n)
{
    if (n == 0 || n > 10) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

/* Split the first components of a normal path: their count (max 7). */
static int tr_comps(const char *norm, const char *c[7], size_t len[7])
{
    int k = 0;

    for (const char *p = norm; *p && k < 7;) {
        const char *s = ++p;

        while (*p && *p != '/') {
            p++;
        }
        c[k] = s;
        len[k++] = (size_t)(p - s);
    }
    return k;
}

#define TR_IS(i, lit) (len[i] == sizeof(lit) - 1 && !memcmp(c[i], lit, len[i]))

/* Whether pid P (digits) is the guest's own process or one of its threads. */
static bool tr_own_pid(const char *s, size_t n)
{
    char task[48];
    long pid = strtol(s, NULL, 10);

    (void)n;
    if (pid == getpid()) {
        return true;
    }
    snprintf(task, sizeof(task), "self/task/%ld", pid);
    return faccessat(tr_proc_fd(), task, F_OK, 0) == 0;
}

/*
 * The /proc entry a normal path ends at, when it is one of the links to
 * the host (the path's last component is the link): -ENOENT for a process
 * outside the guest's world.
 */
static int tr_magic(const char *norm, struct tr_pid *pid)
{
    const char *c[7];
    size_t len[7];
    int n = tr_comps(norm, c, len), k = 2;

    if (n < 3 || !TR_IS(0, "proc")) {
        return MG_NONE;
    }
    if (TR_IS(1, "self") || TR_IS(1, "thread-self")) {
        pid->own = true;
    } else if (tr_digits(c[1], len[1])) {
        pid->own = tr_own_pid(c[1], len[1]);
    } else {
        return MG_NONE;
    }
    if (n >= 5 && TR_IS(2, "task") && tr_digits(c[3], len[3])) {
        k = 4;
    }
    snprintf(pid->dir, sizeof(pid->dir), "%.*s",
             (int)(c[k - 1] + len[k - 1] - c[1]), c[1]);
    if (n == k + 1) {
        if (TR_IS(k, "root")) {
            return MG_ROOT;
        }
        if (TR_IS(k, "cwd")) {
            return MG_CWD;
        }
        if (TR_IS(k, "exe")) {
            return MG_EXE;
        }
        if (TR_IS(k, "mem") || TR_IS(k, "map_files")) {
            return MG_DENY;
        }
        return MG_NONE;
    }
    if (n == k + 2 && TR_IS(k, "fd") && tr_digits(c[k + 1], len[k + 1])) {
        pid->fd = atoi(c[k + 1]);
        return MG_FD;
    }
    return MG_NONE;
}

/* Whether a /proc/<pid> directory is in the guest's world. */
static bool tr_pid_visible(const struct tr_pid *pid)
{
    char rel[64];

    if (pid->own) {
        return true;
    }
    snprintf(rel, sizeof(rel), "%s/status", pid->dir);
    return tr_in_world(tr_proc_fd(), rel);
}

/* ---------------------------------------------------------- the walk */

/* Join base and rest into out (PATH_MAX). */
static int tr_join(const char *base, const char *rest, char *out)
{
    if (snprintf(out, PATH_MAX, "%s/%s", base, rest) >= PATH_MAX) {
        return -ENAMETOOLONG;
    }
    return 0;
}

/* A /proc location (norm is under /proc): own, readonly, world check. */
static int tr_proc_loc(const char *norm, struct tr_loc *l)
{
    const char *c[7];
    size_t len[7];
    int n = tr_comps(norm, c, len);
    struct tr_pid pid = { 0 };

    l->where = TW_HOST;
    l->exc = "/proc";
    l->proc = true;
    l->base = -1;
    l->readonly = true;
    snprintf(l->path, PATH_MAX, "%s", norm[5] ? norm + 6 : "");
    if (n < 2) {
        return 0;
    }
    if (TR_IS(1, "self") || TR_IS(1, "thread-self")) {
        pid.own = true;
    } else if (tr_digits(c[1], len[1])) {
        pid.own = tr_own_pid(c[1], len[1]);
        snprintf(pid.dir, sizeof(pid.dir), "%.*s", (int)len[1], c[1]);
        if (!tr_pid_visible(&pid)) {
            return -ENOENT;
        }
    } else {
        return 0; /* /proc/sys, /proc/meminfo ...: read-only */
    }
    l->own = pid.own;
    l->readonly = !pid.own;
    return 0;
}

/*
 * Walk an absolute guest path (g is modified when a /proc link restarts
 * the walk).  0 with l set, or -host errno.
 */
static int tr_walk(char *g, int op, struct tr_loc *l)
{
    char norm[PATH_MAX], next[PATH_MAX], rawbase[PATH_MAX];
    bool procx = tr_proc_is_host();

    for (int hops = 0;; hops++) {
        const char *p = g, *exc, *raw = g;
        bool climbing = false;
        size_t o = 0;
        int depth = 0, m = MG_NONE;
        struct tr_pid pid = { 0 };

        norm[0] = 0;
        rawbase[0] = 0;
        for (;;) {
            const char *s;
            size_t n;
            int k = tr_next(&p, &s, &n);

            if (k == C_END) {
                break;
            }
            if (k == C_DOT) {
                continue;
            }
            if (k == C_DOTDOT) {
                bool in = o > 0 && tr_host_prefix(norm);

                tr_pop(norm, &o);
                depth -= depth > 0;
                if (climbing || (in && (o == 0 || !tr_host_prefix(norm)))) {
                    /* out of a host exception, and on up: these ".." are
                     * the guest's (lexical); the root's walk starts here */
                    snprintf(rawbase, sizeof(rawbase), "%s", o ? norm : "");
                    raw = p;
                    climbing = true;
                }
                continue;
            }
            climbing = false;
            norm[o++] = '/';
            memcpy(norm + o, s, n);
            o += n;
            norm[o] = 0;
            depth++;
            if (!procx || depth < 3 || depth > 6 ||
                strncmp(norm, "/proc/", 6)) {
                continue;
            }
            m = tr_magic(norm, &pid);
            /* The link itself (lstat, readlink, unlink of it) stays a /proc
             * entry; anything that goes through it is mapped. */
            if (m == MG_NONE ||
                (!*p && (op & OP_KIND) != OP_FOLLOW && m != MG_EXE)) {
                m = MG_NONE;
                continue;
            }
            break;
        }
        if (m != MG_NONE) {
            char link[80], base[PATH_MAX];
            int rc;

            if (!tr_pid_visible(&pid)) {
                return -ENOENT;
            }
            switch (m) {
            case MG_DENY: return -EACCES;
            case MG_EXE:
                if (strspn(p, "/") != strlen(p)) {
                    return -ENOTDIR;
                }
                if (!pid.own) {
                    return -EACCES; /* another guest's exe is the host qemu */
                }
                l->where = TW_EXE;
                return 0;
            case MG_ROOT: snprintf(base, sizeof(base), "/"); break;
            case MG_CWD:
                if (pid.own) {
                    rc = tr_guest_cwd(base);
                } else {
                    snprintf(link, sizeof(link), "/proc/%s/cwd", pid.dir);
                    rc = tr_fd_view(link, base, true);
                }
                if (rc) {
                    return rc;
                }
                break;
            case MG_FD:
                snprintf(link, sizeof(link), "/proc/%s/fd/%d",
                         pid.own ? "self" : pid.dir, pid.fd);
                if (!*p) {
                    l->where = TW_FD;
                    l->fd = pid.fd;
                    snprintf(l->fdlink, sizeof(l->fdlink), "%s", link);
                    l->fd_safe = tr_link_safe(link);
                    return 0;
                }
                rc = tr_fd_view(link, base, false);
                if (rc) {
                    return rc;
                }
                break;
            }
            rc = tr_join(base, p, next);
            if (rc) {
                return rc;
            }
            if (hops >= TR_MAX_HOPS) {
                return -ELOOP;
            }
            memcpy(g, next, strlen(next) + 1);
            continue;
        }
        if (o == 0) {
            snprintf(norm, sizeof(norm), "/");
        }
        exc = tr_host_prefix(norm);
        l->base = -1;
        l->proc = l->own = l->readonly = l->fd_safe = false;
        if (!exc) {
            l->where = TW_ROOT;
            if (snprintf(l->path, PATH_MAX, "%s%s%s", rawbase,
                         raw == g ? "" : "/", raw) >= PATH_MAX) {
                return -ENAMETOOLONG;
            }
            return 0;
        }
        if (!strcmp(exc, "/proc")) {
            return tr_proc_loc(norm, l);
        }
        l->where = TW_HOST;
        l->exc = exc;
        l->readonly = tr_under(exc, "/sys", 4);
        o = strlen(exc);
        snprintf(l->path, PATH_MAX, "%s", norm[o] ? norm + o + 1 : "");
        return 0;
    }
}

int tr_locate(int dirfd, const char *path, int op, struct tr_loc *l)
{
    char g[PATH_MAX], base[PATH_MAX];
    int rc;

    l->hops = 0;
    if (path[0] == '/') {
        snprintf(g, sizeof(g), "%s", path);
        return tr_walk(g, op, l);
    }
    if (dirfd == G_AT_FDCWD) {
        rc = tr_guest_cwd(base);
    } else {
        char link[48];

        snprintf(link, sizeof(link), TR_MAGIC "%d", dirfd);
        rc = tr_fd_view(link, base, false);
    }
    if (rc) {
        return rc;
    }
    rc = tr_join(base, path, g);
    return rc ? rc : tr_walk(g, op, l);
}

/* ---------------------------------------------------- dangling links */

bool tr_split(char *buf, const char **parent, const char **name, bool *slash)
{
    size_t n = strlen(buf);
    char *last;

    *slash = n > 1 && buf[n - 1] == '/';
    while (n > 1 && buf[n - 1] == '/') {
        buf[--n] = 0;
    }
    last = strrchr(buf, '/');
    if (!last) {
        return false;
    }
    *name = last + 1;
    if (last == buf) {
        *parent = "/";
    } else {
        *last = 0;
        *parent = buf;
    }
    return **name && strcmp(*name, ".") && strcmp(*name, "..");
}

/*
 * The kernel found no object at l (TW_ROOT): if the last name is a
 * dangling symlink whose target is a host exception or a /proc link
 * (/etc/mtab -> /proc/mounts, /dev/stdin -> /proc/self/fd/0), l becomes
 * that location and 1 is returned; 0 if it is simply missing.
 */
int tr_last_link(const char *g, char *next, size_t cap)
{
    char work[PATH_MAX], target[PATH_MAX], pg[PATH_MAX], link[48];
    const char *parent, *name;
    bool slash;
    ssize_t n;
    int pfd, rc;

    memcpy(work, g, strlen(g) + 1);
    if (!tr_split(work, &parent, &name, &slash)) {
        return 0;
    }
    pfd = tr_open_in_root(parent, O_PATH | O_DIRECTORY);
    if (pfd < 0) {
        return 0;
    }
    n = readlinkat(pfd, name, target, sizeof(target) - 1);
    snprintf(link, sizeof(link), TR_MAGIC "%d", pfd);
    rc = n < 0 ? -1 : tr_fd_view(link, pg, false);
    close(pfd);
    if (rc != 0) {
        return 0;
    }
    target[n] = 0;
    if (target[0] == '/') {
        rc = snprintf(next, cap, "%s%s", target, slash ? "/" : "");
    } else {
        rc = snprintf(next, cap, "%s/%s%s", pg, target, slash ? "/" : "");
    }
    return rc >= (int)cap ? -ENAMETOOLONG : 1;
}

int tr_relocate_dangling(struct tr_loc *l, int op)
{
    char g[PATH_MAX], next[PATH_MAX];
    struct tr_loc nl;
    int rc;

    if (l->hops >= TR_MAX_HOPS) {
        return -ELOOP; /* the callers try again after a relocation */
    }
    snprintf(g, sizeof(g), "%s", l->path);
    /* no entry at all (the usual ENOENT): nothing to follow */
    rc = tr_open_in_root(g, O_PATH | O_NOFOLLOW);
    if (rc < 0) {
        return 0;
    }
    close(rc);
    for (int hops = 0; hops < TR_MAX_HOPS; hops++) {
        rc = tr_last_link(g, next, sizeof(next));
        if (rc <= 0) {
            return rc;
        }
        rc = tr_walk(next, op, &nl);
        if (rc) {
            return rc;
        }
        nl.hops = l->hops + hops + 1;
        if (nl.where != TW_ROOT) {
            *l = nl;
            return 1;
        }
        /* through a /proc link (-> /proc/self/root/etc/x): the mapped path
         * may exist where the kernel's walk could not go */
        rc = tr_open_in_root(nl.path, O_PATH);
        if (rc >= 0) {
            close(rc);
            *l = nl;
            return 1;
        }
        memcpy(g, nl.path, strlen(nl.path) + 1);
    }
    return -ELOOP;
}
