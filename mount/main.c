/*
 * sfemu-mount: options, mount-point handling (stale mounts, unmount), the
 * daemon's life cycle.  See docs/mount.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include "dirfd.h"
#include "init_replay.h"
#include "fake_ops.h"
#include "passthrough.h"
#include "sfemu_mount.h"

struct sfemu *sfemu_g;

struct opts {
    int foreground, unmount, debug, allow_other, private_;
    const char *upper, *rules, *log, *fake_init;
    const char *rootfs, *mountpoint;
    int symlinks_contained;
    double cache_timeout;
    int threads;
    int no_passthrough;
    int no_negative_cache;
    int init;
    struct init_opts init_o;
};

static void usage(FILE *f)
{
    fprintf(
        f,
        "Usage: sfemu-mount [options] ROOTFS [MOUNTPOINT]\n"
        "       sfemu-mount -u ROOTFS|MOUNTPOINT\n"
        "       sfemu-mount --rules DIR --fake-init PATH[=KIND] ROOTFS\n"
        "       sfemu-mount --init [--rules DIR] ROOTFS [MOUNTPOINT]\n"
        "\n"
        "Overlay a firmware root filesystem with FUSE: the firmware tree (ROOTFS) is\n"
        "never written, changes land in a persistent upper tree, fake resources are\n"
        "served by the fakefile engine.  Mounts over ROOTFS itself unless MOUNTPOINT\n"
        "is given; returns once the mount is ready.\n"
        "\n"
        "Options:\n"
        "  -f, --foreground       stay in the foreground (log to stderr)\n"
        "  -u, --unmount          unmount (also cleans a stale mount)\n"
        "  --upper DIR            upper directory (default: <ROOTFS>.sfemu/)\n"
        "  --rules DIR            rules tree; its plugins/fakefile serves fake resources\n"
        "  --log FILE             log file (default: <upper>/sfemu-mount.log, stderr with -f)\n"
        "  --allow-other          let other users use the mount (always with default_permissions;\n"
        "                         the default when run as root)\n"
        "  --private              only the mounting user may use the mount\n"
        "  --symlinks=MODE        contained (default): symlink targets are rewritten to stay\n"
        "                         inside the mount; firmware: targets unchanged\n"
        "  --cache-timeout SEC    kernel attribute/entry cache time (default 5)\n"
        "  --threads N            FUSE worker threads (default 1: lowest latency on small\n"
        "                         machines; more help parallel guests and first reads)\n"
        "  --no-passthrough       serve real files through the daemon and the FUSE page\n"
        "                         cache instead of FUSE passthrough (passthrough needs\n"
        "                         kernel 6.9+ and root; without them it is off anyway)\n"
        "  --no-negative-cache    never let the kernel cache a missing name; keeps mounts\n"
        "                         made inside the mount (a chroot's /proc) attached\n"
        "  --fake-init PATH[=KIND] create the three fakefile pieces for PATH (text, dev,\n"
        "                         socket) with the plugin's fakefile.init, through ROOTFS\n"
        "  --init                 replay the filesystem part of the firmware's init\n"
        "                         scripts and RULES/config/prepare.conf into the mount\n"
        "                         (mounting first if needed); one line per action\n"
        "  --init-script PATH     the script to replay (a guest path; repeatable)\n"
        "  --init-engine E        auto (default), shell (the firmware's /bin/sh under\n"
        "                         the patched qemu) or interpret (built-in interpreter)\n"
        "  --init-timeout SEC     time limit of the shell engine (default 30)\n"
        "  --qemu DIR             where qemu-ARCH is (default $SFEMU_QEMU_DIR, the\n"
        "                         build tree, $PATH)\n"
        "  -d, --debug            libfuse debug output (implies -f)\n"
        "  -h, --help             this help\n"
        "  -V, --version          print the version\n");
}

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "sfemu-mount: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->symlinks_contained = 1;
    o->cache_timeout = 5.0;
    o->threads = 1;
    o->init_o.timeout = 30;
    const char *pos[2];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        const char *val = NULL;
        char name[64];
        if (!strncmp(a, "--", 2) && strchr(a, '=')) {
            size_t n = (size_t)(strchr(a, '=') - a);
            if (n >= sizeof name) {
                die("unknown option '%s'", a);
            }
            memcpy(name, a, n);
            name[n] = 0;
            val = a + n + 1;
            a = name;
        }
#define NEEDVAL()                                    \
    do {                                             \
        if (!val) {                                  \
            if (i + 1 >= argc)                       \
                die("option '%s' needs a value", a); \
            val = argv[++i];                         \
        }                                            \
    } while (0)
        if (!strcmp(a, "-f") || !strcmp(a, "--foreground")) {
            o->foreground = 1;
        } else if (!strcmp(a, "-d") || !strcmp(a, "--debug")) {
            o->debug = o->foreground = 1;
        } else if (!strcmp(a, "-u") || !strcmp(a, "--unmount")) {
            o->unmount = 1;
        } else if (!strcmp(a, "--no-passthrough")) {
            o->no_passthrough = 1;
        } else if (!strcmp(a, "--no-negative-cache")) {
            o->no_negative_cache = 1;
        } else if (!strcmp(a, "--allow-other")) {
            o->allow_other = 1;
        } else if (!strcmp(a, "--private")) {
            o->private_ = 1;
        } else if (!strcmp(a, "--upper")) {
            NEEDVAL();
            o->upper = val;
        } else if (!strcmp(a, "--rules")) {
            NEEDVAL();
            o->rules = val;
        } else if (!strcmp(a, "--log")) {
            NEEDVAL();
            o->log = val;
        } else if (!strcmp(a, "--fake-init")) {
            NEEDVAL();
            o->fake_init = val;
        } else if (!strcmp(a, "--init")) {
            o->init = 1;
        } else if (!strcmp(a, "--init-script")) {
            NEEDVAL();
            if (o->init_o.nscripts == INIT_MAX_SCRIPTS) {
                die("--init-script: at most 16, '%s' is one too many", val);
            }
            if (val[0] != '/') {
                die("--init-script: '%s' must be an absolute guest path", val);
            }
            o->init_o.scripts[o->init_o.nscripts++] = val;
        } else if (!strcmp(a, "--init-engine")) {
            NEEDVAL();
            if (!strcmp(val, "auto")) {
                o->init_o.engine = INIT_AUTO;
            } else if (!strcmp(val, "shell")) {
                o->init_o.engine = INIT_SHELL;
            } else if (!strcmp(val, "interpret")) {
                o->init_o.engine = INIT_INTERPRET;
            } else {
                die("--init-engine: expected 'auto', 'shell' or 'interpret', "
                    "got '%s'",
                    val);
            }
        } else if (!strcmp(a, "--init-timeout")) {
            NEEDVAL();
            char *end;
            long n = strtol(val, &end, 10);
            if (*end || end == val || n < 1 || n > 3600) {
                die("--init-timeout: '%s' is not a number of seconds from 1 "
                    "to 3600",
                    val);
            }
            o->init_o.timeout = (int)n;
        } else if (!strcmp(a, "--qemu")) {
            NEEDVAL();
            o->init_o.qemu_dir = val;
        } else if (!strcmp(a, "--symlinks")) {
            NEEDVAL();
            if (!strcmp(val, "contained")) {
                o->symlinks_contained = 1;
            } else if (!strcmp(val, "firmware")) {
                o->symlinks_contained = 0;
            } else {
                die("--symlinks: expected 'contained' or 'firmware', got '%s'",
                    val);
            }
        } else if (!strcmp(a, "--cache-timeout")) {
            NEEDVAL();
            char *end;
            o->cache_timeout = strtod(val, &end);
            if (*end || end == val || o->cache_timeout < 0) {
                die("--cache-timeout: '%s' is not a number of seconds", val);
            }
        } else if (!strcmp(a, "--threads")) {
            NEEDVAL();
            char *end;
            long n = strtol(val, &end, 10);
            if (*end || end == val || n < 1 || n > 64) {
                die("--threads: '%s' is not a number from 1 to 64", val);
            }
            o->threads = (int)n;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("sfemu-mount %s (libfuse %d.%d)\n", SFEMU_MOUNT_VERSION,
                   fuse_version() / 100, fuse_version() % 100);
            exit(0);
        } else if (a[0] == '-' && a[1]) {
            die("unknown option '%s' (see --help)", argv[i]);
        } else {
            if (val) {
                die("unexpected value in '%s'", argv[i]);
            }
            if (npos == 2) {
                die("unexpected argument '%s' (see --help)", a);
            }
            pos[npos++] = a;
        }
#undef NEEDVAL
    }
    if (npos == 0) {
        die("%s", "missing ROOTFS (see --help)");
    }
    o->rootfs = pos[0];
    o->mountpoint = npos > 1 ? pos[1] : NULL;
    if (o->unmount && npos > 1) {
        die("-u takes one path, got also '%s'", pos[1]);
    }
    if (o->init && (o->unmount || o->foreground || o->fake_init)) {
        die("%s", "--init goes with neither -u, -f, -d nor --fake-init");
    }
    if (!o->init &&
        (o->init_o.nscripts || o->init_o.qemu_dir ||
         o->init_o.engine != INIT_AUTO || o->init_o.timeout != 30)) {
        die("%s", "--init-script, --init-engine, --init-timeout and --qemu "
                  "need --init");
    }
    if (o->allow_other && o->private_) {
        die("%s", "--allow-other and --private exclude each other");
    }
    /* Firmware services run as root and drop to nobody or www-data: a root
     * daemon serves every uid unless told otherwise (as fuse-overlayfs). */
    if (geteuid() == 0 && !o->private_) {
        o->allow_other = 1;
    }
}

/* ------------------------------------------------------------------ mounts */

static void unescape_mountinfo(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
            *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *o++ = *s;
        }
    }
    *o = 0;
}

/* The fstype mounted at abs (the topmost one), or "" if none. */
static void mount_type(const char *abs, char *type, size_t cap)
{
    type[0] = 0;
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) {
        return;
    }
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, f) > 0) {
        char mp[PATH_MAX];
        if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1) {
            continue;
        }
        unescape_mountinfo(mp);
        if (strcmp(mp, abs) != 0) {
            continue;
        }
        char *dash = strstr(line, " - ");
        char fst[128];
        if (dash && sscanf(dash + 3, "%127s", fst) == 1) {
            snprintf(type, cap, "%s", fst);
        }
    }
    free(line);
    fclose(f);
}

/* Absolute path without touching the final component (it may be a dead
 * FUSE mount that gives ENOTCONN). */
static char *abs_path(const char *p)
{
    char buf[PATH_MAX], dir[PATH_MAX], res[PATH_MAX];
    if (realpath(p, res)) {
        return strdup(res);
    }
    snprintf(buf, sizeof buf, "%s", p);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/') {
        buf[--n] = 0;
    }
    char *slash = strrchr(buf, '/');
    const char *base = slash ? slash + 1 : buf;
    if (slash == buf) {
        snprintf(dir, sizeof dir, "/");
    } else if (slash) {
        *slash = 0;
        snprintf(dir, sizeof dir, "%s", buf);
    } else {
        snprintf(dir, sizeof dir, ".");
    }
    if (!realpath(dir, res)) {
        return NULL;
    }
    char *out = malloc(strlen(res) + strlen(base) + 2);
    if (out) {
        sprintf(out, "%s%s%s", res, strcmp(res, "/") ? "/" : "", base);
    }
    return out;
}

static int run_fusermount(const char *mp, int lazy)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (lazy) {
            execlp("fusermount3", "fusermount3", "-u", "-z", mp, (char *)NULL);
        } else {
            execlp("fusermount3", "fusermount3", "-u", mp, (char *)NULL);
        }
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) < 0) {
        return -1;
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int do_umount(const char *mp, int lazy)
{
    if (geteuid() == 0) {
        if (umount2(mp, lazy ? MNT_DETACH : 0) == 0) {
            return 0;
        }
        if (errno == EBUSY) {
            return -EBUSY;
        }
    }
    return run_fusermount(mp, lazy) == 0 ? 0 : -EIO;
}

static int is_ours(const char *type)
{
    return !strcmp(type, "fuse.sfemu");
}

/* A FUSE mount whose daemon died answers ENOTCONN: unmount it. */
/* statfs always reaches the daemon (stat may be answered from the cache). */
static int is_stale(const char *mp)
{
    struct statfs sf;
    return statfs(mp, &sf) < 0 && errno == ENOTCONN;
}

static void clean_stale(const char *mp)
{
    char type[128];
    if (!is_stale(mp)) {
        return;
    }
    mount_type(mp, type, sizeof type);
    fprintf(
        stderr,
        "sfemu-mount: %s is a stale mount (%s, its daemon died): unmounting it\n",
        mp, type[0] ? type : "fuse");
    if (do_umount(mp, 1) < 0) {
        die("cannot unmount the stale mount at %s; try: fusermount3 -u -z <path>",
            mp);
    }
}

/* The daemon serving mp (the ring's pid attribute), or 0. */
static pid_t daemon_pid(const char *mp)
{
    char v[32];
    ssize_t n = getxattr(mp, FAKEFS_RING_PID_XATTR, v, sizeof v - 1);
    if (n <= 0) {
        return 0;
    }
    v[n] = 0;
    return (pid_t)atoi(v);
}

/* -u returns once the daemon has exited: it lets go of the upper
 * directory's lock, so a remount right after works and no process of the
 * mount is left (at most 10 s: it flushes and stops its threads). */
static void wait_gone(pid_t pid)
{
    const struct timespec step = { 0, 10 * 1000 * 1000 };
    for (int i = 0; pid > 0 && i < 1000 && kill(pid, 0) == 0; i++) {
        nanosleep(&step, NULL);
    }
}

static int cmd_unmount(const char *path)
{
    char *mp = abs_path(path);
    if (!mp) {
        die("cannot resolve '%s'", path);
    }
    char type[128];
    mount_type(mp, type, sizeof type);
    if (!type[0] || !is_ours(type)) {
        fprintf(stderr, "sfemu-mount: %s is not mounted\n", mp);
        free(mp);
        return 1;
    }
    int stale = is_stale(mp);
    pid_t daemon = stale ? 0 : daemon_pid(mp);
    int r = do_umount(mp, stale);
    if (r == -EBUSY) {
        fprintf(stderr, "sfemu-mount: %s is busy (a process still uses it)\n",
                mp);
        free(mp);
        return 1;
    }
    if (r < 0) {
        fprintf(stderr, "sfemu-mount: cannot unmount %s\n", mp);
        free(mp);
        return 1;
    }
    wait_gone(daemon);
    if (stale) {
        fprintf(stderr,
                "sfemu-mount: %s was stale (its daemon had died): cleaned\n",
                mp);
    }
    free(mp);
    return 0;
}

/* ------------------------------------------------------------------ fake-init */

static int root_fd_g = -1;

static int open_in_root(const char *guest, int flags, mode_t mode)
{
    return dirfd_open(root_fd_g, guest, flags, mode,
                      RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

static int root_read(void *ud, const char *path, char **data, size_t *len)
{
    (void)ud;
    int fd = open_in_root(path, O_RDONLY, 0);
    if (fd < 0) {
        return fd;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                close(fd);
                return -ENOMEM;
            }
            buf = nb;
        }
        ssize_t r = read(fd, buf + n, 4096);
        if (r <= 0) {
            break;
        }
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    *data = buf;
    *len = n;
    return 0;
}

static int root_write(void *ud, const char *path, const char *data, size_t len)
{
    (void)ud;
    /* A record under a missing /var/run: its parents are made as the
     * guest's create would make them, following the root's symlinks. */
    const struct dirfd_mkdir how = { .resolve = RESOLVE_IN_ROOT |
                                                RESOLVE_NO_MAGICLINKS,
                                     .mode = 0755,
                                     .follow_dangling = 1 };
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        int r = dirfd_mkdir_p(root_fd_g, dir, &how);
        if (r < 0) {
            return r;
        }
    }
    int fd = open_in_root(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        return fd;
    }
    ssize_t w = write(fd, data, len);
    int err = errno;
    close(fd);
    return w == (ssize_t)len ? 0 : (w < 0 ? -err : -EIO);
}

static int root_exists(void *ud, const char *path)
{
    (void)ud;
    int fd = open_in_root(path, O_PATH, 0);
    if (fd < 0) {
        return 0;
    }
    struct stat st;
    int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
    return ok;
}

static void stderr_log(const char *m)
{
    fprintf(stderr, "sfemu-mount: %s\n", m);
}

static int cmd_fake_init(const struct opts *o)
{
    if (!o->rules) {
        die("%s", "--fake-init needs --rules DIR");
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", o->fake_init);
    char *kind = strchr(path, '=');
    if (kind) {
        *kind++ = 0;
    }
    if (path[0] != '/') {
        die("--fake-init: '%s' must be an absolute guest path", path);
    }
    /* through the mount only: the firmware tree itself is never written */
    char *abs = abs_path(o->rootfs);
    char type[128] = "";
    if (abs) {
        mount_type(abs, type, sizeof type);
    }
    free(abs);
    if (strcmp(type, "fuse.sfemu") != 0) {
        die("--fake-init: '%s' is not an sfemu-mount mount (mount it first; the firmware "
            "tree is never written)",
            o->rootfs);
    }
    root_fd_g = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd_g < 0) {
        die("cannot open ROOTFS '%s'", o->rootfs);
    }
    struct fakefs_store st = { .read = root_read,
                               .write = root_write,
                               .exists = root_exists };
    struct fakefs_engine *e = fakefs_new(o->rules, &st, stderr_log);
    if (!e) {
        die("cannot load the rules tree '%s'", o->rules);
    }
    int r = fakefs_init_resource(e, path, kind);
    fakefs_free(e);
    close(root_fd_g);
    if (r < 0) {
        fprintf(stderr, "sfemu-mount: fakefile.init(%s) failed: %s\n", path,
                strerror(-r));
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ daemon */

/* How deep a layer's filesystem is stacked, as FUSE passthrough counts it:
 * backing files on overlayfs or ecryptfs need room for one more level. */
static unsigned stack_depth(int fd)
{
    struct statfs sf;
    if (fstatfs(fd, &sf) < 0) {
        return 0;
    }
    return sf.f_type == 0x794c7630 /* overlayfs */ ||
           sf.f_type == 0xf15f /* ecryptfs */;
}

/* One daemon per upper directory: a second sfemu-mount of the same ROOTFS
 * (whatever the mount point) would take the live mount as its lower tree
 * and rewrite the journal under the first.  The lock dies with the daemon. */
static int lock_upper(int upfd, const char *upper)
{
    int fd =
        openat(upfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        die("cannot create the lock file in the upper directory '%s'", upper);
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        fprintf(stderr,
                "sfemu-mount: the upper directory '%s' is in use by another "
                "sfemu-mount (pid %s); unmount that one first\n",
                upper, pid[0] ? pid : "?");
        exit(2);
    }
    return fd;
}

/* The daemon's pid in the lock file, for the message above. */
static void note_lock_owner(int fd)
{
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) < 0) {
        log_msg("cannot write the pid into the lock file: %s", strerror(errno));
    }
}

/* Is rel still there (a path or a fake resource's record)?  Records of
 * paths that are gone are dropped from the journal at mount time. */
static int meta_path_exists(void *ud, const char *rel)
{
    struct ovl_ent e;
    char rec[PATH_MAX + 16];
    snprintf(rec, sizeof rec, "%s" FAKEFS_SUFFIX, rel);
    return ovl_resolve(ud, rel, &e) == 0 || ovl_resolve(ud, rec, &e) == 0;
}

/* The work directory's leftovers (copy-ups a crash interrupted). */
static int not_dotted(const char *name)
{
    return name[0] != '.';
}

/* Mounts and serves (in the background unless -f); the parent returns
 * once the mount is ready. */
static int cmd_mount(const struct opts *op, const char *argv0)
{
    struct opts o = *op; /* a copy: the default rules tree fills o.rules */

    /* Modes are the caller's (the kernel applied its umask), never the
     * daemon's. */
    umask(0);
    /* Every inode the kernel knows holds a descriptor or two: as many as
     * the system lets us. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
        nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    /* Absolute paths first: daemonizing does chdir("/"). */
    char *root_arg = abs_path(o.rootfs);
    if (!root_arg) {
        die("ROOTFS '%s' does not exist", o.rootfs);
    }
    char *mp = o.mountpoint ? abs_path(o.mountpoint) : strdup(root_arg);
    if (!mp) {
        die("MOUNTPOINT '%s' does not exist", o.mountpoint);
    }
    clean_stale(root_arg);
    clean_stale(mp);
    char rootfs[PATH_MAX];
    if (!realpath(root_arg, rootfs)) {
        die("ROOTFS '%s' does not exist", o.rootfs);
    }
    struct stat st;
    if (stat(rootfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
        die("ROOTFS '%s' is not a directory", o.rootfs);
    }
    if (stat(mp, &st) < 0 || !S_ISDIR(st.st_mode)) {
        die("MOUNTPOINT '%s' is not a directory", mp);
    }
    char type[128];
    mount_type(mp, type, sizeof type);
    if (!strcmp(type, "fuse.sfemu")) {
        die("%s is already mounted by sfemu-mount (unmount with: sfemu-mount -u <path>)",
            mp);
    }

    /* The daemon must never reach its own mount (it would deadlock) nor
     * write into the firmware tree: rules and log live elsewhere.  Checked
     * before anything is created, so a refusal leaves ROOTFS untouched. */
    size_t rl = strlen(rootfs);
    const char *outside[] = { o.rules, o.log };
    const char *what[] = { "--rules", "--log" };
    for (int i = 0; i < 2; i++) {
        if (!outside[i]) {
            continue;
        }
        char *a = abs_path(outside[i]);
        if (!a) {
            die("%s: cannot resolve the path", what[i]);
        }
        size_t ml = strlen(mp);
        if ((!strncmp(a, rootfs, rl) && (a[rl] == '/' || !a[rl])) ||
            (!strncmp(a, mp, ml) && (a[ml] == '/' || !a[ml]))) {
            fprintf(
                stderr,
                "sfemu-mount: %s '%s' must not be inside ROOTFS or the mount point\n",
                what[i], outside[i]);
            free(a);
            exit(2);
        }
        free(a);
    }

    /* Upper tree. */
    char upper[PATH_MAX + 16];
    if (o.upper) {
        snprintf(upper, sizeof upper, "%s", o.upper);
    } else {
        snprintf(upper, sizeof upper, "%s.sfemu", rootfs);
    }
    /* Where it will be, checked before it is made. */
    char *planned = abs_path(upper);
    if (!planned) {
        die("cannot resolve the upper directory '%s'", upper);
    }
    if (!strcmp(planned, rootfs) ||
        (!strncmp(planned, rootfs, rl) && planned[rl] == '/')) {
        die("the upper directory '%s' must not be inside ROOTFS", planned);
    }
    free(planned);
    /* Nobody else on the host needs to reach the upper tree (its files
     * belong to root): 0700. */
    if (mkdir(upper, 0700) < 0 && errno != EEXIST) {
        die("cannot create the upper directory '%s'", upper);
    }
    char upper_abs[PATH_MAX];
    if (!realpath(upper, upper_abs)) {
        die("cannot resolve the upper directory '%s'", upper);
    }
    if (!strcmp(upper_abs, rootfs) ||
        (!strncmp(upper_abs, rootfs, rl) && upper_abs[rl] == '/')) {
        die("the upper directory '%s' must not be inside ROOTFS", upper_abs);
    }
    if (!strncmp(rootfs, upper_abs, strlen(upper_abs)) &&
        rootfs[strlen(upper_abs)] == '/') {
        die("ROOTFS must not be inside the upper directory '%s'", upper_abs);
    }
    int upfd = open(upper_abs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (upfd < 0) {
        die("cannot open the upper directory '%s'", upper_abs);
    }
    int lockfd = lock_upper(upfd, upper_abs);
    struct stat rst;
    /* the upper tree's root shows the firmware root's mode */
    mkdirat(upfd, "tree", stat(rootfs, &rst) == 0 ? rst.st_mode & 01777 : 0755);
    mkdirat(upfd, "work", 0700);

    static struct sfemu s;
    sfemu_g = &s;
    s.symlinks_contained = o.symlinks_contained;
    s.cache_timeout = o.cache_timeout;
    pthread_mutex_init(&s.ovl.lock, NULL);
    s.ovl.names_changed = fake_names_changed;
    s.fake_workers = 4;
    /* The lower tree is opened before mounting: with the mount over ROOTFS
     * itself, this fd is the only way to the firmware underneath. */
    s.ovl.lower_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    s.ovl.upper_fd =
        openat(upfd, "tree", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    s.ovl.work_fd =
        openat(upfd, "work", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s.ovl.lower_fd < 0 || s.ovl.upper_fd < 0 || s.ovl.work_fd < 0) {
        die("cannot open the layers under '%s'", upper_abs);
    }
    ovl_unlink_entries(s.ovl.work_fd, not_dotted);
    ino_init(s.ovl.upper_fd, s.ovl.lower_fd);
    struct stat lst, ust;
    if (fstat(s.ovl.lower_fd, &lst) == 0 && fstat(s.ovl.upper_fd, &ust) == 0) {
        s.lower_dev = lst.st_dev;
        s.split_devs = lst.st_dev != ust.st_dev;
    }
    int probe = ovl_layer_open(s.ovl.lower_fd, ".", O_RDONLY | O_DIRECTORY, 0);
    if (probe == -EOPNOTSUPP) {
        die("%s",
            "this kernel (or a seccomp filter) refuses openat2(2), which keeps every "
            "path inside the layers: Linux 5.6 or later is needed");
    }
    if (probe >= 0) {
        close(probe);
    }
    s.passthrough = !o.no_passthrough;
    s.no_negative_cache = o.no_negative_cache;
    unsigned lower_depth = stack_depth(s.ovl.lower_fd),
             upper_depth = stack_depth(s.ovl.upper_fd);
    s.backing_depth = lower_depth > upper_depth ? lower_depth : upper_depth;
    char err[512];
    s.ovl.meta =
        meta_open(upfd, "meta.db", meta_path_exists, &s.ovl, err, sizeof err);
    if (!s.ovl.meta) {
        die("%s", err);
    }

    char logpath[PATH_MAX + 32];
    if (o.log) {
        log_open(o.log, 1);
    } else if (o.foreground) {
        log_open(NULL, 1);
    } else {
        snprintf(logpath, sizeof logpath, "%s/sfemu-mount.log", upper_abs);
        log_open(logpath, 0);
    }

    char rules_dflt[PATH_MAX], rules_abs[PATH_MAX];
    if (o.rules && realpath(o.rules, rules_abs)) {
        o.rules = rules_abs; /* qemu compares it with its own -rules */
    }
    if (!o.rules &&
        default_rules(upper_abs, rules_dflt, sizeof rules_dflt) == 0) {
        o.rules = rules_dflt;
    }
    if (o.rules) {
        char plug[PATH_MAX + 32];
        snprintf(plug, sizeof plug, "%s/plugins/fakefile", o.rules);
        if (stat(plug, &st) < 0 || !S_ISDIR(st.st_mode)) {
            die("--rules: '%s' has no plugins/fakefile directory", o.rules);
        }
        struct fakefs_store fst = fake_store(&s);
        s.fake = fakefs_new(o.rules, &fst, log_line);
        if (!s.fake) {
            die("--rules: cannot load the rules tree '%s'", o.rules);
        }
    }

    struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
    fuse_opt_add_arg(&args, argv0);
    fuse_opt_add_arg(&args, "-o");
    fuse_opt_add_arg(
        &args,
        o.allow_other
            ? "fsname=sfemu,subtype=sfemu,nodev,nosuid,default_permissions,allow_other"
            : "fsname=sfemu,subtype=sfemu,nodev,nosuid,default_permissions");
    if (o.debug) {
        fuse_opt_add_arg(&args, "-d");
    }
    struct fuse_session *se =
        fuse_session_new(&args, &sfemu_ops, sizeof sfemu_ops, &s);
    if (!se) {
        die("%s", "cannot create the FUSE session");
    }
    s.se = se;
    if (fuse_session_mount(se, mp) != 0) {
        die("cannot mount on '%s' (is /dev/fuse available?)", mp);
    }
    if (fuse_set_signal_handlers(se) != 0) {
        die("%s", "cannot install signal handlers");
    }
    log_msg("mounted %s on %s (upper %s, rules %s, symlinks %s, %s)", rootfs,
            mp, upper_abs, o.rules ? o.rules : "-",
            s.symlinks_contained ? "contained" : "firmware",
            o.allow_other ? "all users" : "private");
    if (fuse_daemonize(o.foreground) != 0) {
        die("%s", "cannot daemonize");
    }

    log_msg("daemon pid %d serving %s", (int)getpid(), mp);
    if (meta_note(s.ovl.meta)[0]) {
        log_msg("%s", meta_note(s.ovl.meta));
    }
    note_lock_owner(lockfd);
    /* Threads only after the fork. */
    fake_inval_start(&s);
    if (workers_start(s.fake_workers) < 0) {
        die("%s", "cannot start the worker threads");
    }
    if (s.fake && fakefs_watch_start(s.fake) < 0) {
        log_msg("inotify unavailable: fakeconfig hot reload disabled");
    }
    if (s.fake) {
        ring_start(&s, upper_abs, o.rules, o.allow_other);
    }
    int ret;
    if (o.threads == 1) {
        /* the single-threaded loop: no worker hand-off per request */
        ret = fuse_session_loop(se);
    } else {
        struct fuse_loop_config *lc = fuse_loop_cfg_create();
        fuse_loop_cfg_set_clone_fd(lc, 0);
        fuse_loop_cfg_set_max_threads(lc, (unsigned)o.threads);
        fuse_loop_cfg_set_idle_threads(
            lc, (unsigned)o.threads); /* no thread churn */
        ret = fuse_session_loop_mt(se, lc);
        fuse_loop_cfg_destroy(lc);
    }
    log_msg("unmounted %s (%d)", mp, ret);
    fakefs_ring_stop(s.ring);
    s.ring = NULL;
    fuse_session_unmount(se);
    workers_stop();
    fake_inval_stop(&s);
    pt_shutdown();
    fuse_remove_signal_handlers(se);
    s.se = NULL;
    fuse_session_destroy(se);
    ops_free_handles();
    ino_free_all();
    fuse_opt_free_args(&args);
    fakefs_free(s.fake);
    meta_close(s.ovl.meta);
    close(s.ovl.lower_fd);
    close(s.ovl.upper_fd);
    close(s.ovl.work_fd);
    close(upfd);
    close(lockfd);
    free(root_arg);
    free(mp);
    return ret < 0 ? 1 : 0; /* a signal (SIGTERM, SIGINT) is a clean stop */
}

/* --init: mounts first unless the tree is an sfemu mount, then replays. */
static int cmd_init(struct opts *o, const char *argv0)
{
    const char *where = o->mountpoint ? o->mountpoint : o->rootfs;
    char *mp = abs_path(where);
    if (!mp) {
        die("'%s' does not exist", where);
    }
    char type[128];
    mount_type(mp, type, sizeof type);
    if (!is_ours(type) || is_stale(mp)) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            /* a rules tree with only config/prepare.conf serves no fake
             * resources: the mount goes without it */
            struct opts mo = *o;
            char plug[PATH_MAX];
            struct stat pst;
            snprintf(plug, sizeof plug, "%s/plugins/fakefile",
                     o->rules ? o->rules : "");
            if (o->rules && stat(plug, &pst) < 0) {
                mo.rules = NULL;
            }
            exit(cmd_mount(&mo, argv0));
        }
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
            WEXITSTATUS(st) != 0) {
            fprintf(stderr, "sfemu-mount: --init: mounting '%s' failed\n",
                    where);
            free(mp);
            return 1;
        }
    }
    /* The upper directory, as the mount chose it. */
    char upper[PATH_MAX + 16], rootfs[PATH_MAX];
    if (o->upper) {
        snprintf(upper, sizeof upper, "%s", o->upper);
    } else if (realpath(o->rootfs, rootfs)) {
        snprintf(upper, sizeof upper, "%s.sfemu", rootfs);
    } else {
        die("cannot resolve ROOTFS '%s'", o->rootfs);
    }
    /* a daemon holds its upper's lock: one nobody holds is not this
     * mount's */
    char lock[PATH_MAX + 32];
    snprintf(lock, sizeof lock, "%s/lock", upper);
    int lfd = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (lfd < 0 || flock(lfd, LOCK_SH | LOCK_NB) == 0) {
        die("--init: '%s' is not the mount's upper directory (give --upper "
            "DIR as it was mounted)",
            upper);
    }
    close(lfd);
    o->init_o.mount = mp;
    o->init_o.upper = upper;
    o->init_o.prep_rules = o->rules;
    int rc = init_replay(&o->init_o);
    free(mp);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    parse(argc, argv, &o);
    if (o.unmount) {
        return cmd_unmount(o.rootfs);
    }
    if (o.fake_init) {
        return cmd_fake_init(&o);
    }
    if (o.init) {
        return cmd_init(&o, argv[0]);
    }
    return cmd_mount(&o, argv[0]);
}
