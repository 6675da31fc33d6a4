/*
 * The qemu side of the fakefile engine: mount detection, the process-wide
 * table of fake fds (one table for all guest threads: an fd opened by one
 * thread is read by others), and where each operation goes (dispatch):
 * with an sfemu-mount on the guest root, over the shared-memory ring to
 * the daemon's engine (fakefile/transport.c); without one, or when the daemon
 * does not answer, to the engine inside qemu.  Every operation is one
 * struct fakefs_call (fakefs/call.h), whichever way it goes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "call.h"
#include "fakefs.h"
#include "fakefile/fake.h"
#include "fakefile/map.h"
#include "fakefile/sock.h"
#include "fakefile/transport.h"
#include "analysis/notes.h"
#include "trueroot/guestfs.h"
#include "core/log.h"
#include "core/options.h"
#include "core/runtime.h"

#define FAKE_MAX_FDS 4096

/* What the fd table knows of a guest fd. */
enum fd_kind {
    FD_UNKNOWN = 0, /* never looked at */
    FD_SERVED,      /* served by the state machine: a /dev/null fd inside
                       qemu */
    FD_SOCKET,      /* a fake socket (sock.c): the kernel answers every
                       call, listed for reports */
    FD_MOUNT,       /* a fake file of the mount: the mount serves read,
                       write and close, ioctl goes to the state machine */
    FD_MOUNT_DEV,   /* a fake device of the mount: read, write and lseek
                       too go to the state machine (a read hands it the
                       reader's buffer), the mount serves close */
    FD_PLAIN,       /* looked at: not a fake (until close) */
};

struct fake_fd {
    char *path;
    int64_t off;
    enum fd_kind kind;
};

static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fake_fd fds[FAKE_MAX_FDS];
static struct fakefs_engine *engine;
#define FAKE_MAX_CREATED 256
static char *created[FAKE_MAX_CREATED];
static int ncreated;
static int mounted = -1;

/* ---- the store: the engine reaches the device tree through guest paths */

static int store_read(void *ud, const char *path, char **data, size_t *len)
{
    int fd = sfemu_guestfs_open(path, O_RDONLY, 0);
    size_t cap = 4096, n = 0;
    char *buf;
    ssize_t r;

    (void)ud;
    if (fd < 0) {
        return fd;
    }
    buf = malloc(cap);
    while (buf && (r = read(fd, buf + n, cap - n - 1)) > 0) {
        n += r;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    close(fd);
    if (!buf) {
        return -ENOMEM;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

/* Written to a temporary name beside it, then renamed over it: another
 * guest process reading the file (the NVRAM store, read before every
 * operation) sees the old text or the new, never a truncated one. */
static int store_write(void *ud, const char *path, const char *data, size_t len)
{
    char dir[PATH_MAX], tmp[NAME_MAX + 1], *slash;
    const char *name;
    int dfd, fd, rc = 0;

    (void)ud;
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (!slash || !slash[1]) {
        return -EINVAL;
    }
    name = path + (slash - dir) + 1;
    if (slash == dir) {
        dir[1] = '\0';
    } else {
        *slash = '\0';
        sfemu_guestfs_mkdir_p(dir, 0755);
    }
    if (snprintf(tmp, sizeof(tmp), ".%.200s.sfemu-%d", name, (int)getpid()) >=
        (int)sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    dfd = sfemu_guestfs_open(dir, O_PATH | O_DIRECTORY, 0);
    if (dfd < 0) {
        return dfd;
    }
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                0644);
    if (fd < 0) {
        rc = -errno;
        close(dfd);
        return rc;
    }
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0) {
            rc = -errno;
            break;
        }
        data += w;
        len -= w;
    }
    close(fd);
    if (rc == 0 && renameat(dfd, tmp, dfd, name) < 0) {
        rc = -errno;
    }
    if (rc < 0) {
        unlinkat(dfd, tmp, 0);
    }
    close(dfd);
    return rc;
}

static int store_exists(void *ud, const char *path)
{
    int fd = sfemu_guestfs_open(path, O_PATH, 0);
    struct stat st;
    int yes;

    (void)ud;
    if (fd < 0) {
        return 0;
    }
    yes = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
    return yes;
}

static void engine_log(const char *msg)
{
    sfemu_log("fakefile: %s", msg);
}

/* The engine, created on first use.  Called with fake_lock held. */
static struct fakefs_engine *engine_get(void)
{
    static const struct fakefs_store store = {
        .read = store_read,
        .write = store_write,
        .exists = store_exists,
    };
    sigset_t all, old;

    if (engine || !sfemu_opt_str(SFEMU_OPT_rules)) {
        return engine;
    }
    engine = fakefs_new(sfemu_opt_str(SFEMU_OPT_rules), &store, engine_log);
    if (!engine) {
        sfemu_log("fakefile: cannot load %s/plugins/fakefile",
                  sfemu_opt_str(SFEMU_OPT_rules));
        return NULL;
    }
    /* Its inotify thread must not receive the guest's signals. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    fakefs_watch_start(engine);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!sfemu_fake_mounted()) {
        sfemu_log("fakefile: the guest root is not an sfemu-mount: fake "
                  "resources live inside this qemu only, nothing is "
                  "inspectable from the shell (see docs/fakefile.md)");
    }
    return engine;
}

/* Run c: over the ring for a mounted root, else (or when the ring
 * fails) in the engine inside qemu.  Called without fake_lock. */
static long run_call(struct fakefs_call *c)
{
    struct fakefs_engine *e;
    long r;

    if (sfemu_fake_mounted() && sfemu_fake_ring_call(c, &r) == 0) {
        return r;
    }
    pthread_mutex_lock(&fake_lock);
    e = engine_get();
    pthread_mutex_unlock(&fake_lock);
    return e ? fakefs_call(e, c) : -ENOSYS;
}

/* run_call, the handlers' notes (fakefile.note) going to this process's
 * run record (analysis/notes.h) unless the caller collects them. */
static long dispatch(struct fakefs_call *c)
{
    char note[FAKEFS_NOTE_MAX];
    long r;

    if (c->who.note) {
        return run_call(c);
    }
    note[0] = '\0';
    c->who.note = note;
    c->who.notecap = sizeof(note);
    r = run_call(c);
    c->who.note = NULL;
    c->who.notecap = 0;
    if (note[0]) {
        sfemu_note_lines(c->path, note);
    }
    return r;
}

long sfemu_fake_dispatch(struct fakefs_call *c)
{
    return dispatch(c);
}

/* ---- mount detection: the guest root is a "fuse.sfemu" mount point */

int sfemu_fake_mounted(void)
{
    char *root, line[4096];
    FILE *f;

    if (mounted >= 0) {
        return mounted;
    }
    mounted = 0;
    root = sfemu_guestfs_root_path();
    f = root ? fopen("/proc/self/mountinfo", "re") : NULL;
    while (f && fgets(line, sizeof(line), f)) {
        char mp[PATH_MAX], fstype[64];
        const char *dash = strstr(line, " - ");
        if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && dash &&
            sscanf(dash + 3, "%63s", fstype) == 1 && !strcmp(mp, root) &&
            !strcmp(fstype, "fuse.sfemu")) {
            mounted = 1;
        }
    }
    if (f) {
        fclose(f);
    }
    free(root);
    return mounted;
}

struct fakefs_caller sfemu_fake_caller(int pid, int fd)
{
    struct fakefs_caller c = { .pid = pid,
                               .fd = fd,
                               .side = "qemu",
                               .order = sfemu_rt.t && sfemu_rt.t->big_endian
                                            ? FAKEFS_ORDER_BIG
                                            : FAKEFS_ORDER_LITTLE };
    return c;
}

static struct fakefs_caller caller(int fd)
{
    return sfemu_fake_caller(getpid(), fd);
}

int sfemu_fake_init(const char *path, const char *kind)
{
    struct fakefs_call c = { .op = FAKEFS_INIT,
                             .path = path,
                             .in = kind,
                             .inlen = kind ? strlen(kind) : 0,
                             .who = caller(-1) };
    int rc = (int)dispatch(&c);

    pthread_mutex_lock(&fake_lock);
    if (rc >= 0 && ncreated < FAKE_MAX_CREATED) {
        int seen = 0;
        for (int i = 0; i < ncreated && !seen; i++) {
            seen = !strcmp(created[i], path);
        }
        if (!seen) {
            created[ncreated] = strdup(path);
            ncreated += created[ncreated] != NULL;
        }
    }
    pthread_mutex_unlock(&fake_lock);
    return rc;
}

/* Remember fd as a fake of path (fake_lock held). */
static void fd_note(int fd, const char *path, enum fd_kind kind)
{
    free(fds[fd].path);
    fds[fd].path = path ? strdup(path) : NULL;
    fds[fd].off = 0;
    fds[fd].kind = kind;
}

#define KIND(k) (1u << (k))

/* The path of fd if it is of a kind in kinds (KIND() bits), copied into
 * out; 0 if not. */
static int fd_get(int fd, unsigned kinds, char *out, size_t cap, int64_t *off)
{
    int yes;

    pthread_mutex_lock(&fake_lock);
    yes = fds[fd].path && (kinds & KIND(fds[fd].kind));
    if (yes) {
        snprintf(out, cap, "%s", fds[fd].path);
        if (off) {
            *off = fds[fd].off;
        }
    }
    pthread_mutex_unlock(&fake_lock);
    return yes;
}

int sfemu_fake_open(const char *path, int guest_flags)
{
    int fd, rc;

    fd = open("/dev/null", O_RDWR); /* the guest's fd number */
    if (fd < 0) {
        return -errno;
    }
    if (fd >= FAKE_MAX_FDS) {
        close(fd);
        return -EMFILE;
    }
    struct fakefs_call c = { .op = FAKEFS_OPEN,
                             .path = path,
                             .flags = guest_flags & O_ACCMODE,
                             .who = caller(fd) };
    rc = (int)dispatch(&c);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    pthread_mutex_lock(&fake_lock);
    fd_note(fd, path, FD_SERVED);
    pthread_mutex_unlock(&fake_lock);
    return fd;
}

const char *sfemu_fake_fd_path(int fd)
{
    /* A racy peek is fine: the path is only freed when the fd closes. */
    return fd >= 0 && fd < FAKE_MAX_FDS ? fds[fd].path : NULL;
}

/* A file of the mount that is a fake: the mount says so in its layer
 * attribute (mount/ops.c).  Only a regular file with a fake's st_blksize
 * is asked: its fstat comes from the kernel's attribute cache, the
 * attribute is a round trip to the daemon. */
static int mount_fake(int fd, char *path, size_t cap)
{
    char layer[16];
    struct stat st;
    ssize_t n;

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_blksize != FAKEFS_MOUNT_BLKSIZE) {
        return 0;
    }
    n = fgetxattr(fd, "security.sfemu.layer", layer, sizeof(layer));
    return n == 4 && !memcmp(layer, "fake", 4) &&
           sfemu_guestfs_fd_path(fd, path, cap) >= 0;
}

/* A fake of the mount seen for the first time by this process: a device
 * (its reads, writes and seeks come here) or a file; the daemon records
 * this process and fd as its last opener (the mount only knew the pid). */
static enum fd_kind mount_kind(int fd, const char *path)
{
    struct fakefs_call c = { .op = FAKEFS_GETATTR,
                             .path = path,
                             .who = caller(fd) };
    struct fakefs_call o = { .op = FAKEFS_OPENED,
                             .path = path,
                             .who = caller(fd) };
    int dev = dispatch(&c) == 0 && c.attr.type == FAKEFS_DEV;

    dispatch(&o);
    return dev ? FD_MOUNT_DEV : FD_MOUNT;
}

int sfemu_fake_fd_serves(int fd, enum sfemu_fake_use use)
{
    enum fd_kind k;
    char path[PATH_MAX];

    if (fd < 0 || fd >= FAKE_MAX_FDS) {
        return 0;
    }
    k = __atomic_load_n(&fds[fd].kind, __ATOMIC_RELAXED);
    switch (k) {
    case FD_SERVED: return 1;
    case FD_SOCKET: return use == SFEMU_FAKE_USE_CLOSE;
    case FD_MOUNT: return use != SFEMU_FAKE_USE_IO;
    case FD_MOUNT_DEV: return 1;
    case FD_PLAIN:
        if (use == SFEMU_FAKE_USE_CLOSE) {
            __atomic_store_n(&fds[fd].kind, FD_UNKNOWN, __ATOMIC_RELAXED);
        }
        return 0;
    case FD_UNKNOWN: break;
    }
    /* On a mounted root an fd is looked at once (an extended attribute of
     * the mount says "fake"): the mount serves a fake file's read and
     * write, the state machine a device's, and every fake's ioctl and
     * mmap (emulated: the mapping shows what the mmap handler serves). */
    if (use == SFEMU_FAKE_USE_CLOSE || !sfemu_fake_mounted()) {
        return 0;
    }
    k = mount_fake(fd, path, sizeof(path)) ? mount_kind(fd, path) : FD_PLAIN;
    pthread_mutex_lock(&fake_lock);
    if (fds[fd].kind == FD_UNKNOWN) {
        fd_note(fd, k != FD_PLAIN ? path : NULL, k);
    }
    k = fds[fd].kind;
    pthread_mutex_unlock(&fake_lock);
    return k == FD_SERVED || k == FD_MOUNT_DEV ||
           (k == FD_MOUNT && use != SFEMU_FAKE_USE_IO);
}

/* The file offset of a mount device's fd: the kernel's, so that dup'd
 * and inherited fds share it as they would on a device. */
static int64_t mount_off(int fd, int64_t set)
{
    int64_t r = lseek(fd, set < 0 ? 0 : set, set < 0 ? SEEK_CUR : SEEK_SET);
    return r < 0 ? -errno : r;
}

/* One read or write at the fd's offset, which then advances.  A read
 * hands the handler the bytes already in the reader's buffer (in). */
static ssize_t fake_rw(int fd, void *rbuf, const void *in, size_t inlen,
                       const void *wbuf, size_t n)
{
    char path[PATH_MAX];
    int64_t off;
    ssize_t r;
    int dev;

    if (fd < 0 || fd >= FAKE_MAX_FDS ||
        !fd_get(fd, KIND(FD_SERVED) | KIND(FD_MOUNT_DEV), path, sizeof(path),
                &off)) {
        return -EBADF;
    }
    dev = fds[fd].kind == FD_MOUNT_DEV;
    if (dev && (off = mount_off(fd, -1)) < 0) {
        return off;
    }
    struct fakefs_call c = { .op = rbuf ? FAKEFS_READ : FAKEFS_WRITE,
                             .path = path,
                             .offset = (uint64_t)off,
                             .in = rbuf ? in : wbuf,
                             .inlen = rbuf ? inlen : n,
                             .out = rbuf,
                             .outcap = rbuf ? n : 0,
                             .who = caller(fd) };
    r = dispatch(&c);
    if (r >= 0) {
        /* a read-only shared mapping of it shows the state now: a write
         * changed it; a read may answer an offset into it (Broadcom's
         * nvram_get) after another process changed it */
        sfemu_fake_map_refresh(path);
    }
    if (r > 0 && dev) {
        mount_off(fd, off + r);
    } else if (r > 0) {
        pthread_mutex_lock(&fake_lock);
        fds[fd].off += r;
        pthread_mutex_unlock(&fake_lock);
    }
    return r;
}

ssize_t sfemu_fake_read(int fd, void *buf, const void *in, size_t inlen,
                        size_t n)
{
    return fake_rw(fd, buf, in, inlen, NULL, n);
}

ssize_t sfemu_fake_write(int fd, const void *buf, size_t n)
{
    return fake_rw(fd, NULL, NULL, 0, buf, n);
}

int64_t sfemu_fake_lseek(int fd, int64_t off, int whence)
{
    char path[PATH_MAX];
    int64_t cur, base, r;

    if (fd < 0 || fd >= FAKE_MAX_FDS ||
        !fd_get(fd, KIND(FD_SERVED) | KIND(FD_MOUNT_DEV), path, sizeof(path),
                &cur)) {
        return -EBADF;
    }
    if (fds[fd].kind == FD_MOUNT_DEV && (cur = mount_off(fd, -1)) < 0) {
        return cur;
    }
    base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? cur : -1;
    if (whence == SEEK_END) {
        struct fakefs_call c = { .op = FAKEFS_GETATTR,
                                 .path = path,
                                 .who = caller(fd) };
        if (dispatch(&c) == 0) {
            base = (int64_t)c.attr.size;
        }
    }
    r = base < 0 ? -EINVAL : base + off < 0 ? -EINVAL : base + off;
    if (r >= 0 && fds[fd].kind == FD_MOUNT_DEV) {
        r = mount_off(fd, r);
    } else if (r >= 0) {
        pthread_mutex_lock(&fake_lock);
        fds[fd].off = r;
        pthread_mutex_unlock(&fake_lock);
    }
    return r;
}

int sfemu_fake_ioctl(int fd, struct fakefs_call *c)
{
    char path[PATH_MAX];
    long r;

    if (fd < 0 || fd >= FAKE_MAX_FDS ||
        !fd_get(fd, KIND(FD_SERVED) | KIND(FD_MOUNT) | KIND(FD_MOUNT_DEV), path,
                sizeof(path), NULL)) {
        return -EBADF;
    }
    c->op = FAKEFS_IOCTL;
    c->path = path;
    c->who = caller(fd);
    r = dispatch(c);
    if (r >= 0 && c->action != FAKEFS_IOCTL_NEED) {
        sfemu_fake_map_refresh(path);
    }
    c->path = NULL;
    return (int)r;
}

void sfemu_fake_forget_fd(int fd)
{
    char path[PATH_MAX];
    int served;

    if (fd < 0 || fd >= FAKE_MAX_FDS) {
        return;
    }
    served = fd_get(fd, KIND(FD_SERVED), path, sizeof(path), NULL);
    if (fd_get(fd, KIND(FD_SOCKET), path, sizeof(path), NULL)) {
        sfemu_sock_guest_close(fd); /* the pump runs close */
    }
    pthread_mutex_lock(&fake_lock);
    fd_note(fd, NULL, FD_UNKNOWN);
    pthread_mutex_unlock(&fake_lock);
    if (served) {
        /* a file of the mount is closed by the mount's release */
        struct fakefs_call c = { .op = FAKEFS_CLOSE,
                                 .path = path,
                                 .who = caller(fd) };
        dispatch(&c);
    }
}

void sfemu_fake_dup_fd(int oldfd, int newfd)
{
    if (oldfd >= FAKE_MAX_FDS || newfd >= FAKE_MAX_FDS || oldfd == newfd ||
        (__atomic_load_n(&fds[newfd].kind, __ATOMIC_RELAXED) == FD_UNKNOWN &&
         __atomic_load_n(&fds[oldfd].kind, __ATOMIC_RELAXED) == FD_UNKNOWN)) {
        return; /* the common case: nothing known of either */
    }
    sfemu_fake_forget_fd(newfd);
    pthread_mutex_lock(&fake_lock);
    if (fds[oldfd].path) {
        /* (a mount's fake is looked at again: its offset is the kernel's) */
        if (fds[oldfd].kind == FD_SERVED) {
            fd_note(newfd, fds[oldfd].path, FD_SERVED);
            fds[newfd].off = fds[oldfd].off;
        }
    }
    pthread_mutex_unlock(&fake_lock);
}

int sfemu_fake_connect(int fd, const char *path, int *action, char *addr,
                       size_t cap)
{
    int r;

    if (fd < 0 || fd >= FAKE_MAX_FDS) {
        return -EBADF;
    }
    struct fakefs_call c = { .op = FAKEFS_CONNECT,
                             .path = path,
                             .out = addr,
                             .outcap = cap,
                             .who = caller(fd) };
    r = (int)dispatch(&c);
    *action = c.action;
    if (r == 0 && *action == 0 && (r = sfemu_sock_serve(fd, path)) < 0) {
        /* connect ran: its close does too */
        struct fakefs_call cl = { .op = FAKEFS_CLOSE,
                                  .path = path,
                                  .who = caller(fd) };
        dispatch(&cl);
        sfemu_log("fakefile: %s: cannot make fd %d a fake socket: %s", path, fd,
                  strerror(-r));
    }
    if (r == 0 && *action == 0) {
        pthread_mutex_lock(&fake_lock);
        fd_note(fd, path, FD_SOCKET);
        pthread_mutex_unlock(&fake_lock);
    }
    return r;
}

void sfemu_fake_each(void (*cb)(void *opaque, const char *path, int fd),
                     void *opaque)
{
    if (pthread_mutex_trylock(&fake_lock) != 0) {
        return;
    }
    for (int i = 0; i < ncreated; i++) {
        cb(opaque, created[i], -1);
    }
    for (int fd = 0; fd < FAKE_MAX_FDS; fd++) {
        if (fds[fd].path) {
            cb(opaque, fds[fd].path, fd);
        }
    }
    pthread_mutex_unlock(&fake_lock);
}
