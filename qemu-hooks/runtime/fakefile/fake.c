/*
 * The qemu side of the fakefile engine: mount detection, the engine inside
 * qemu when there is no mount, and the process-wide table of fake fds (one
 * table for all guest threads: an fd opened by one thread is read by others).
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
#include <unistd.h>

#include "fakefs.h"
#include "fakefile/fake.h"
#include "trueroot/guestfs.h"
#include "core/log.h"
#include "core/options.h"
#include "core/runtime.h"

#define FAKE_MAX_FDS 4096

struct fake_fd {
    char *path;
    int64_t off;
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

static int store_write(void *ud, const char *path, const char *data, size_t len)
{
    char dir[PATH_MAX], *slash;
    int fd, rc = 0;

    (void)ud;
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        sfemu_guestfs_mkdir_p(dir, 0755);
    }
    fd = sfemu_guestfs_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        return fd;
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

/* ---- mount detection: the guest root is a "fuse.sfemu" mount point */

int sfemu_fake_mounted(void)
{
    char *root, line[4096];
    FILE *f;

    if (mounted >= 0) {
        return mounted;
    }
    mounted = 0;
    root = sfemu_rt.t && sfemu_rt.t->ld_prefix
               ? realpath(sfemu_rt.t->ld_prefix, NULL)
               : NULL;
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

int sfemu_fake_init(const char *path, const char *kind)
{
    struct fakefs_engine *e;
    int rc;

    pthread_mutex_lock(&fake_lock);
    e = engine_get();
    rc = e ? fakefs_init_resource(e, path, kind) : -ENOSYS;
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

static struct fakefs_caller caller(int fd)
{
    struct fakefs_caller c = { .pid = getpid(), .fd = fd, .side = "qemu" };
    return c;
}

int sfemu_fake_open(const char *path, int guest_flags)
{
    struct fakefs_engine *e;
    struct fakefs_caller c;
    int fd, rc;

    fd = open("/dev/null", O_RDWR); /* the guest's fd number */
    if (fd < 0) {
        return -errno;
    }
    if (fd >= FAKE_MAX_FDS) {
        close(fd);
        return -EMFILE;
    }
    c = caller(fd);
    pthread_mutex_lock(&fake_lock);
    e = engine_get();
    rc = e ? fakefs_open(e, path, guest_flags & O_ACCMODE, &c) : -ENOSYS;
    if (rc >= 0) {
        free(fds[fd].path);
        fds[fd].path = strdup(path);
        fds[fd].off = 0;
    }
    pthread_mutex_unlock(&fake_lock);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

const char *sfemu_fake_fd_path(int fd)
{
    /* A racy peek is fine: the path is only freed when the fd closes. */
    return fd >= 0 && fd < FAKE_MAX_FDS ? fds[fd].path : NULL;
}

/* One read or write at the fd's offset, which then advances. */
static ssize_t fake_rw(int fd, void *rbuf, const void *wbuf, size_t n)
{
    struct fakefs_caller c = caller(fd);
    ssize_t r = -EBADF;

    if (fd < 0 || fd >= FAKE_MAX_FDS) {
        return -EBADF;
    }
    pthread_mutex_lock(&fake_lock);
    if (fds[fd].path && engine) {
        r = rbuf ? fakefs_read(engine, fds[fd].path, rbuf, n, fds[fd].off, &c)
                 : fakefs_write(engine, fds[fd].path, wbuf, n, fds[fd].off, &c);
        if (r > 0) {
            fds[fd].off += r;
        }
    }
    pthread_mutex_unlock(&fake_lock);
    return r;
}

ssize_t sfemu_fake_read(int fd, void *buf, size_t n)
{
    return fake_rw(fd, buf, NULL, n);
}

ssize_t sfemu_fake_write(int fd, const void *buf, size_t n)
{
    return fake_rw(fd, NULL, buf, n);
}

int64_t sfemu_fake_lseek(int fd, int64_t off, int whence)
{
    int64_t r = -EBADF;
    if (fd < 0 || fd >= FAKE_MAX_FDS) {
        return -EBADF;
    }

    pthread_mutex_lock(&fake_lock);
    if (fds[fd].path) {
        struct fakefs_attr a = { 0 };
        int64_t base = whence == SEEK_SET   ? 0
                       : whence == SEEK_CUR ? fds[fd].off
                                            : -1;
        if (whence == SEEK_END && engine &&
            fakefs_lookup(engine, fds[fd].path, 0, &a) > 0) {
            base = (int64_t)a.size;
        }
        r = base < 0 ? -EINVAL : base + off < 0 ? -EINVAL : base + off;
        if (r >= 0) {
            fds[fd].off = r;
        }
    }
    pthread_mutex_unlock(&fake_lock);
    return r;
}

int sfemu_fake_ioctl(int fd, unsigned long cmd, const void *in, size_t inlen,
                     void *out, size_t outcap, size_t *outlen)
{
    struct fakefs_caller c = caller(fd);
    int r = -EBADF;
    if (fd < 0 || fd >= FAKE_MAX_FDS) {
        return -EBADF;
    }

    pthread_mutex_lock(&fake_lock);
    if (fds[fd].path && engine) {
        r = fakefs_ioctl(engine, fds[fd].path, cmd, in, inlen, out, outcap,
                         outlen, &c);
    }
    pthread_mutex_unlock(&fake_lock);
    return r;
}

void sfemu_fake_forget_fd(int fd)
{
    struct fakefs_caller c = caller(fd);
    if (fd < 0 || fd >= FAKE_MAX_FDS) {
        return;
    }

    pthread_mutex_lock(&fake_lock);
    if (fds[fd].path) {
        if (engine) {
            fakefs_close(engine, fds[fd].path, &c);
        }
        free(fds[fd].path);
        fds[fd].path = NULL;
    }
    pthread_mutex_unlock(&fake_lock);
}

int sfemu_fake_connect(int fd, const char *path, int *action, char *addr,
                       size_t cap)
{
    struct fakefs_caller c = caller(fd);
    struct fakefs_engine *e;
    int r;

    if (fd < 0 || fd >= FAKE_MAX_FDS) {
        return -EBADF;
    }
    pthread_mutex_lock(&fake_lock);
    e = engine_get();
    r = e ? fakefs_connect(e, path, action, addr, cap, &c) : -ENOSYS;
    if (r == 0 && *action == 0) {
        free(fds[fd].path);
        fds[fd].path = strdup(path);
        fds[fd].off = 0;
    }
    pthread_mutex_unlock(&fake_lock);
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
