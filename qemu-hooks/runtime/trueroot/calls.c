/*
 * The syscalls the true root rewrites, and how.  Every path argument is
 * located (locate.c) and resolved once by the kernel to an fd (resolve.c);
 * QEMU then gets that fd and never a name the kernel would resolve again:
 *
 *   follows the name (stat, chmod)   "/proc/self/fd/N", or fstat(N), fchdir(N)
 *   the entry itself (lstat, mkdir)  *at(P, "name") with P the parent: the
 *                                    last name is looked up once, in P, and
 *                                    not followed (mkdir -> mkdirat ...)
 *   open, creat, openat, openat2     run here: openat2(root, path, flags,
 *                                    RESOLVE_IN_ROOT), one syscall
 *   execve, execveat                 exec.c: never the host's execve
 *
 * Host exceptions are for use, not change: calls that create, remove,
 * rename or change an object there fail with EPERM, and writes into /proc
 * (other than the guest's own /proc/<pid>) and /sys with EACCES.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/runtime.h"
#include "core/syscall_names.h"
#include "trueroot/tr.h"

#define TR_NUMS 8192 /* classification cache: covers MIPS o32/n64/n32 */

enum tr_kind {
    K_PATH = 1, /* path arguments rewritten in place */
    K_SUBST,    /* a non-at call run as its fd or *at variant */
    K_READLINK, /* K_PATH/K_SUBST, results under /proc shown as guest paths */
    K_OPEN,
    K_OPENAT2,
    K_EXEC,
    K_EXECAT,
    K_GETCWD,
    K_SOCK,
    K_SOCKETCALL,
    K_SENDMSG,
    K_SENDMMSG,
    K_MOUNT,
    K_UMOUNT,
    K_CHROOT,
    K_FDMETA, /* changes an object through an fd: never a host one */
    K_DENY,
};

/* What leave() fixes (c->kind). */
enum { FIX_NONE, FIX_GETCWD, FIX_ZERO, FIX_READLINK };

/* How an argument's flags pick the op. */
enum tr_fm { FM_NONE, FM_AT_NOFOLLOW, FM_AT_FOLLOW, FM_INOTIFY, FM_UMOUNT };

/* Substitution shapes (K_SUBST/K_READLINK with `to`). */
enum tr_shape {
    SH_FD = 1, /* path -> fd in argument 0 (stat -> fstat) */
    SH_AT,     /* path -> (P, name) in front (mkdir -> mkdirat) */
    SH_AT1,    /* second argument -> (P, name) (symlink -> symlinkat) */
    SH_AT2,    /* both -> (P1, n1, P2, n2) (rename -> renameat) */
};

/* One path argument: indexes into args[] (-1: none). */
struct tr_arg {
    signed char dirfd, path, flags;
    unsigned char op, fm;
};

struct tr_spec {
    const char *name;
    unsigned char kind;
    signed char extra; /* readlink: buffer arg; sock: length arg */
    struct tr_arg a[2];
    const char *to;      /* K_SUBST: the call that runs instead */
    unsigned char shape; /* ... and how its arguments are laid out */
    int nargs;           /* SH_AT: the original's argument count */
    int tail;            /* SH_AT: a constant appended (-1: none) */
};

#define F OP_FOLLOW
#define I OP_INSPECT
#define E (OP_ENTRY | OPF_WRITE)
#define C (OP_ENTRY | OPF_WRITE | OPF_CREATE)
#define W OPF_WRITE
#define A(d, p, f, o, m) \
    {                    \
        d, p, f, o, m    \
    }
#define NA               \
    {                    \
        -1, -1, -1, 0, 0 \
    }
#define P1(o)                        \
    {                                \
        A(-1, 0, -1, o, FM_NONE), NA \
    }
#define AT(d, p, f, o, m)    \
    {                        \
        A(d, p, f, o, m), NA \
    }

#define SP(n, k, ...)                     \
    {                                     \
        .name = n, .kind = k, __VA_ARGS__ \
    }
#define TO(t, sh, na, tl) .to = t, .shape = sh, .nargs = na, .tail = tl

static const struct tr_spec tr_specs[] = {
    SP("open", K_OPEN, .a = AT(-1, 0, 1, F, FM_NONE)),
    SP("creat", K_OPEN, .a = P1(F)),
    SP("openat", K_OPEN, .a = AT(0, 1, 2, F, FM_NONE)),
    SP("openat2", K_OPENAT2, .a = AT(0, 1, -1, F, FM_NONE)),
    SP("stat", K_SUBST, .a = P1(F), TO("fstat", SH_FD, 2, -1)),
    SP("stat64", K_SUBST, .a = P1(F), TO("fstat64", SH_FD, 2, -1)),
    SP("lstat", K_SUBST, .a = P1(I), TO("fstat", SH_FD, 2, -1)),
    SP("lstat64", K_SUBST, .a = P1(I), TO("fstat64", SH_FD, 2, -1)),
    SP("newfstatat", K_PATH, .a = AT(0, 1, 3, F, FM_AT_NOFOLLOW)),
    SP("fstatat64", K_PATH, .a = AT(0, 1, 3, F, FM_AT_NOFOLLOW)),
    SP("statx", K_PATH, .a = AT(0, 1, 2, F, FM_AT_NOFOLLOW)),
    SP("access", K_PATH, .a = P1(F)),
    SP("faccessat", K_PATH, .a = AT(0, 1, -1, F, FM_NONE)),
    SP("faccessat2", K_PATH, .a = AT(0, 1, 3, F, FM_AT_NOFOLLOW)),
    SP("chdir", K_SUBST, .a = P1(F), TO("fchdir", SH_FD, 1, -1)),
    SP("statfs", K_SUBST, .a = P1(F), TO("fstatfs", SH_FD, 2, -1)),
    SP("statfs64", K_SUBST, .a = P1(F), TO("fstatfs64", SH_FD, 3, -1)),
    SP("mkdir", K_SUBST, .a = P1(C), TO("mkdirat", SH_AT, 2, -1)),
    SP("mkdirat", K_PATH, .a = AT(0, 1, -1, C, FM_NONE)),
    SP("rmdir", K_SUBST, .a = P1(E), TO("unlinkat", SH_AT, 1, G_AT_REMOVEDIR)),
    SP("unlink", K_SUBST, .a = P1(E), TO("unlinkat", SH_AT, 1, 0)),
    SP("unlinkat", K_PATH, .a = AT(0, 1, -1, E, FM_NONE)),
    SP("mknod", K_SUBST, .a = P1(C), TO("mknodat", SH_AT, 3, -1)),
    SP("mknodat", K_PATH, .a = AT(0, 1, -1, C, FM_NONE)),
    SP("rename", K_SUBST, .a = { A(-1, 0, -1, E, 0), A(-1, 1, -1, C, 0) },
       TO("renameat", SH_AT2, 2, -1)),
    SP("renameat", K_PATH, .a = { A(0, 1, -1, E, 0), A(2, 3, -1, C, 0) }),
    SP("renameat2", K_PATH, .a = { A(0, 1, -1, E, 0), A(2, 3, -1, C, 0) }),
    /* link: the old name is not followed, and it must not be a host file
     * either (it would get a new name inside the root) */
    SP("link", K_SUBST, .a = { A(-1, 0, -1, I | W, 0), A(-1, 1, -1, C, 0) },
       TO("linkat", SH_AT2, 2, 0)),
    SP("linkat", K_PATH,
       .a = { A(0, 1, 4, I | W, FM_AT_FOLLOW), A(2, 3, -1, C, 0) }),
    /* symlink: the target string is stored verbatim, only the link moves */
    SP("symlink", K_SUBST, .a = { NA, A(-1, 1, -1, C, 0) },
       TO("symlinkat", SH_AT1, 2, -1)),
    SP("symlinkat", K_PATH, .a = { NA, A(1, 2, -1, C, 0) }),
    SP("readlink", K_READLINK, .extra = 1, .a = P1(I),
       TO("readlinkat", SH_AT, 3, -1)),
    SP("readlinkat", K_READLINK, .extra = 2, .a = AT(0, 1, -1, I, FM_NONE)),
    SP("chmod", K_PATH, .a = P1(F | W)),
    SP("fchmodat", K_PATH, .a = AT(0, 1, -1, F | W, FM_NONE)),
    SP("fchmodat2", K_PATH, .a = AT(0, 1, 3, F | W, FM_AT_NOFOLLOW)),
    SP("chown", K_PATH, .a = P1(F | W)),
    SP("chown32", K_PATH, .a = P1(F | W)),
    /* QEMU converts fchownat's ids as lchown's (low2highuid) */
    SP("lchown", K_SUBST, .a = P1(I | W),
       TO("fchownat", SH_AT, 3, G_AT_SYMLINK_NOFOLLOW)),
    SP("lchown32", K_PATH, .a = P1(I | W)),
    SP("fchownat", K_PATH, .a = AT(0, 1, 4, F | W, FM_AT_NOFOLLOW)),
    SP("utime", K_PATH, .a = P1(F | W)),
    SP("utimes", K_PATH, .a = P1(F | W)),
    SP("futimesat", K_PATH, .a = AT(0, 1, -1, F | W, FM_NONE)),
    SP("utimensat", K_PATH, .a = AT(0, 1, 3, F | W, FM_AT_NOFOLLOW)),
    SP("utimensat_time64", K_PATH, .a = AT(0, 1, 3, F | W, FM_AT_NOFOLLOW)),
    SP("truncate", K_PATH, .a = P1(F | W)),
    SP("truncate64", K_PATH, .a = P1(F | W)),
    SP("setxattr", K_PATH, .a = P1(F | W)),
    SP("lsetxattr", K_PATH, .a = P1(I | W)),
    SP("getxattr", K_PATH, .a = P1(F)),
    SP("lgetxattr", K_PATH, .a = P1(I)),
    SP("listxattr", K_PATH, .a = P1(F)),
    SP("llistxattr", K_PATH, .a = P1(I)),
    SP("removexattr", K_PATH, .a = P1(F | W)),
    SP("lremovexattr", K_PATH, .a = P1(I | W)),
    SP("inotify_add_watch", K_PATH, .a = AT(-1, 1, 2, F, FM_INOTIFY)),
    SP("name_to_handle_at", K_PATH, .a = AT(0, 1, 4, I, FM_AT_FOLLOW)),
    SP("execve", K_EXEC, .a = P1(F)),
    SP("execveat", K_EXECAT, .a = AT(0, 1, 4, F, FM_AT_NOFOLLOW)),
    SP("chroot", K_CHROOT, .a = P1(F)),
    SP("mount", K_MOUNT, .extra = 3,
       .a = { A(-1, 0, -1, F, 0), A(-1, 1, -1, F | W, 0) }),
    SP("umount", K_UMOUNT, .a = AT(-1, 0, -1, F | W, FM_NONE)),
    SP("umount2", K_UMOUNT, .a = AT(-1, 0, 1, F | W, FM_UMOUNT)),
    SP("bind", K_SOCK, .extra = 2, .a = AT(-1, 1, -1, C, 0)),
    SP("connect", K_SOCK, .extra = 2, .a = AT(-1, 1, -1, F, 0)),
    SP("sendto", K_SOCK, .extra = 5, .a = AT(-1, 4, -1, F, 0)),
    SP("sendmsg", K_SENDMSG),
    SP("sendmmsg", K_SENDMMSG),
    SP("socketcall", K_SOCKETCALL),
    SP("getcwd", K_GETCWD),
    /* changes an object through an fd: the guest's own, never a host one */
    SP("fchmod", K_FDMETA),
    SP("fchown", K_FDMETA),
    SP("fchown32", K_FDMETA),
    SP("fsetxattr", K_FDMETA),
    SP("fremovexattr", K_FDMETA),
    /* host-wide, or ways around the root: see docs/true-root.md */
    SP("pivot_root", K_DENY),
    SP("acct", K_DENY),
    SP("swapon", K_DENY),
    SP("swapoff", K_DENY),
    SP("open_by_handle_at", K_DENY),
    SP("open_tree", K_DENY),
    SP("move_mount", K_DENY),
    SP("fsopen", K_DENY),
    SP("fsconfig", K_DENY),
    SP("fsmount", K_DENY),
    SP("fspick", K_DENY),
    SP("mount_setattr", K_DENY),
    SP("pidfd_getfd", K_DENY),
};

#undef F
#undef I
#undef E
#undef C
#undef W

static _Atomic unsigned char tr_class[TR_NUMS]; /* 0 ?, 1 none, 2+i spec i */
static _Atomic int tr_subst_num[sizeof(tr_specs) / sizeof(tr_specs[0])];

/* ----------------------------------------------------------- helpers */

/* The op of an argument from the guest's flags. */
static int tr_op_of(const struct tr_arg *a, const int64_t args[SFEMU_NARGS])
{
    uint64_t f = a->flags >= 0 ? (uint64_t)args[a->flags] : 0;
    int w = a->op & OPF_WRITE, k = a->op & OP_KIND;

    switch (a->fm) {
    case FM_AT_NOFOLLOW:
        return (f & G_AT_SYMLINK_NOFOLLOW ? OP_INSPECT : k) | w;
    case FM_AT_FOLLOW: return (f & G_AT_SYMLINK_FOLLOW ? OP_FOLLOW : k) | w;
    case FM_INOTIFY: return (f & G_IN_DONT_FOLLOW ? OP_INSPECT : k) | w;
    case FM_UMOUNT: return (f & G_UMOUNT_NOFOLLOW ? OP_INSPECT : k) | w;
    default: return a->op;
    }
}

/*
 * "name/" makes the kernel follow a last symlink even for calls that do not
 * (lstat, readlink, lchown ...): such a path is resolved as a follow, here,
 * so the kernel never follows it from a parent fd.
 */
static int tr_op_for(int op, const char *path)
{
    size_t n = strlen(path);

    if ((op & OP_KIND) == OP_INSPECT && n > 1 && path[n - 1] == '/') {
        return (op & ~OP_KIND) | OP_FOLLOW;
    }
    return op;
}

/* Whether an fd's object may be changed: inside the root, or not a file
 * of the host at all (pipe, socket, anon inode). */
static int tr_fd_changeable(int fd)
{
    char link[48], host[PATH_MAX], out[PATH_MAX];
    ssize_t n;

    if (fd == G_AT_FDCWD) {
        if (!getcwd(host, sizeof(host))) {
            return -errno;
        }
        return tr_strip(host, out) == 0 ? 0 : -EPERM;
    }
    snprintf(link, sizeof(link), TR_MAGIC "%d", fd);
    n = readlink(link, host, sizeof(host) - 1);
    if (n < 0) {
        return 0; /* a bad fd: the real call reports it */
    }
    host[n] = 0;
    return host[0] != '/' || tr_strip(host, out) == 0 ? 0 : -EPERM;
}

/* Whether an op may act on a location: host objects are not changed. */
static int tr_may(const struct tr_loc *l, int op)
{
    bool change = (op & OPF_WRITE) || (op & OP_KIND) == OP_ENTRY;

    if (!change || l->where == TW_ROOT) {
        return 0;
    }
    if (l->where == TW_FD && (op & OP_KIND) == OP_FOLLOW && l->fd_safe) {
        char host[PATH_MAX], out[PATH_MAX];
        ssize_t n = readlink(l->fdlink, host, sizeof(host) - 1);

        if (n > 0) {
            host[n] = 0;
            if (host[0] != '/' || tr_strip(host, out) == 0) {
                return 0; /* chmod("/proc/self/fd/3"): the guest's own file */
            }
        }
    }
    return -EPERM;
}

/* The old name of a rename or link being rewritten (this thread's call). */
static __thread const struct tr_loc *tr_old;

/* Whether the old name exists: a rename of a missing file makes no parent
 * directories for its new name (it fails with ENOENT as it would). */
static bool tr_old_exists(void)
{
    int fd;

    if (!tr_old || tr_old->where != TW_ROOT) {
        return true;
    }
    fd = tr_open_in_root(tr_old->path, O_PATH | O_NOFOLLOW);
    if (fd < 0) {
        return false;
    }
    close(fd);
    return true;
}

/*
 * The parent fd and last name of an entry (tr_loc_parent); for a create
 * whose parent is missing, the missing directories are made (parents.c)
 * and the parent is looked up once more.
 */
static int tr_entry_parent(struct sfemu_tr_call *c, struct tr_loc *l, int op,
                           int *pfd, char name[TR_NAME])
{
    int rc = tr_loc_parent(c, l, pfd, name);

    if (rc == -ENOENT && (op & OPF_CREATE) && l->where == TW_ROOT &&
        tr_old_exists() && tr_make_parents(l->path, false) > 0) {
        rc = tr_loc_parent(c, l, pfd, name);
    }
    return rc;
}

/* Locate a path for an op, and refuse changes to host objects. */
static int tr_locate_for(int dirfd, const char *path, int op, struct tr_loc *l)
{
    int rc = tr_locate(dirfd, path, op, l);

    return rc ? rc : tr_may(l, op);
}

static int tr_put_magic(int64_t args[SFEMU_NARGS], int idx, int slot, int fd,
                        const char *name)
{
    char s[TR_SLOT];

    if (snprintf(s, sizeof(s), TR_MAGIC "%d%s%s", fd, name ? "/" : "",
                 name ? name : "") >= (int)sizeof(s)) {
        return -ENAMETOOLONG;
    }
    return tr_put_str(args, idx, slot, s);
}

/*
 * Rewrite one path argument in place.  slot: scratch slot for strings.
 * 0, or -host errno.  l (optional) receives the location.
 */
static int tr_path_arg(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                       const struct tr_arg *a, int slot, struct tr_loc *lout)
{
    char path[PATH_MAX], name[TR_NAME];
    struct tr_loc l;
    int op, rc, fd, dirfd;

    if (a->path < 0) {
        return 0;
    }
    op = tr_op_of(a, args);
    dirfd = a->dirfd < 0 ? G_AT_FDCWD : (int)args[a->dirfd];
    rc = tr_read_path(args, a->path, path);
    if (rc == TR_KEEP || (rc == 0 && !path[0])) {
        /* NULL or "": an fd operation (AT_EMPTY_PATH, utimensat(fd, NULL))
         * or an error the real call reports */
        if ((op & OPF_WRITE) && a->dirfd >= 0) {
            return tr_fd_changeable(dirfd);
        }
        return 0;
    }
    if (rc) {
        return rc;
    }
    op = tr_op_for(op, path);
    rc = tr_locate_for(dirfd, path, op, &l);
    if (rc) {
        return rc;
    }
    if (lout) {
        *lout = l;
    }
    if ((op & OP_KIND) == OP_FOLLOW || l.where == TW_FD || l.where == TW_EXE) {
        if (l.where == TW_FD) {
            return tr_put_str(args, a->path, slot, l.fdlink);
        }
        fd = tr_loc_fd(c, &l, O_PATH, op);
        if (fd >= 0 && path[strlen(path) - 1] == '/') {
            /* still "dir/": followed even with AT_SYMLINK_NOFOLLOW */
            return tr_put_magic(args, a->path, slot, fd, "");
        }
        return fd < 0 ? fd : tr_put_magic(args, a->path, slot, fd, NULL);
    }
    rc = tr_entry_parent(c, &l, op, &fd, name);
    if (rc) {
        return rc;
    }
    if (a->dirfd >= 0) {
        /* *at(P, "name"): the name is looked up once, in P, not followed */
        args[a->dirfd] = fd;
        return tr_put_str(args, a->path, slot, name);
    }
    /* no *at variant (lgetxattr ...): the same, spelled through /proc */
    return tr_put_magic(args, a->path, slot, fd, name);
}

/* ------------------------------------------------------------- kinds */

static int tr_do_paths(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                       const struct tr_spec *s)
{
    struct tr_loc old = { .where = TW_HOST };
    int rc = tr_path_arg(c, args, &s->a[0], 0, &old);

    if (rc == 0 && s->a[1].path >= 0) {
        tr_old = &old; /* rename, link: the new name's missing parents */
        rc = tr_path_arg(c, args, &s->a[1], 1, NULL);
        tr_old = NULL;
    }
    return rc;
}

/* The substitute's number, looked up once. */
static int tr_subst(const struct tr_spec *s)
{
    size_t i = (size_t)(s - tr_specs);
    int n = atomic_load_explicit(&tr_subst_num[i], memory_order_relaxed);

    if (n == 0) {
        n = s->to ? sfemu_syscall_num(s->to) : -1;
        atomic_store_explicit(&tr_subst_num[i], n, memory_order_relaxed);
    }
    return n;
}

/* One argument as (P, name) or an fd for a substituted call. */
static int tr_subst_arg(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                        const struct tr_arg *a, int shape, int slot,
                        int64_t *dir, int64_t *name_arg, struct tr_loc *lout)
{
    char path[PATH_MAX], name[TR_NAME];
    struct tr_loc l;
    int op = tr_op_of(a, args), rc, fd;

    rc = tr_read_path(args, a->path, path);
    if (rc) {
        return rc == TR_KEEP ? -EFAULT : rc;
    }
    if (!path[0]) {
        return -ENOENT;
    }
    op = tr_op_for(op, path);
    if (shape != SH_FD && (op & OP_KIND) == OP_FOLLOW) {
        return -EINVAL; /* readlink("link/"), lchown("link/") ... */
    }
    rc = tr_locate_for(G_AT_FDCWD, path, op, &l);
    if (rc) {
        return rc;
    }
    if (lout) {
        *lout = l;
    }
    if (shape == SH_FD) {
        fd = tr_loc_fd(
            c, &l, O_PATH | ((op & OP_KIND) == OP_FOLLOW ? 0 : O_NOFOLLOW), op);
        if (fd < 0) {
            return fd;
        }
        *dir = fd;
        return 0;
    }
    if (l.where == TW_EXE) {
        return -EINVAL; /* readlink of /proc/self/exe runs as is */
    }
    rc = tr_entry_parent(c, &l, op, &fd, name);
    if (rc) {
        return rc;
    }
    *dir = fd;
    rc = tr_put_str(args, 7, slot, name); /* args[7]: unused by these */
    *name_arg = args[7];
    return rc;
}

static int tr_do_subst(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                       const struct tr_spec *s)
{
    int64_t n[SFEMU_NARGS] = { 0 }, d1 = 0, n1 = 0, d2 = 0, n2 = 0;
    struct tr_loc old = { .where = TW_HOST };
    int num = tr_subst(s), rc, k = 0;

    if (num < 0) {
        return tr_do_paths(c, args, s); /* the arch lacks it: spelled out */
    }
    switch (s->shape) {
    case SH_FD:
        rc = tr_subst_arg(c, args, &s->a[0], SH_FD, 0, &d1, NULL, NULL);
        if (rc) {
            return rc;
        }
        for (int i = 1; i < SFEMU_NARGS; i++) {
            n[i] = args[i];
        }
        n[0] = d1;
        break;
    case SH_AT:
        rc = tr_subst_arg(c, args, &s->a[0], SH_AT, 0, &d1, &n1, NULL);
        if (rc) {
            return rc;
        }
        n[k++] = d1;
        n[k++] = n1;
        for (int i = 1; i < s->nargs; i++) {
            n[k++] = args[i];
        }
        if (s->tail >= 0) {
            n[k++] = s->tail;
        }
        break;
    case SH_AT1:
        rc = tr_subst_arg(c, args, &s->a[1], SH_AT, 1, &d1, &n1, NULL);
        if (rc) {
            return rc;
        }
        n[0] = args[0];
        n[1] = d1;
        n[2] = n1;
        break;
    case SH_AT2:
        rc = tr_subst_arg(c, args, &s->a[0], SH_AT, 0, &d1, &n1, &old);
        if (rc == 0) {
            tr_old = &old; /* rename, link: the new name's missing parents */
            rc = tr_subst_arg(c, args, &s->a[1], SH_AT, 1, &d2, &n2, NULL);
            tr_old = NULL;
        }
        if (rc) {
            return rc;
        }
        n[0] = d1;
        n[1] = n1;
        n[2] = d2;
        n[3] = n2;
        n[4] = s->tail >= 0 ? s->tail : 0;
        break;
    default: return -ENOSYS;
    }
    memcpy(args, n, sizeof(n));
    c->num = num;
    return 0;
}

/* readlink(at): a /proc link shows a host path: leave() strips the root. */
static int tr_do_readlink(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                          const struct tr_spec *s)
{
    char path[PATH_MAX];
    struct tr_loc l;
    int rc = tr_read_path(args, s->a[0].path, path);
    int dirfd = s->a[0].dirfd < 0 ? G_AT_FDCWD : (int)args[s->a[0].dirfd];

    if (rc || !path[0]) {
        return rc == TR_KEEP ? 0 : rc;
    }
    rc = tr_locate(dirfd, path, tr_op_for(OP_INSPECT, path), &l);
    if (rc) {
        return rc;
    }
    if (path[strlen(path) - 1] == '/' && strlen(path) > 1) {
        /* "link/" is what the link leads to, never a link: EINVAL */
        rc = tr_loc_fd(c, &l, O_PATH, OP_FOLLOW);
        return rc < 0 ? rc : -EINVAL;
    }
    if (l.where == TW_EXE) {
        /* QEMU answers /proc/self/exe with the guest program */
        c->kind = FIX_READLINK + s->extra;
        return tr_put_str(args, s->a[0].path, 0, "/proc/self/exe");
    }
    if (l.where == TW_HOST && l.proc) {
        c->kind = FIX_READLINK + s->extra;
    }
    /* (leave() reads the buffer from the guest's own arguments) */
    return s->to ? tr_do_subst(c, args, s) : tr_do_paths(c, args, s);
}

/* -------------------------------------------------------------- open */

/* Guest open flags that write. */
static bool tr_open_writes(uint64_t f)
{
    const struct sfemu_target *t = sfemu_rt.t;

    return (f & G_O_ACCMODE) != 0 || (f & (uint64_t)t->o_creat) ||
           (f & (uint64_t)t->o_trunc);
}

/* The open itself, here: the fd, or -host errno. */
static int tr_openat2_g(int dirfd, const char *path, uint64_t gflags,
                        int hflags, uint64_t mode, uint64_t resolve)
{
    const struct sfemu_target *t = sfemu_rt.t;

    /* openat2 refuses a mode without O_CREAT/O_TMPFILE, and stray bits */
    if (!(gflags & (uint64_t)t->o_creat) && !(hflags & O_CREAT) &&
        !(gflags & (uint64_t)t->o_tmpfile)) {
        mode = 0;
    }
    return sfemu_rt.ops->openat2(dirfd, path, gflags, hflags, mode & 07777,
                                 resolve);
}

/* The QEMU-emulated /proc files it must see by name (QEMU's fake_open). */
static const char *tr_proc_fake(const struct tr_loc *l)
{
    static const char *const own[] = { "maps", "smaps", "stat", "auxv",
                                       "cmdline" };
    static const char *const any[] = { "net/route", "cpuinfo", "hardware" };
    const char *slash = strchr(l->path, '/');

    for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++) {
        if (!strcmp(l->path, any[i])) {
            return l->path;
        }
    }
    if (!l->own || !slash || strchr(slash + 1, '/')) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
        if (!strcmp(slash + 1, own[i]) &&
            (!strncmp(l->path, "self/", 5) || atoi(l->path) == (int)getpid())) {
            return own[i];
        }
    }
    return NULL;
}

/*
 * open/openat/creat/openat2 (resolve 0): run here in one openat2, so the
 * kernel resolves the path once, in the root, and creates the last name
 * (O_CREAT) there.  The fd is the lowest free one, as the guest expects.
 */
static int tr_open_loc(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                       int pidx, struct tr_loc *l, uint64_t gf, int hf,
                       uint64_t mode, int op)
{
    const struct sfemu_target *t = sfemu_rt.t;
    bool writes = tr_open_writes(gf) || hf != 0;
    bool creates = (gf & (uint64_t)t->o_creat) || (hf & O_CREAT);
    int fd, base;

    switch (l->where) {
    case TW_ROOT:
        if (creates && op == OP_FOLLOW) {
            /* a dangling last link into an exception (/etc/x -> /dev/null)
             * opens that, not a new file in the root: try without O_CREAT */
            fd = tr_openat2_g(tr_root_dirfd(), l->path,
                              gf & ~(uint64_t)t->o_creat, hf & ~O_CREAT, 0,
                              RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
            if (fd != -ENOENT && fd != -EBADF) {
                goto done;
            }
            if (fd == -ENOENT) {
                int rc = tr_relocate_dangling(l, op);

                if (rc < 0) {
                    return rc;
                }
                if (rc > 0) {
                    return tr_open_loc(c, args, pidx, l, gf, hf, mode, op);
                }
            }
        }
        fd = tr_openat2_g(tr_root_dirfd(), l->path, gf, hf, mode,
                          RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        if (fd == -EBADF) {
            fd = tr_openat2_g(tr_root_dirfd_again(), l->path, gf, hf, mode,
                              RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        }
        if (fd == -ENOENT && op == OP_FOLLOW && !creates) {
            int rc = tr_relocate_dangling(l, op);

            if (rc < 0) {
                return rc;
            }
            if (rc > 0) {
                return tr_open_loc(c, args, pidx, l, gf, hf, mode, op);
            }
        }
        if (fd == -ENOENT && creates &&
            tr_make_parents(l->path, op == OP_FOLLOW) > 0) {
            /* a missing parent (/var -> /tmp/var, no /tmp): made, once */
            fd = tr_openat2_g(tr_root_dirfd(), l->path, gf, hf, mode,
                              RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        }
        break;
    case TW_HOST:
        if (writes && l->readonly) {
            return -EACCES;
        }
        if (l->proc && tr_proc_fake(l)) {
            char lit[PATH_MAX + 8];

            /* QEMU opens its emulation by name; the real call runs */
            snprintf(lit, sizeof(lit), "/proc/%s", l->path);
            return tr_put_str(args, pidx, 0, lit);
        }
        if (!l->path[0]) {
            fd = tr_openat2_g(AT_FDCWD, l->exc, gf, hf, mode,
                              RESOLVE_NO_MAGICLINKS);
            break;
        }
        base = tr_loc_base(c, l, true);
        if (base < 0) {
            return base;
        }
        fd = tr_openat2_g(base, l->path, gf, hf, mode,
                          RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
        break;
    case TW_FD:
        if (writes && !l->fd_safe) {
            return -EACCES; /* a host file the guest holds: read only */
        }
        fd = tr_openat2_g(AT_FDCWD, l->fdlink, gf, hf, mode, 0);
        break;
    case TW_EXE:
        if (writes) {
            return -ETXTBSY;
        }
        fd = tr_openat2_g(AT_FDCWD, t->exec_path, gf, hf, mode, 0);
        break;
    default: return -EINVAL;
    }
done:
    c->done = 1;
    c->ret = fd < 0 ? tr_gerr(-fd) : fd;
    return 0;
}

static int tr_do_open(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                      const struct tr_spec *s)
{
    const struct sfemu_target *t = sfemu_rt.t;
    const struct tr_arg *a = &s->a[0];
    bool creat = !strcmp(s->name, "creat");
    uint64_t gf = creat ? 0 : (uint64_t)args[a->flags];
    int hf = creat ? O_CREAT | O_WRONLY | O_TRUNC : 0;
    uint64_t mode = (uint64_t)args[creat ? 1 : a->flags + 1];
    int dirfd = a->dirfd < 0 ? G_AT_FDCWD : (int)args[a->dirfd];
    char path[PATH_MAX];
    struct tr_loc l;
    int op, rc;

    rc = tr_read_path(args, a->path, path);
    if (rc || !path[0]) {
        return rc == TR_KEEP ? 0 : rc; /* QEMU reports EFAULT / ENOENT */
    }
    if ((gf & (uint64_t)t->o_creat) && (gf & (uint64_t)t->o_excl)) {
        op = OP_ENTRY;
    } else if (gf & (uint64_t)t->o_nofollow) {
        op = OP_INSPECT;
    } else {
        op = OP_FOLLOW;
    }
    rc = tr_locate(dirfd, path, op, &l);
    if (rc) {
        return rc;
    }
    return tr_open_loc(c, args, a->path, &l, gf, hf, mode, op);
}

/*
 * openat2: with resolve == 0 it is openat.  The guest's own RESOLVE_BENEATH
 * or RESOLVE_IN_ROOT from a directory inside the root is confined already
 * and runs as asked; anything else gets ENOSYS, which libraries treat as
 * "no openat2" and fall back to openat.
 */
static int tr_do_openat2(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS])
{
    const struct sfemu_target *t = sfemu_rt.t;
    uint64_t g = sfemu_guest_addr(args[2]);
    uint8_t how[24];
    uint64_t flags, mode, resolve;
    char path[PATH_MAX], view[PATH_MAX];
    struct tr_loc l;
    int dirfd = (int)args[0], op, rc, fd;

    if (!g || (uint64_t)args[3] < sizeof(how) ||
        sfemu_rt.ops->read_mem(g, how, sizeof(how))) {
        return 0; /* QEMU reports the bad struct */
    }
    flags = tr_load(how, 8);
    mode = tr_load(how + 8, 8);
    resolve = tr_load(how + 16, 8);
    rc = tr_read_path(args, 1, path);
    if (rc || !path[0]) {
        return rc == TR_KEEP ? 0 : rc;
    }
    if (resolve) {
        char link[48];

        if (!(resolve & (RESOLVE_IN_ROOT | RESOLVE_BENEATH))) {
            return -ENOSYS;
        }
        if (dirfd == G_AT_FDCWD) {
            char host[PATH_MAX];

            rc = getcwd(host, sizeof(host)) ? tr_strip(host, view) : -1;
        } else {
            snprintf(link, sizeof(link), TR_MAGIC "%d", dirfd);
            rc = tr_fd_view(link, view, false);
            rc = rc == 0 && !tr_host_prefix(view) ? 0 : -1;
        }
        if (rc != 0) {
            return -ENOSYS; /* a host directory: not the root's */
        }
        fd = tr_openat2_g(dirfd == G_AT_FDCWD ? AT_FDCWD : dirfd, path, flags,
                          0, mode, resolve | RESOLVE_NO_MAGICLINKS);
        c->done = 1;
        c->ret = fd < 0 ? tr_gerr(-fd) : fd;
        return 0;
    }
    if ((flags & (uint64_t)t->o_creat) && (flags & (uint64_t)t->o_excl)) {
        op = OP_ENTRY;
    } else {
        op = flags & (uint64_t)t->o_nofollow ? OP_INSPECT : OP_FOLLOW;
    }
    rc = tr_locate(dirfd, path, op, &l);
    if (rc) {
        return rc;
    }
    /* (not done: a QEMU-emulated /proc file, QEMU's openat2 opens it) */
    return tr_open_loc(c, args, 1, &l, flags, 0, mode, op);
}

/* ----------------------------------------------------------- sockets */

/* A named AF_UNIX address at args[ai], length args[li]: rewritten. */
static int tr_sock(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS], int ai,
                   int li, int op, size_t off)
{
    struct {
        uint8_t family[2];
        char path[G_SUN_PATH];
    } sa;
    char path[G_SUN_PATH + 1], out[TR_SLOT], name[TR_NAME];
    uint64_t g = sfemu_guest_addr(args[ai]);
    uint64_t len = (uint32_t)args[li];
    struct tr_loc l;
    size_t n;
    int rc, fd;

    if (!g || len <= 2 || len > sizeof(sa) ||
        sfemu_rt.ops->read_mem(g, &sa, (size_t)len) ||
        tr_load(sa.family, 2) != G_AF_UNIX || !sa.path[0]) {
        return 0; /* not a named unix socket (abstract: untouched) */
    }
    n = strnlen(sa.path, (size_t)len - 2);
    memcpy(path, sa.path, n);
    path[n] = 0;
    rc = tr_locate_for(G_AT_FDCWD, path, op, &l);
    if (rc) {
        return rc;
    }
    if (op == OP_FOLLOW) {
        if (l.where == TW_FD) {
            snprintf(out, sizeof(out), "%s", l.fdlink);
        } else {
            fd = tr_loc_fd(c, &l, O_PATH, op);
            if (fd < 0) {
                return fd;
            }
            snprintf(out, sizeof(out), TR_MAGIC "%d", fd);
        }
    } else {
        /* bind: the kernel creates the socket as the last name of P */
        rc = tr_entry_parent(c, &l, op, &fd, name);
        if (rc) {
            return rc;
        }
        snprintf(out, sizeof(out), TR_MAGIC "%d/%s", fd, name);
    }
    n = strlen(out);
    if (n >= G_SUN_PATH) {
        return -ENAMETOOLONG;
    }
    memcpy(sa.path, out, n + 1);
    rc = tr_put(args, ai, off, &sa, 2 + n + 1);
    args[li] = (int64_t)(2 + n + 1);
    return rc;
}

/* The guest's msghdr: {name, namelen, iov, iovlen, control, controllen,
 * flags}, each an abi_long slot except the ints (padded on 64-bit). */
#define TR_MSG_SLOTS 7

/* Rewrite the unix address of msghdr at raw (w-byte slots); 1 if done. */
static int tr_msg(struct sfemu_tr_call *c, uint8_t *raw, size_t w, int k)
{
    int64_t v[SFEMU_NARGS] = { 0 };
    uint64_t name = tr_load(raw, w);
    int rc;

    if (!name) {
        return 0;
    }
    v[0] = sfemu_abi_long((int64_t)name);
    v[1] = (int64_t)(uint32_t)tr_load(raw + w, 4); /* int msg_namelen */
    rc = tr_sock(c, v, 0, 1, OP_FOLLOW, TR_OFF_MSGNAME + (size_t)k * 112);
    if (rc || sfemu_guest_addr(v[0]) == name) {
        return rc;
    }
    tr_store(raw, w, (uint64_t)v[0]);
    tr_store(raw + w, 4, (uint64_t)v[1]);
    return 1;
}

/* sendmsg(fd, msg, flags): msg at args[mi]. */
static int tr_do_sendmsg(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                         int mi)
{
    size_t w = (size_t)sfemu_rt.t->abi_bits / 8, sz = TR_MSG_SLOTS * w;
    uint64_t g = sfemu_guest_addr(args[mi]);
    uint8_t raw[TR_MSG_SLOTS * 8];
    int rc;

    if (!g || sfemu_rt.ops->read_mem(g, raw, sz)) {
        return 0;
    }
    rc = tr_msg(c, raw, w, 0);
    if (rc <= 0) {
        return rc;
    }
    return tr_put(args, mi, TR_OFF_MSG, raw, sz);
}

/* sendmmsg(fd, vec, vlen, flags): the first TR_MMSG_MAX entries are sent
 * when one of them names a unix socket (sendmmsg may send fewer). */
static int tr_do_sendmmsg(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                          int vi, int ni)
{
    size_t w = (size_t)sfemu_rt.t->abi_bits / 8;
    size_t esz = TR_MSG_SLOTS * w + w; /* + msg_len, padded */
    uint64_t g = sfemu_guest_addr(args[vi]);
    uint64_t vlen = (uint32_t)args[ni];
    uint8_t raw[TR_MMSG_MAX * 64];
    size_t n = vlen < TR_MMSG_MAX ? (size_t)vlen : TR_MMSG_MAX;
    int any = 0;

    if (!g || !n || sfemu_rt.ops->read_mem(g, raw, n * esz)) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = tr_msg(c, raw + i * esz, w, (int)i);

        if (rc < 0) {
            return rc;
        }
        any |= rc;
    }
    if (!any) {
        return 0;
    }
    args[ni] = (int64_t)n;
    return tr_put(args, vi, TR_OFF_MSG, raw, n * esz);
}

/* MIPS o32/ARM socketcall(call, args[]): the array lives in guest memory. */
static int tr_do_socketcall(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS])
{
    size_t w = (size_t)sfemu_rt.t->abi_bits / 8;
    uint64_t g = sfemu_guest_addr(args[1]);
    int64_t v[SFEMU_NARGS] = { 0 };
    uint8_t raw[6 * 8];
    int n, rc;

    switch ((int)args[0]) {
    case 2: /* bind */
    case 3: /* connect */
    case 16: /* sendmsg */ n = 3; break;
    case 11: /* sendto */ n = 6; break;
    case 20: /* sendmmsg */ n = 4; break;
    default: return 0;
    }
    if (!g || sfemu_rt.ops->read_mem(g, raw, (size_t)n * w)) {
        return 0;
    }
    for (int i = 0; i < n; i++) {
        v[i] = sfemu_abi_long((int64_t)tr_load(raw + (size_t)i * w, w));
    }
    switch ((int)args[0]) {
    case 2:
        rc =
            tr_sock(c, v, 1, 2, OP_ENTRY | OPF_WRITE | OPF_CREATE, TR_OFF_SOCK);
        break;
    case 3: rc = tr_sock(c, v, 1, 2, OP_FOLLOW, TR_OFF_SOCK); break;
    case 11: rc = tr_sock(c, v, 4, 5, OP_FOLLOW, TR_OFF_SOCK); break;
    case 16: rc = tr_do_sendmsg(c, v, 1); break;
    default: rc = tr_do_sendmmsg(c, v, 1, 2); break;
    }
    if (rc) {
        return rc;
    }
    for (int i = 0; i < n; i++) {
        tr_store(raw + (size_t)i * w, w, (uint64_t)v[i]);
    }
    return tr_put(args, 1, TR_OFF_ARR, raw, (size_t)n * w);
}

/* ------------------------------------------------- mount and chroot */

/*
 * mount: the target (and a bind or move source) inside the root only; a
 * new filesystem only of a kind that holds no host object (tmpfs, ramfs):
 * proc, sysfs, a block device ... would bring host objects into the root.
 */
static int tr_do_mount(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                       const struct tr_spec *s)
{
    uint64_t flags = (uint64_t)args[s->extra];
    struct tr_loc l;
    int rc;

    if (flags & (G_MS_BIND | G_MS_MOVE)) {
        struct tr_arg src = s->a[0];

        src.op |= OPF_WRITE; /* a host source would appear in the root */
        rc = tr_path_arg(c, args, &src, 0, &l);
        if (rc) {
            return rc;
        }
    } else if (!(flags & G_MS_REMOUNT)) {
        char type[32];
        uint64_t g = sfemu_guest_addr(args[2]);
        long n = g ? sfemu_rt.ops->read_str(g, type, sizeof(type) - 1) : -1;

        if (n < 0) {
            return -EFAULT;
        }
        type[n] = 0;
        if (strcmp(type, "tmpfs") && strcmp(type, "ramfs")) {
            return -EPERM;
        }
    }
    return tr_path_arg(c, args, &s->a[1], 1, NULL);
}

/*
 * chroot is emulated: a real chroot would move QEMU itself.  The real
 * syscall then runs on "" (ENOENT, no effect) and leave() reports 0.
 */
static int tr_do_chroot(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS])
{
    char path[PATH_MAX];
    struct tr_loc l;
    struct stat st;
    int rc, fd;

    rc = tr_read_path(args, 0, path);
    if (rc) {
        return rc == TR_KEEP ? -EFAULT : rc;
    }
    if (geteuid() != 0) {
        return -EPERM;
    }
    if (!path[0]) {
        return -ENOENT;
    }
    rc = tr_locate(G_AT_FDCWD, path, OP_FOLLOW, &l);
    if (rc) {
        return rc;
    }
    if (l.where != TW_ROOT) {
        return -EPERM; /* never a root on the host side */
    }
    fd = tr_loc_fd(c, &l, O_PATH, OP_FOLLOW);
    if (fd < 0) {
        return fd;
    }
    if (l.where != TW_ROOT) {
        return -EPERM; /* a dangling link into a host exception */
    }
    if (fstat(fd, &st) != 0) {
        return -errno;
    }
    if (!S_ISDIR(st.st_mode)) {
        return -ENOTDIR;
    }
    rc = tr_set_root(fd);
    if (rc) {
        return rc;
    }
    c->kind = FIX_ZERO;
    return tr_put_str(args, 0, 0, "");
}

/* --------------------------------------------------------- dispatch */

static const struct tr_spec *tr_classify(int num, const char *name)
{
    unsigned v;

    if ((unsigned)num >= TR_NUMS) {
        return NULL; /* arch-private numbers (ARM 0xf0000+): no paths */
    }
    v = atomic_load_explicit(&tr_class[num], memory_order_relaxed);
    if (v == 0) {
        v = 1;
        for (size_t i = 0; name && i < sizeof(tr_specs) / sizeof(tr_specs[0]);
             i++) {
            if (strcmp(name, tr_specs[i].name) == 0) {
                v = 2 + (unsigned)i;
                break;
            }
        }
        atomic_store_explicit(&tr_class[num], (unsigned char)v,
                              memory_order_relaxed);
    }
    return v > 1 ? &tr_specs[v - 2] : NULL;
}

bool tr_call_takes(int num, const char *name)
{
    return tr_classify(num, name) != NULL;
}

int tr_call_enter(int num, const char *name, int64_t args[SFEMU_NARGS],
                  struct sfemu_tr_call *c)
{
    const struct tr_spec *s = tr_classify(num, name);

    if (!s) {
        return 0;
    }
    switch (s->kind) {
    case K_PATH: return tr_do_paths(c, args, s);
    case K_SUBST: return tr_do_subst(c, args, s);
    case K_READLINK: return tr_do_readlink(c, args, s);
    case K_OPEN: return tr_do_open(c, args, s);
    case K_OPENAT2: return tr_do_openat2(c, args);
    case K_EXEC: return tr_exec(c, args, false);
    case K_EXECAT: return tr_exec(c, args, true);
    case K_GETCWD: c->kind = FIX_GETCWD; return 0;
    case K_SOCK:
        return tr_sock(c, args, s->a[0].path, s->extra,
                       s->a[0].op & (OP_KIND | OPF_CREATE), TR_OFF_SOCK);
    case K_SENDMSG: return tr_do_sendmsg(c, args, 1);
    case K_SENDMMSG: return tr_do_sendmmsg(c, args, 1, 2);
    case K_SOCKETCALL: return tr_do_socketcall(c, args);
    case K_MOUNT: return tr_do_mount(c, args, s);
    case K_UMOUNT: return tr_do_paths(c, args, s);
    case K_CHROOT: return tr_do_chroot(c, args);
    case K_FDMETA: return tr_fd_changeable((int)args[0]);
    case K_DENY: return -EPERM;
    default: return 0;
    }
}

/* ------------------------------------------------------------ leave */

/*
 * getcwd returns the host path (length with NUL): report the guest's, also
 * when the host path did not fit the guest's buffer but the guest path does.
 */
static void tr_fix_getcwd(struct sfemu_tr_call *c, int64_t *ret)
{
    uint64_t g = sfemu_guest_addr(c->args[0]);
    uint64_t size = sfemu_guest_addr(c->args[1]);
    char guest[PATH_MAX];
    size_t len;

    if ((*ret <= 0 && *ret != tr_gerr(ERANGE)) || tr_guest_cwd(guest) != 0) {
        return;
    }
    len = strlen(guest);
    if (len + 1 > size) {
        *ret = tr_gerr(ERANGE);
    } else if (sfemu_rt.ops->write_mem(g, guest, len + 1) == 0) {
        *ret = (int64_t)len + 1;
    }
}

/* readlink("/proc/self/fd/N") and friends: strip the root from the result. */
static void tr_fix_readlink(struct sfemu_tr_call *c, int buf_arg, int64_t *ret)
{
    uint64_t g = sfemu_guest_addr(c->args[buf_arg]);
    char host[PATH_MAX], guest[PATH_MAX];
    size_t len;

    if (*ret <= 0 || *ret >= PATH_MAX ||
        sfemu_rt.ops->read_mem(g, host, (size_t)*ret)) {
        return;
    }
    host[*ret] = 0;
    if (tr_strip(host, guest) != 0) {
        return;
    }
    len = strlen(guest);
    if (sfemu_rt.ops->write_mem(g, guest, len) == 0) {
        *ret = (int64_t)len;
    }
}

void tr_call_leave(struct sfemu_tr_call *c, int64_t *ret)
{
    switch (c->kind) {
    case FIX_NONE: break;
    case FIX_GETCWD: tr_fix_getcwd(c, ret); break;
    case FIX_ZERO: *ret = 0; break;
    default:
        if (c->kind >= FIX_READLINK) {
            tr_fix_readlink(c, c->kind - FIX_READLINK, ret);
        }
        break;
    }
}
