/*
 * True root for -L (interface: trueroot.h; user guide: docs/true-root.md).
 *
 * The kernel does the path walk: every guest path a syscall takes is
 * resolved inside the rootfs with openat2(rootfd, path, RESOLVE_IN_ROOT),
 * so absolute symlinks and ".." never leave the root.  The real syscall
 * then gets a /proc/self/fd magic link instead of the guest string:
 *   "/proc/self/fd/N"       the object itself (syscalls that follow symlinks)
 *   "/proc/self/fd/P/name"  entry "name" of directory P (create, remove,
 *                           rename, lstat ... : the final name is not followed)
 * The O_PATH fds live until leave().  Paths under the host exceptions
 * (/proc, /sys, a few /dev nodes) pass through untouched.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/runtime.h"
#include "trueroot/trueroot.h"

int sfemu_trueroot_active;

/* Linux ABI constants that are the same on every guest architecture. */
#define G_AT_FDCWD (-100)
#define G_AT_SYMLINK_NOFOLLOW 0x100
#define G_AT_SYMLINK_FOLLOW 0x400
#define G_IN_DONT_FOLLOW 0x02000000
#define G_UMOUNT_NOFOLLOW 0x8
#define G_MS_BIND 0x1000
#define G_MS_MOVE 0x2000
#define G_AF_UNIX 1
#define G_SUN_PATH 108
#define G_SOCK_BIND 2 /* socketcall sub-calls */
#define G_SOCK_CONNECT 3
#define G_SOCK_SENDTO 11

#define TR_MAX_HOPS 40 /* symlinks followed by hand, like the kernel */
#define TR_NUMS 8192   /* classification cache: covers MIPS o32/n64/n32 */
#define TR_SLOT (PATH_MAX + 64)        /* one rewritten path string */
#define TR_OFF_SOCK (2 * TR_SLOT)      /* a rewritten sockaddr_un */
#define TR_OFF_ARR (TR_OFF_SOCK + 128) /* a rewritten socketcall array */
#define TR_SCRATCH (3 * 4096)
#define TR_POOL 64 /* scratch areas kept from exited threads */
#define TR_MAX_HOSTS 64
#define TR_KEEP 1 /* "leave this argument as it is" */
#define TR_MAGIC "/proc/self/fd/"

static const char tr_default_hosts[] =
    "/proc:/sys:/dev/null:/dev/zero:/dev/full:/dev/random:/dev/urandom:"
    "/dev/tty:/dev/ptmx:/dev/pts";

/* What a syscall needs (spec kinds) and what leave() must fix (c->kind). */
enum tr_kind {
    K_NONE,
    K_PATH,
    K_OPEN,
    K_EXEC,
    K_READLINK,
    K_GETCWD,
    K_SOCK,
    K_SOCKETCALL,
    K_OPENAT2,
    K_MOUNT,
    K_CHROOT,
    K_DENY,
    K_FIX_GETCWD,
    K_FIX_ZERO,
    K_FIX_READLINK /* + buffer arg index */
};

/* How the final component is treated.  The first three are resolved. */
enum tr_mode {
    M_FOLLOW,       /* follow a final symlink (stat, open, chdir ...) */
    M_INSPECT,      /* act on a final symlink itself (lstat, readlink ...) */
    M_ENTRY,        /* create/remove/rename the entry (mkdir, unlink ...) */
    M_OPEN,         /* from open flags: O_CREAT|O_EXCL, O_NOFOLLOW */
    M_AT_NOFOLLOW,  /* AT_SYMLINK_NOFOLLOW in the flags argument */
    M_AT_FOLLOW,    /* AT_SYMLINK_FOLLOW in the flags argument */
    M_INOTIFY,      /* IN_DONT_FOLLOW in the mask */
    M_UMOUNT,       /* UMOUNT_NOFOLLOW */
    M_NEWFD = 0x10, /* or'ed in: the syscall allocates an fd */
};

/* One path argument: indexes into args[] (-1: none / AT_FDCWD). */
struct tr_arg {
    signed char dirfd, path, flags;
    unsigned char mode;
};

struct tr_spec {
    const char *name;
    unsigned char kind;
    signed char extra; /* readlink: buffer; sock: length; mount: flags */
    struct tr_arg a[2];
};

#define A(d, p, f, m) \
    {                 \
        d, p, f, m    \
    }
#define NA            \
    {                 \
        -1, -1, -1, 0 \
    }
#define PATH1(n, m)             \
    {                           \
        n, K_PATH, -1,          \
        {                       \
            A(-1, 0, -1, m), NA \
        }                       \
    }
#define AT1(n, d, p, f, m)    \
    {                         \
        n, K_PATH, -1,        \
        {                     \
            A(d, p, f, m), NA \
        }                     \
    }

static const struct tr_spec tr_specs[] = {
    { "open", K_OPEN, -1, { A(-1, 0, 1, M_OPEN), NA } },
    /* creat: O_CREAT through a dangling link creates its target */
    { "creat", K_OPEN, -1, { A(-1, 0, -1, M_FOLLOW), NA } },
    { "openat", K_OPEN, -1, { A(0, 1, 2, M_OPEN), NA } },
    { "openat2", K_OPENAT2, -1, { A(0, 1, -1, M_FOLLOW), NA } },
    PATH1("stat", M_FOLLOW),
    PATH1("stat64", M_FOLLOW),
    PATH1("oldstat", M_FOLLOW),
    PATH1("lstat", M_INSPECT),
    PATH1("lstat64", M_INSPECT),
    PATH1("oldlstat", M_INSPECT),
    AT1("newfstatat", 0, 1, 3, M_AT_NOFOLLOW),
    AT1("fstatat64", 0, 1, 3, M_AT_NOFOLLOW),
    AT1("statx", 0, 1, 2, M_AT_NOFOLLOW),
    PATH1("access", M_FOLLOW),
    AT1("faccessat", 0, 1, -1, M_FOLLOW),
    AT1("faccessat2", 0, 1, 3, M_AT_NOFOLLOW),
    PATH1("chdir", M_FOLLOW),
    PATH1("mkdir", M_ENTRY),
    AT1("mkdirat", 0, 1, -1, M_ENTRY),
    PATH1("rmdir", M_ENTRY),
    PATH1("unlink", M_ENTRY),
    AT1("unlinkat", 0, 1, -1, M_ENTRY),
    { "rename", K_PATH, -1, { A(-1, 0, -1, M_ENTRY), A(-1, 1, -1, M_ENTRY) } },
    { "renameat", K_PATH, -1, { A(0, 1, -1, M_ENTRY), A(2, 3, -1, M_ENTRY) } },
    { "renameat2", K_PATH, -1, { A(0, 1, -1, M_ENTRY), A(2, 3, -1, M_ENTRY) } },
    { "link", K_PATH, -1, { A(-1, 0, -1, M_INSPECT), A(-1, 1, -1, M_ENTRY) } },
    { "linkat", K_PATH, -1, { A(0, 1, 4, M_AT_FOLLOW), A(2, 3, -1, M_ENTRY) } },
    /* symlink: the target string is stored verbatim, only the link moves. */
    AT1("symlink", -1, 1, -1, M_ENTRY),
    AT1("symlinkat", 1, 2, -1, M_ENTRY),
    { "readlink", K_READLINK, 1, { A(-1, 0, -1, M_INSPECT), NA } },
    { "readlinkat", K_READLINK, 2, { A(0, 1, -1, M_INSPECT), NA } },
    PATH1("chmod", M_FOLLOW),
    AT1("fchmodat", 0, 1, -1, M_FOLLOW),
    AT1("fchmodat2", 0, 1, 3, M_AT_NOFOLLOW),
    PATH1("chown", M_FOLLOW),
    PATH1("chown32", M_FOLLOW),
    PATH1("lchown", M_INSPECT),
    PATH1("lchown32", M_INSPECT),
    AT1("fchownat", 0, 1, 4, M_AT_NOFOLLOW),
    PATH1("utime", M_FOLLOW),
    PATH1("utimes", M_FOLLOW),
    AT1("futimesat", 0, 1, -1, M_FOLLOW),
    AT1("utimensat", 0, 1, 3, M_AT_NOFOLLOW),
    AT1("utimensat_time64", 0, 1, 3, M_AT_NOFOLLOW),
    PATH1("mknod", M_ENTRY),
    AT1("mknodat", 0, 1, -1, M_ENTRY),
    PATH1("truncate", M_FOLLOW),
    PATH1("truncate64", M_FOLLOW),
    PATH1("statfs", M_FOLLOW),
    PATH1("statfs64", M_FOLLOW),
    { "execve", K_EXEC, -1, { A(-1, 0, -1, M_FOLLOW), NA } },
    { "execveat", K_EXEC, -1, { A(0, 1, 4, M_AT_NOFOLLOW), NA } },
    PATH1("setxattr", M_FOLLOW),
    PATH1("lsetxattr", M_INSPECT),
    PATH1("getxattr", M_FOLLOW),
    PATH1("lgetxattr", M_INSPECT),
    PATH1("listxattr", M_FOLLOW),
    PATH1("llistxattr", M_INSPECT),
    PATH1("removexattr", M_FOLLOW),
    PATH1("lremovexattr", M_INSPECT),
    AT1("inotify_add_watch", -1, 1, 2, M_INOTIFY),
    AT1("name_to_handle_at", 0, 1, 4, M_AT_FOLLOW),
    PATH1("acct", M_FOLLOW),
    PATH1("swapon", M_FOLLOW),
    PATH1("swapoff", M_FOLLOW),
    { "chroot", K_CHROOT, -1, { NA, NA } },
    { "pivot_root", K_DENY, -1, { NA, NA } },
    { "mount", K_MOUNT, 3, { A(-1, 0, -1, M_FOLLOW), A(-1, 1, -1, M_FOLLOW) } },
    { "umount", K_MOUNT, -1, { NA, A(-1, 0, -1, M_FOLLOW) } },
    { "umount2", K_MOUNT, -1, { NA, A(-1, 0, 1, M_UMOUNT) } },
    { "bind", K_SOCK, 2, { A(-1, 1, -1, M_ENTRY), NA } },
    { "connect", K_SOCK, 2, { A(-1, 1, -1, M_FOLLOW), NA } },
    { "sendto", K_SOCK, 5, { A(-1, 4, -1, M_FOLLOW), NA } },
    { "socketcall", K_SOCKETCALL, -1, { NA, NA } },
    { "getcwd", K_GETCWD, -1, { NA, NA } },
};

/* The root: replaced (never freed: other threads may read it) by chroot. */
struct tr_root {
    _Atomic int fd; /* O_PATH|O_DIRECTORY, reopened if the guest closes it */
    size_t len;
    struct tr_root *prev; /* keeps replaced roots reachable */
    char path[PATH_MAX];  /* canonical host path */
};

static struct tr_root *_Atomic tr_root;
static int tr_fd_base = 3; /* our temporary fds live at or above this */
static _Atomic unsigned char
    tr_class[TR_NUMS]; /* 0 unknown, 1 none, 2+i spec i */

static char *tr_hosts_buf;
static const char *tr_hosts[TR_MAX_HOSTS];
static size_t tr_hosts_len[TR_MAX_HOSTS];
static int tr_nhosts;

static __thread uint64_t tr_scratch_g;
static pthread_key_t tr_key;
static pthread_once_t tr_key_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t tr_pool[TR_POOL];

/* ---------------------------------------------------------------- basics */

/* A host errno as the negative guest errno the syscall returns. */
static int tr_gerr(int host_errno)
{
    const struct sfemu_host_ops *o = sfemu_rt.ops;

    return -(o && o->errno_to_guest ? o->errno_to_guest(host_errno)
                                    : host_errno);
}

static uint64_t tr_load(const uint8_t *p, size_t w)
{
    uint64_t v = 0;

    for (size_t i = 0; i < w; i++) {
        v |= (uint64_t)p[sfemu_rt.t->big_endian ? w - 1 - i : i] << (8 * i);
    }
    return v;
}

static void tr_store(uint8_t *p, size_t w, uint64_t v)
{
    for (size_t i = 0; i < w; i++) {
        p[sfemu_rt.t->big_endian ? w - 1 - i : i] = (uint8_t)(v >> (8 * i));
    }
}

/*
 * Move a temporary fd above the guest's usual range when the syscall opens
 * a new fd: the guest must get the numbers it would get natively
 * (close(0); open() must return 0).  Other syscalls skip the extra cost.
 */
static int tr_fd_high(int fd)
{
    int hi;

    if (fd < 0 || fd >= tr_fd_base) {
        return fd;
    }
    hi = fcntl(fd, F_DUPFD_CLOEXEC, tr_fd_base);
    if (hi < 0) {
        return fd; /* the guest lowered RLIMIT_NOFILE: keep it low */
    }
    close(fd);
    return hi;
}

static int tr_pick_fd_base(void)
{
    struct rlimit rl;
    rlim_t cur = 1024;

    /* Capped at 1024 so the kernel never grows a huge fd table for us. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < cur) {
        cur = rl.rlim_cur;
    }
    return cur > 128 ? (int)cur - 64 : (int)cur / 2;
}

static int tr_hold(struct sfemu_tr_call *c, int fd)
{
    if (c->nfds >= SFEMU_TR_MAX_FDS) {
        close(fd);
        return -EMFILE;
    }
    c->fds[c->nfds++] = fd;
    return fd;
}

static void tr_drop_last(struct sfemu_tr_call *c)
{
    close(c->fds[--c->nfds]);
}

static void tr_release(struct sfemu_tr_call *c)
{
    while (c->nfds > 0) {
        tr_drop_last(c);
    }
}

/* ------------------------------------------------------------- the root */

static struct tr_root *tr_root_new(const char *dir)
{
    struct tr_root *r = calloc(1, sizeof(*r));
    int fd;

    if (!r) {
        return NULL;
    }
    if (!realpath(dir, r->path) ||
        (fd = open(r->path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        int e = errno;
        free(r);
        errno = e;
        return NULL;
    }
    atomic_init(&r->fd, tr_fd_high(fd));
    r->len = strlen(r->path);
    return r;
}

/* The guest closed our root fd (close-all loops do): open it again. */
static void tr_root_reopen(struct tr_root *r, int bad)
{
    int fd = open(r->path, O_PATH | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0) {
        return;
    }
    fd = tr_fd_high(fd);
    if (!atomic_compare_exchange_strong(&r->fd, &bad, fd)) {
        close(fd); /* another thread was faster */
    }
}

static int tr_openat2(int dirfd, const char *path, int flags)
{
    struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
                            .resolve = RESOLVE_IN_ROOT };
    int fd = -1;

    /* EAGAIN: a concurrent rename made the kernel distrust "..". */
    for (int i = 0; i < 8; i++) {
        fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        if (fd >= 0 || errno != EAGAIN) {
            break;
        }
    }
    return fd;
}

/* Open a guest absolute path inside the root: an fd or -host errno. */
static int tr_open_in_root(const char *path, int flags, bool high)
{
    struct tr_root *r = atomic_load(&tr_root);
    int rfd = atomic_load(&r->fd);
    int fd = tr_openat2(rfd, path, flags);

    if (fd < 0 && errno == EBADF) {
        tr_root_reopen(r, rfd);
        fd = tr_openat2(atomic_load(&r->fd), path, flags);
    }
    if (fd < 0) {
        return -errno;
    }
    return high ? tr_fd_high(fd) : fd;
}

/* ---------------------------------------------------------- host paths */

static bool tr_under(const char *path, const char *prefix, size_t len)
{
    return strncmp(path, prefix, len) == 0 &&
           (path[len] == 0 || path[len] == '/');
}

/* Lexical normal form ("//", ".", ".." collapsed) of an absolute path. */
static void tr_normalize(const char *in, char *out)
{
    size_t o = 0;

    while (*in) {
        const char *s;
        size_t n;

        while (*in == '/') {
            in++;
        }
        s = in;
        while (*in && *in != '/') {
            in++;
        }
        n = (size_t)(in - s);
        if (n == 0 || (n == 1 && s[0] == '.')) {
            continue;
        }
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            while (o > 0 && out[--o] != '/') {
            }
            continue;
        }
        out[o++] = '/';
        memcpy(out + o, s, n);
        o += n;
    }
    if (o == 0) {
        out[o++] = '/';
    }
    out[o] = 0;
}

/* Whether a guest absolute path stays on the host (a documented exception). */
static bool tr_is_host(const char *abs)
{
    char norm[PATH_MAX];

    tr_normalize(abs, norm);
    for (int i = 0; i < tr_nhosts; i++) {
        if (tr_under(norm, tr_hosts[i], tr_hosts_len[i])) {
            return true;
        }
    }
    return false;
}

static int tr_add_hosts(char *list)
{
    char *save = NULL;

    for (char *p = strtok_r(list, ":", &save); p;
         p = strtok_r(NULL, ":", &save)) {
        size_t n = strlen(p);

        while (n > 1 && p[n - 1] == '/') {
            p[--n] = 0;
        }
        if (p[0] != '/' || n < 2) {
            return -EINVAL; /* relative or "/": would defeat the root */
        }
        if (tr_nhosts == TR_MAX_HOSTS) {
            return -E2BIG;
        }
        tr_hosts[tr_nhosts] = p;
        tr_hosts_len[tr_nhosts++] = n;
    }
    return 0;
}

/* NULL: the defaults; "+LIST": the defaults and LIST; otherwise LIST only. */
static int tr_set_hosts(const char *spec)
{
    bool add = spec && spec[0] == '+';
    size_t need = sizeof(tr_default_hosts) + 2 + (spec ? strlen(spec) : 0);
    char *buf = malloc(need);

    if (!buf) {
        return -ENOMEM;
    }
    snprintf(buf, need, "%s%s%s", !spec || add ? tr_default_hosts : "",
             add ? ":" : "", spec ? spec + add : "");
    free(tr_hosts_buf);
    tr_hosts_buf = buf;
    tr_nhosts = 0;
    return tr_add_hosts(buf);
}

/* ------------------------------------------------------ guest path views */

/* The guest's name for a host path inside the root; -1 if outside. */
static int tr_strip(const char *host, char *out)
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

/*
 * The guest's view of a host directory: inside the root, stripped; a host
 * exception (chdir("/proc")), as is; anything else (qemu started outside
 * the root), the root itself.
 */
static void tr_guest_view(const char *host, char *out)
{
    if (tr_strip(host, out) == 0) {
        return;
    }
    snprintf(out, PATH_MAX, "%s", tr_is_host(host) ? host : "/");
}

static int tr_guest_cwd(char *out)
{
    char host[PATH_MAX];

    if (!getcwd(host, sizeof(host))) {
        return -errno;
    }
    tr_guest_view(host, out);
    return 0;
}

/* The guest path of a directory fd; TR_KEEP if it is not inside the root. */
static int tr_fd_guest_path(int fd, char *out)
{
    char magic[32], host[PATH_MAX];
    ssize_t n;

    snprintf(magic, sizeof(magic), TR_MAGIC "%d", fd);
    n = readlink(magic, host, sizeof(host) - 1);
    if (n < 0) {
        return TR_KEEP; /* bad fd: the real syscall reports it */
    }
    host[n] = 0;
    return tr_strip(host, out) == 0 ? 0 : TR_KEEP;
}

/* Collapse repeated slashes in place. */
static void tr_collapse(char *p)
{
    char *o = p;

    for (const char *i = p; *i; i++) {
        if (!(*i == '/' && o > p && o[-1] == '/')) {
            *o++ = *i;
        }
    }
    *o = 0;
}

/* The guest absolute path of (dirfd, path): 0, TR_KEEP or -host errno. */
static int tr_absolute(int dirfd, const char *path, char *abs)
{
    char base[PATH_MAX];
    int rc;

    if (path[0] == '/') {
        snprintf(abs, PATH_MAX, "%s", path);
        tr_collapse(abs);
        return 0;
    }
    rc = dirfd == G_AT_FDCWD ? tr_guest_cwd(base)
                             : tr_fd_guest_path(dirfd, base);
    if (rc) {
        return rc;
    }
    if (snprintf(abs, PATH_MAX, "%s/%s", base, path) >= PATH_MAX) {
        return -ENAMETOOLONG;
    }
    tr_collapse(abs);
    return 0;
}

/* --------------------------------------------------------- resolution */

/*
 * Split a collapsed absolute path in place: *parent and *base point into
 * buf; *slash tells whether the guest wrote a trailing slash.
 */
static void tr_split(char *buf, const char **parent, const char **base,
                     bool *slash)
{
    size_t n = strlen(buf);
    char *last;

    *slash = n > 1 && buf[n - 1] == '/';
    while (n > 1 && buf[n - 1] == '/') {
        buf[--n] = 0;
    }
    last = strrchr(buf, '/');
    *base = last + 1;
    if (last == buf) {
        *parent = "/";
    } else {
        *last = 0;
        *parent = buf;
    }
}

static int tr_emit(char *out, int fd, const char *name, const char *suffix)
{
    int n = snprintf(out, TR_SLOT, TR_MAGIC "%d%s%s%s", fd, *name ? "/" : "",
                     name, suffix);

    return n >= TR_SLOT ? -ENAMETOOLONG : 0;
}

/* The next guest path when following a dangling symlink by hand. */
static int tr_link_next(const char *parent, const char *target, bool slash,
                        char *abs)
{
    int n;

    if (target[0] == '/') {
        n = snprintf(abs, PATH_MAX, "%s%s", target, slash ? "/" : "");
    } else {
        n = snprintf(abs, PATH_MAX, "%s/%s%s", parent, target,
                     slash ? "/" : "");
    }
    if (n >= PATH_MAX) {
        return -ENAMETOOLONG;
    }
    tr_collapse(abs);
    return 0;
}

/*
 * Resolve a guest absolute path (not a host exception) for an operation of
 * the given resolved mode; out gets what the real syscall should see.
 * 0 or -host errno.
 */
static int tr_resolve(struct sfemu_tr_call *c, const char *path, int mode,
                      char *out)
{
    char abs[PATH_MAX], work[PATH_MAX], link[PATH_MAX];
    bool high = mode & M_NEWFD;

    mode &= ~M_NEWFD;
    snprintf(abs, sizeof(abs), "%s", path);
    for (int hops = 0;; hops++) {
        const char *parent, *base;
        bool slash, dot;
        ssize_t n;
        int fd, rc;

        memcpy(work, abs, strlen(abs) + 1);
        tr_split(work, &parent, &base, &slash);
        dot = !base[0] || !strcmp(base, ".") || !strcmp(base, "..");
        if (mode == M_INSPECT && slash) {
            mode = M_FOLLOW; /* "link/" means the directory it points to */
        }
        if (dot || mode == M_FOLLOW) {
            /* ".." must never be resolved from a parent fd: it could climb out. */
            fd = tr_open_in_root(abs, O_PATH, high);
            if (fd >= 0 && (fd = tr_hold(c, fd)) >= 0) {
                /* "/.": an lstat/rmdir must not act on the magic link itself */
                return tr_emit(out, fd, "",
                               dot && mode != M_FOLLOW ? "/."
                               : slash                 ? "/"
                                                       : "");
            }
            if (fd != -ENOENT || dot) {
                return fd;
            }
        }
        fd = tr_open_in_root(parent, O_PATH | O_DIRECTORY, high);
        if (fd < 0 || (fd = tr_hold(c, fd)) < 0) {
            return fd;
        }
        if (mode == M_FOLLOW &&
            (n = readlinkat(fd, base, link, sizeof(link) - 1)) >= 0) {
            /* A dangling symlink: follow it here, so O_CREAT creates inside. */
            if (hops >= TR_MAX_HOPS) {
                return -ELOOP;
            }
            link[n] = 0;
            rc = tr_link_next(parent, link, slash, abs);
            if (rc) {
                return rc;
            }
            if (tr_is_host(abs)) { /* /etc/mtab -> /proc/mounts */
                tr_normalize(abs, out);
                return 0;
            }
            tr_drop_last(c);
            continue;
        }
        return tr_emit(out, fd, base, slash ? "/" : "");
    }
}

/*
 * /proc/self/root is the host's "/": give the guest its own root there, as
 * chroot does.  Rewrites abs to the guest path and returns true if so.
 */
static bool tr_proc_root(char *abs)
{
    static const char *const roots[] = { "/proc/self/root",
                                         "/proc/thread-self/root" };
    char norm[PATH_MAX];

    tr_normalize(abs, norm);
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        size_t n = strlen(roots[i]);

        if (tr_under(norm, roots[i], n)) {
            snprintf(abs, PATH_MAX, "%s", norm[n] ? norm + n : "/");
            return true;
        }
    }
    return false;
}

/*
 * Map one guest path: 0 with out set, TR_KEEP, or -host errno.  *host
 * (optional) tells whether the path is a host exception.
 */
static int tr_map(struct sfemu_tr_call *c, int dirfd, const char *path,
                  int mode, char *out, bool *host)
{
    char abs[PATH_MAX];
    int rc;

    if (!path[0]) {
        return TR_KEEP; /* "" is an fd operation (AT_EMPTY_PATH) or ENOENT */
    }
    rc = tr_absolute(dirfd, path, abs);
    if (rc) {
        return rc;
    }
    if (tr_is_host(abs) && !tr_proc_root(abs)) {
        if (host) {
            *host = true;
        }
        tr_normalize(abs, out);
        if (!strncmp(out, "/proc", 5) && (out[5] == '/' || !out[5])) {
            /* QEMU matches /proc/self/... literally: keep the guest's string */
            return path[0] == '/' ? TR_KEEP : 0;
        }
        /* Other host exceptions go through /proc/self/root, so QEMU's own
         * -L lookup never maps them to a same-named file in the rootfs
         * (firmware trees often carry a regular file at /dev/null). */
        {
            char tmp[PATH_MAX];
            if (snprintf(tmp, sizeof(tmp), "/proc/self/root%s", out) >=
                (int)sizeof(tmp)) {
                return -ENAMETOOLONG;
            }
            memcpy(out, tmp, strlen(tmp) + 1);
        }
        return 0;
    }
    return tr_resolve(c, abs, mode, out);
}

/* The final mode of a path argument, from the guest's flags. */
static int tr_mode_of(const struct tr_arg *a, const int64_t args[SFEMU_NARGS])
{
    uint64_t f = a->flags >= 0 ? (uint64_t)args[a->flags] : 0;
    const struct sfemu_target *t = sfemu_rt.t;

    switch (a->mode) {
    case M_OPEN:
        if ((f & (uint64_t)t->o_creat) && (f & (uint64_t)t->o_excl)) {
            return M_ENTRY;
        }
        return f & (uint64_t)t->o_nofollow ? M_INSPECT : M_FOLLOW;
    case M_AT_NOFOLLOW: return f & G_AT_SYMLINK_NOFOLLOW ? M_INSPECT : M_FOLLOW;
    case M_AT_FOLLOW: return f & G_AT_SYMLINK_FOLLOW ? M_FOLLOW : M_INSPECT;
    case M_INOTIFY: return f & G_IN_DONT_FOLLOW ? M_INSPECT : M_FOLLOW;
    case M_UMOUNT: return f & G_UMOUNT_NOFOLLOW ? M_INSPECT : M_FOLLOW;
    default: return a->mode;
    }
}

/* "/proc/self/fd/N[/rest]" -> the host path it names (for execve). */
static int tr_hostify(char *out)
{
    char magic[32], host[PATH_MAX];
    char *end;
    long fd;
    ssize_t n;

    if (strncmp(out, TR_MAGIC, strlen(TR_MAGIC))) {
        return 0;
    }
    fd = strtol(out + strlen(TR_MAGIC), &end, 10);
    snprintf(magic, sizeof(magic), TR_MAGIC "%ld", fd);
    n = readlink(magic, host, sizeof(host) - 1);
    if (n < 0) {
        return -errno;
    }
    host[n] = 0;
    if ((size_t)n + strlen(end) >= PATH_MAX) {
        return -ENAMETOOLONG;
    }
    memmove(out + n, end, strlen(end) + 1);
    memcpy(out, host, (size_t)n);
    return 0;
}

/* ------------------------------------------------------- guest memory */

static void tr_key_init(void);

/* This thread's scratch guest memory (lazily; reused after thread exit). */
static uint64_t tr_scratch(void)
{
    uint64_t g = 0;

    if (tr_scratch_g) {
        return tr_scratch_g;
    }
    for (int i = 0; i < TR_POOL && !g; i++) {
        g = atomic_exchange(&tr_pool[i], 0);
    }
    if (!g) {
        g = sfemu_rt.ops->guest_alloc(TR_SCRATCH);
    }
    if (g) {
        pthread_once(&tr_key_once, tr_key_init);
        pthread_setspecific(tr_key, (void *)(uintptr_t)g);
        tr_scratch_g = g;
    }
    return g;
}

static void tr_scratch_free(void *p)
{
    for (int i = 0; i < TR_POOL; i++) {
        uint64_t zero = 0;

        if (atomic_compare_exchange_strong(&tr_pool[i], &zero,
                                           (uint64_t)(uintptr_t)p)) {
            return;
        }
    }
}

static void tr_key_init(void)
{
    pthread_key_create(&tr_key, tr_scratch_free);
}

/* Put data into scratch at off and point args[idx] at it. */
static int tr_put(int64_t args[SFEMU_NARGS], int idx, size_t off,
                  const void *data, size_t len)
{
    uint64_t g = tr_scratch();

    if (!g) {
        return -ENOMEM;
    }
    if (sfemu_rt.ops->write_mem(g + off, data, len)) {
        return -EFAULT;
    }
    args[idx] = sfemu_abi_long((int64_t)(g + off));
    return 0;
}

/* The guest string at args[idx]: 0, TR_KEEP (NULL, unreadable) or -errno. */
static int tr_read_path(const int64_t args[SFEMU_NARGS], int idx, char *buf)
{
    uint64_t g = sfemu_guest_addr(args[idx]);
    long n;

    if (!g) {
        return TR_KEEP; /* NULL: an fd operation or EFAULT, QEMU knows */
    }
    n = sfemu_rt.ops->read_str(g, buf, PATH_MAX);
    if (n < 0) {
        return TR_KEEP;
    }
    if (n >= PATH_MAX) {
        return -ENAMETOOLONG;
    }
    buf[n] = 0;
    return 0;
}

enum { TRF_HOSTIFY = 1, TRF_DENY_HOST = 2, TRF_NEWFD = 4 };

/* Rewrite one path argument into scratch slot `slot`: 0 or -host errno. */
static int tr_path_arg(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                       const struct tr_arg *a, int mode, int slot, int flags,
                       bool *host)
{
    char path[PATH_MAX], out[TR_SLOT];
    bool is_host = false;
    int dirfd, rc;

    if (a->path < 0) {
        return 0;
    }
    rc = tr_read_path(args, a->path, path);
    if (rc) {
        return rc == TR_KEEP ? 0 : rc;
    }
    dirfd = a->dirfd < 0 ? G_AT_FDCWD : (int)args[a->dirfd];
    rc = tr_map(c, dirfd, path, mode | (flags & TRF_NEWFD ? M_NEWFD : 0), out,
                &is_host);
    if (host) {
        *host = is_host;
    }
    if (is_host && (flags & TRF_DENY_HOST)) {
        return -EPERM;
    }
    if (rc == 0 && (flags & TRF_HOSTIFY)) {
        rc = tr_hostify(out);
    }
    if (rc) {
        return rc == TR_KEEP ? 0 : rc;
    }
    return tr_put(args, a->path, (size_t)slot * TR_SLOT, out, strlen(out) + 1);
}

/* ------------------------------------------------------------- kinds */

static int tr_do_paths(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                       const struct tr_spec *s, int flags)
{
    for (int i = 0; i < 2; i++) {
        int rc = tr_path_arg(c, args, &s->a[i], tr_mode_of(&s->a[i], args), i,
                             flags, NULL);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

/* readlink of a host path (/proc/self/fd/N, /proc/self/cwd) shows host paths. */
static int tr_do_readlink(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                          const struct tr_spec *s)
{
    bool host = false;
    int rc = tr_path_arg(c, args, &s->a[0], M_INSPECT, 0, 0, &host);

    if (rc == 0 && host) {
        c->kind = K_FIX_READLINK + s->extra;
    }
    return rc;
}

/* bind/connect/sendto on a sockaddr_un at args[ai], length args[li]. */
static int tr_sock(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS], int ai,
                   int li, int mode)
{
    struct {
        uint8_t family[2];
        char path[G_SUN_PATH];
    } sa;
    char path[G_SUN_PATH + 1], out[TR_SLOT];
    uint64_t g = sfemu_guest_addr(args[ai]);
    uint64_t len = (uint32_t)args[li];
    size_t n;
    int rc;

    if (!g || len <= 2 || len > sizeof(sa) ||
        sfemu_rt.ops->read_mem(g, &sa, (size_t)len) ||
        tr_load(sa.family, 2) != G_AF_UNIX || !sa.path[0]) {
        return 0; /* not a named unix socket (abstract: untouched) */
    }
    n = strnlen(sa.path, (size_t)len - 2);
    memcpy(path, sa.path, n);
    path[n] = 0;
    rc = tr_map(c, G_AT_FDCWD, path, mode, out, NULL);
    if (rc) {
        return rc == TR_KEEP ? 0 : rc;
    }
    n = strlen(out);
    if (n >= G_SUN_PATH) {
        return -ENAMETOOLONG;
    }
    memcpy(sa.path, out, n + 1);
    rc = tr_put(args, ai, TR_OFF_SOCK, &sa, 2 + n + 1);
    args[li] = (int64_t)(2 + n + 1);
    return rc;
}

/* MIPS o32/ARM socketcall(call, args[]): the array lives in guest memory. */
static int tr_do_socketcall(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS])
{
    size_t w = (size_t)sfemu_rt.t->abi_bits / 8;
    uint64_t g = sfemu_guest_addr(args[1]);
    int64_t v[SFEMU_NARGS] = { 0 };
    uint8_t raw[6 * 8];
    int n, ai, li, mode, rc;

    switch ((int)args[0]) {
    case G_SOCK_BIND:
        n = 3;
        ai = 1;
        li = 2;
        mode = M_ENTRY;
        break;
    case G_SOCK_CONNECT:
        n = 3;
        ai = 1;
        li = 2;
        mode = M_FOLLOW;
        break;
    case G_SOCK_SENDTO:
        n = 6;
        ai = 4;
        li = 5;
        mode = M_FOLLOW;
        break;
    default: return 0;
    }
    if (!g || sfemu_rt.ops->read_mem(g, raw, (size_t)n * w)) {
        return 0;
    }
    for (int i = 0; i < n; i++) {
        v[i] = sfemu_abi_long((int64_t)tr_load(raw + (size_t)i * w, w));
    }
    rc = tr_sock(c, v, ai, li, mode);
    if (rc ||
        v[ai] == sfemu_abi_long((int64_t)tr_load(raw + (size_t)ai * w, w))) {
        return rc;
    }
    tr_store(raw + (size_t)ai * w, w, (uint64_t)v[ai]);
    tr_store(raw + (size_t)li * w, w, (uint64_t)v[li]);
    return tr_put(args, 1, TR_OFF_ARR, raw, (size_t)n * w);
}

/*
 * openat2: with resolve == 0 it is openat.  Guest RESOLVE_* flags cannot be
 * combined with our rewrite; a relative path under RESOLVE_IN_ROOT/BENEATH
 * of a real dirfd is already confined and passes through, the rest gets
 * ENOSYS so libraries fall back to openat.
 */
static int tr_do_openat2(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                         const struct tr_spec *s)
{
    const struct sfemu_target *t = sfemu_rt.t;
    uint64_t g = sfemu_guest_addr(args[2]);
    uint8_t how[24];
    uint64_t flags, resolve;
    int mode;

    if (!g || (uint64_t)args[3] < sizeof(how) ||
        sfemu_rt.ops->read_mem(g, how, sizeof(how))) {
        return 0; /* QEMU reports the bad struct */
    }
    flags = tr_load(how, 8);
    resolve = tr_load(how + 16, 8);
    if (resolve) {
        char path[PATH_MAX];
        int rc = tr_read_path(args, 1, path);

        if (rc) {
            return rc == TR_KEEP ? 0 : rc;
        }
        if (path[0] == '/'
                ? tr_is_host(path)
                : (int)args[0] != G_AT_FDCWD &&
                      (resolve & (RESOLVE_IN_ROOT | RESOLVE_BENEATH))) {
            return 0;
        }
        return -ENOSYS;
    }
    if ((flags & (uint64_t)t->o_creat) && (flags & (uint64_t)t->o_excl)) {
        mode = M_ENTRY;
    } else {
        mode = flags & (uint64_t)t->o_nofollow ? M_INSPECT : M_FOLLOW;
    }
    return tr_path_arg(c, args, &s->a[0], mode, 0, TRF_NEWFD, NULL);
}

/* mount/umount: never on a host exception; bind/move sources move too. */
static int tr_do_mount(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                       const struct tr_spec *s)
{
    int rc = 0;

    if (s->extra >= 0 && ((uint64_t)args[s->extra] & (G_MS_BIND | G_MS_MOVE))) {
        rc = tr_path_arg(c, args, &s->a[0], M_FOLLOW, 0, 0, NULL);
    }
    if (rc == 0) {
        rc = tr_path_arg(c, args, &s->a[1], tr_mode_of(&s->a[1], args), 1,
                         TRF_DENY_HOST, NULL);
    }
    return rc;
}

/* Make a host directory the new root, process-wide like chroot(2). */
static int tr_set_root(int fd)
{
    char magic[32];
    struct tr_root *r;

    snprintf(magic, sizeof(magic), TR_MAGIC "%d", fd);
    r = tr_root_new(magic);
    if (!r) {
        return -errno;
    }
    r->prev = atomic_load(&tr_root);
    atomic_store(&tr_root, r);
    return 0;
}

/*
 * chroot is emulated: a real chroot would move QEMU itself.  The real
 * syscall then runs on "" (ENOENT, no effect) and leave() reports 0.
 */
static int tr_do_chroot(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS])
{
    char path[PATH_MAX], out[TR_SLOT], want[32];
    bool host = false;
    struct stat st;
    int rc, fd;

    rc = tr_read_path(args, 0, path);
    if (rc) {
        return rc == TR_KEEP ? -EFAULT : rc;
    }
    if (geteuid() != 0) {
        return -EPERM;
    }
    rc = tr_map(c, G_AT_FDCWD, path, M_FOLLOW, out, &host);
    if (host) {
        return -EPERM; /* never a root on the host side */
    }
    if (rc) {
        return rc == TR_KEEP ? -ENOENT : rc;
    }
    fd = c->nfds ? c->fds[c->nfds - 1] : -1;
    snprintf(want, sizeof(want), TR_MAGIC "%d", fd);
    if (strcmp(out, want) != 0) {
        return -ENOENT; /* resolution ended at a missing name */
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
    c->kind = K_FIX_ZERO;
    return tr_put(args, 0, 0, "", 1);
}

/* --------------------------------------------------------- entry points */

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

int sfemu_trueroot_takes_paths(int num, const char *name)
{
    return tr_classify(num, name) != NULL;
}

int sfemu_trueroot_init(const char *root, const char *host_paths)
{
    struct tr_root *r;
    int rc, fd;

    if (!root || !sfemu_rt.t || !sfemu_rt.ops) {
        return -EINVAL;
    }
    tr_fd_base = tr_pick_fd_base();
    rc = tr_set_hosts(host_paths);
    if (rc) {
        return rc;
    }
    r = tr_root_new(root);
    if (!r) {
        return -errno;
    }
    /* Kernels before 5.6 have no openat2: refuse rather than leak. */
    fd = tr_openat2(atomic_load(&r->fd), "/", O_PATH);
    if (fd < 0) {
        rc = -errno;
        close(atomic_load(&r->fd));
        free(r);
        return rc;
    }
    close(fd);
    r->prev = atomic_load(&tr_root);
    atomic_store(&tr_root, r);
    pthread_once(&tr_key_once, tr_key_init);
    sfemu_trueroot_active = 1;
    return 0;
}

static int tr_dispatch(const struct tr_spec *s, int64_t args[SFEMU_NARGS],
                       struct sfemu_tr_call *c)
{
    switch (s->kind) {
    case K_PATH: return tr_do_paths(c, args, s, 0);
    case K_OPEN: return tr_do_paths(c, args, s, TRF_NEWFD);
    case K_EXEC: return tr_do_paths(c, args, s, TRF_HOSTIFY);
    case K_READLINK: return tr_do_readlink(c, args, s);
    case K_GETCWD: c->kind = K_FIX_GETCWD; return 0;
    case K_SOCK: return tr_sock(c, args, s->a[0].path, s->extra, s->a[0].mode);
    case K_SOCKETCALL: return tr_do_socketcall(c, args);
    case K_OPENAT2: return tr_do_openat2(c, args, s);
    case K_MOUNT: return tr_do_mount(c, args, s);
    case K_CHROOT: return tr_do_chroot(c, args);
    case K_DENY: return -EPERM;
    default: return 0;
    }
}

int sfemu_trueroot_enter(int num, const char *name, int64_t args[SFEMU_NARGS],
                         struct sfemu_tr_call *c)
{
    const struct tr_spec *s;
    int rc;

    c->nfds = 0;
    c->kind = K_NONE;
    if (!sfemu_trueroot_active || !(s = tr_classify(num, name))) {
        return 0;
    }
    memcpy(c->args, args, sizeof(c->args));
    rc = tr_dispatch(s, args, c);
    if (rc) {
        /* No leave() follows an error: undo everything here. */
        tr_release(c);
        memcpy(args, c->args, sizeof(c->args));
        c->kind = K_NONE;
        return tr_gerr(-rc);
    }
    return 0;
}

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

void sfemu_trueroot_leave(struct sfemu_tr_call *c, int64_t *ret)
{
    switch (c->kind) {
    case K_NONE: break;
    case K_FIX_GETCWD: tr_fix_getcwd(c, ret); break;
    case K_FIX_ZERO: *ret = 0; break;
    default:
        if (c->kind >= K_FIX_READLINK) {
            tr_fix_readlink(c, c->kind - K_FIX_READLINK, ret);
        }
        break;
    }
    tr_release(c);
}
