/*
 * True root for -L (interface: trueroot.h; internals: tr.h; user guide:
 * docs/true-root.md): the root, the host exceptions, enter and leave.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/runtime.h"
#include "trueroot/tr.h"

int sfemu_trueroot_active;
struct tr_root *_Atomic tr_root;
int tr_leader;

#define TR_MAX_HOSTS 64

static const char tr_default_hosts[] =
    "/proc:/sys:/dev/null:/dev/zero:/dev/full:/dev/random:/dev/urandom:"
    "/dev/tty:/dev/ptmx:/dev/pts";

static int tr_fd_base = 3; /* long-lived fds live at or above this */
static char *tr_hosts_buf;
static const char *tr_hosts[TR_MAX_HOSTS];
static size_t tr_hosts_len[TR_MAX_HOSTS];
static int tr_nhosts;
static bool tr_proc_host;
static _Atomic int tr_procfd = -1;

/* ---------------------------------------------------------------- basics */

int tr_gerr(int host_errno)
{
    const struct sfemu_host_ops *o = sfemu_rt.ops;

    return -(o && o->errno_to_guest ? o->errno_to_guest(host_errno)
                                    : host_errno);
}

/*
 * Move an fd above the guest's usual range: the root fd and the fds an
 * open holds while it runs, so the guest gets the numbers it would get
 * natively (close(0); open() must return 0).
 */
int tr_fd_high(int fd)
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

int tr_hold(struct sfemu_tr_call *c, int fd)
{
    if (fd < 0) {
        return fd;
    }
    if (c->nfds >= SFEMU_TR_MAX_FDS) {
        close(fd);
        return -EMFILE;
    }
    c->fds[c->nfds++] = fd;
    return fd;
}

static void tr_release(struct sfemu_tr_call *c)
{
    while (c->nfds > 0) {
        close(c->fds[--c->nfds]);
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

int tr_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
    struct open_how_tr {
        uint64_t flags, mode, resolve;
    } how = { flags | O_CLOEXEC, 0, resolve };
    int fd = -1;

    /* EAGAIN: a concurrent rename made the kernel distrust "..". */
    for (int i = 0; i < 8; i++) {
        fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        if (fd >= 0 || errno != EAGAIN) {
            break;
        }
    }
    return fd < 0 ? -errno : fd;
}

/* The root fd, valid (reopened if the guest closed it). */
static int tr_root_fd(void)
{
    struct tr_root *r = atomic_load(&tr_root);
    int fd = atomic_load(&r->fd);

    if (fcntl(fd, F_GETFD) < 0) {
        tr_root_reopen(r, fd);
        fd = atomic_load(&r->fd);
    }
    return fd;
}

int tr_open_in_root(const char *path, int flags)
{
    struct tr_root *r = atomic_load(&tr_root);
    int rfd = atomic_load(&r->fd);
    int fd = tr_openat2(rfd, path, (uint64_t)flags,
                        RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);

    if (fd == -EBADF) {
        fd = tr_openat2(tr_root_fd(), path, (uint64_t)flags,
                        RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    }
    return fd;
}

/* The root fd for an openat2 the guest's open runs through QEMU. */
int tr_root_dirfd(void)
{
    return atomic_load(&atomic_load(&tr_root)->fd);
}

int tr_root_dirfd_again(void)
{
    return tr_root_fd();
}

/* Make a host directory the new root, process-wide like chroot(2). */
int tr_set_root(int fd)
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

/* ------------------------------------------------------ host exceptions */

bool tr_proc_is_host(void)
{
    return tr_proc_host;
}

int tr_proc_fd(void)
{
    int fd = atomic_load(&tr_procfd), nfd;

    if (fd >= 0 && fcntl(fd, F_GETFD) >= 0) {
        return fd;
    }
    nfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (nfd < 0) {
        return -errno;
    }
    nfd = tr_fd_high(nfd);
    if (!atomic_compare_exchange_strong(&tr_procfd, &fd, nfd)) {
        close(nfd);
        return atomic_load(&tr_procfd);
    }
    return nfd;
}

/* The exception a lexically normal absolute path falls under, or NULL. */
const char *tr_host_prefix(const char *norm)
{
    const char *best = NULL;
    size_t blen = 0;

    for (int i = 0; i < tr_nhosts; i++) {
        if (tr_hosts_len[i] > blen &&
            tr_under(norm, tr_hosts[i], tr_hosts_len[i])) {
            best = tr_hosts[i];
            blen = tr_hosts_len[i];
        }
    }
    return best;
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
        if (strstr(p, "/./") || strstr(p, "/../") || !strcmp(p + n - 2, "/.") ||
            (n >= 3 && !strcmp(p + n - 3, "/.."))) {
            return -EINVAL; /* must be a normal path */
        }
        if (tr_nhosts == TR_MAX_HOSTS) {
            return -E2BIG;
        }
        tr_proc_host |= !strcmp(p, "/proc");
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
    tr_proc_host = false;
    return tr_add_hosts(buf);
}

/* --------------------------------------------------------- entry points */

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
    fd = tr_openat2(atomic_load(&r->fd), "/", O_PATH,
                    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd < 0) {
        close(atomic_load(&r->fd));
        free(r);
        return fd;
    }
    close(fd);
    r->prev = atomic_load(&tr_root);
    atomic_store(&tr_root, r);
    tr_leader = getpid();
    tr_scratch_init();
    if (sfemu_rt.ops->prefix_off) {
        sfemu_rt.ops->prefix_off();
    }
    sfemu_trueroot_active = 1;
    return 0;
}

int sfemu_trueroot_takes_paths(int num, const char *name)
{
    return tr_call_takes(num, name);
}

int sfemu_trueroot_enter(int num, const char *name, int64_t args[SFEMU_NARGS],
                         struct sfemu_tr_call *c)
{
    int rc;

    c->nfds = 0;
    c->kind = 0;
    c->num = num;
    c->done = 0;
    if (!sfemu_trueroot_active || !tr_call_takes(num, name)) {
        return 0;
    }
    memcpy(c->args, args, sizeof(c->args));
    rc = tr_call_enter(num, name, args, c);
    if (rc) {
        /* No leave() follows an error: undo everything here. */
        tr_release(c);
        memcpy(args, c->args, sizeof(c->args));
        c->kind = 0;
        c->num = num;
        c->done = 0;
        return tr_gerr(-rc);
    }
    return 0;
}

void sfemu_trueroot_leave(struct sfemu_tr_call *c, int64_t *ret)
{
    tr_call_leave(c, ret);
    tr_release(c);
}
