/*
 * Unit test of the true root (qemu-hooks/runtime/trueroot/trueroot.c) on the host:
 * guest memory is our own memory (g2h(x) = x) and the "real syscall" is the
 * x86_64 syscall, so every check runs the same enter -> real -> leave
 * sequence the runtime runs around QEMU's do_syscall1.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/runtime.h"
#include "core/syscall_names.h"
#include "trueroot/trueroot.h"

struct sfemu_runtime
    sfemu_rt; /* normally the runtime's; trueroot reads t and ops */

/* A syscall number x86_64 does not have: our stand-in for socketcall. */
#define T_NR_SOCKETCALL 4102

/* ------------------------------------------------------------ fake host */

static int64_t t_socketcall(const int64_t a[SFEMU_NARGS])
{
    const uint64_t *v = (const uint64_t *)(uintptr_t)a[1];
    long r;

    switch (a[0]) {
    case 2: r = syscall(SYS_bind, v[0], v[1], v[2]); break;
    case 3: r = syscall(SYS_connect, v[0], v[1], v[2]); break;
    default: return -ENOSYS;
    }
    return r == -1 ? -errno : r;
}

static int64_t t_real(int num, const int64_t a[SFEMU_NARGS])
{
    long r;

    if (num == T_NR_SOCKETCALL) {
        return t_socketcall(a);
    }
    r = syscall(num, a[0], a[1], a[2], a[3], a[4], a[5]);
    return r == -1 ? -errno : r;
}

static int t_read_mem(uint64_t g, void *buf, size_t len)
{
    memcpy(buf, (void *)(uintptr_t)g, len);
    return 0;
}

static int t_write_mem(uint64_t g, const void *buf, size_t len)
{
    memcpy((void *)(uintptr_t)g, buf, len);
    return 0;
}

static long t_read_str(uint64_t g, char *buf, size_t max)
{
    size_t n = strnlen((const char *)(uintptr_t)g, max);

    memcpy(buf, (const char *)(uintptr_t)g, n);
    return (long)n;
}

static void *t_g2h(uint64_t g)
{
    return (void *)(uintptr_t)g;
}

/* Memory a 32-bit guest can address: above 2 GiB if we can get it (so its
 * abi_longs are negative), else below (ASan owns 2-4 GiB). */
static void *low_mem(uintptr_t hint, size_t len)
{
    void *p = mmap((void *)hint, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

    if (p == MAP_FAILED) {
        p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    }
    return p == MAP_FAILED ? NULL : p;
}

static uint64_t t_guest_alloc(size_t len)
{
    /* mmap, like target_mmap: never freed, and no leak report for it.  A
     * 32-bit guest gets memory above 2 GiB: its abi_longs are negative. */
    void *p;

    if (sfemu_rt.t->abi_bits == 32) {
        return (uint64_t)(uintptr_t)low_mem(0xa0000000u, len);
    }
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
             0);
    return p == MAP_FAILED ? 0 : (uint64_t)(uintptr_t)p;
}

static int t_errno_to_guest(int e)
{
    return e;
}

/* Guest open flags as the host's: the x86_64 "guest" has the host's own;
 * the MIPS one (t_mips) is translated for the bits the checks use. */
static int t_open_flags(uint64_t g)
{
    static const struct {
        uint64_t g;
        int h;
    } mips[] = { { 0x100, O_CREAT },       { 0x400, O_EXCL },
                 { 0x200, O_TRUNC },       { 0x20000, O_NOFOLLOW },
                 { 0x10000, O_DIRECTORY }, { 0x8, O_APPEND } };
    int h;

    if (strcmp(sfemu_rt.t->arch, "mips")) {
        return (int)g;
    }
    h = (int)(g & 3);
    for (size_t i = 0; i < sizeof(mips) / sizeof(mips[0]); i++) {
        h |= g & mips[i].g ? mips[i].h : 0;
    }
    return h;
}

static int t_openat2(int dirfd, const char *path, uint64_t gflags, int hflags,
                     uint64_t mode, uint64_t resolve)
{
    struct {
        uint64_t flags, mode, resolve;
    } how = { (uint64_t)(t_open_flags(gflags) | hflags), mode, resolve };
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

    return fd < 0 ? -errno : (int)fd;
}

static int t_prefix_off_calls;

static void t_prefix_off(void)
{
    t_prefix_off_calls++;
}

/* The runtime's log (parents.c logs the directories it makes). */
void sfemu_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* The runtime's syscall name table, for the x86_64 "guest". */
int sfemu_syscall_num(const char *name)
{
    static const struct {
        const char *name;
        int num;
    } nums[] = {
        { "fstat", SYS_fstat },         { "fchdir", SYS_fchdir },
        { "fstatfs", SYS_fstatfs },     { "mkdirat", SYS_mkdirat },
        { "unlinkat", SYS_unlinkat },   { "mknodat", SYS_mknodat },
        { "renameat", SYS_renameat },   { "linkat", SYS_linkat },
        { "symlinkat", SYS_symlinkat }, { "readlinkat", SYS_readlinkat },
        { "fchownat", SYS_fchownat },
    };

    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        if (!strcmp(nums[i].name, name)) {
            return nums[i].num;
        }
    }
    return -1; /* fstat64, fstatfs64: x86_64 has none */
}

static const struct sfemu_host_ops t_ops = {
    .real_syscall = t_real,
    .read_mem = t_read_mem,
    .write_mem = t_write_mem,
    .read_str = t_read_str,
    .g2h = t_g2h,
    .guest_alloc = t_guest_alloc,
    .errno_to_guest = t_errno_to_guest,
    .openat2 = t_openat2,
    .prefix_off = t_prefix_off,
};

static const struct sfemu_target t_target = {
    .arch = "x86_64",
    .abi_bits = 64,
    .big_endian = 0,
    .o_creat = O_CREAT,
    .o_excl = O_EXCL,
    .o_nofollow = O_NOFOLLOW,
    .o_directory = O_DIRECTORY,
    .o_path = O_PATH,
    .o_trunc = O_TRUNC,
    .o_tmpfile = O_TMPFILE,
};

/* A big-endian 32-bit guest with MIPS open flags (x86 reads 0x500 as
 * O_NOCTTY|O_APPEND, not O_CREAT|O_EXCL). */
static const struct sfemu_target t_mips = {
    .arch = "mips",
    .abi_bits = 32,
    .big_endian = 1,
    .o_creat = 0x100,
    .o_excl = 0x400,
    .o_nofollow = 0x20000,
    .o_directory = 0x10000,
    .o_path = 0x200000,
    .o_trunc = 0x200,
    .o_tmpfile = 0x410000,
};

/* One guest syscall as the runtime runs it (core/realcall.c). */
static int64_t tsys(int num, const char *name, int64_t *args)
{
    struct sfemu_tr_call c;
    int64_t ret;
    int rc = sfemu_trueroot_enter(num, name, args, &c);

    if (rc) {
        return rc;
    }
    ret = c.done ? c.ret : t_real(c.num, args);
    sfemu_trueroot_leave(&c, &ret);
    return ret;
}

/* S(open, P("/x"), O_RDONLY): x86_64 number and name from one token. */
#define S(nm, ...) tsys(SYS_##nm, #nm, (int64_t[SFEMU_NARGS]){ __VA_ARGS__ })
#define P(s) ((int64_t)(intptr_t)(s))

static char base[64], R[128], H[128];
static const char rootfs_passwd[] = "root:x:0:0:rootfs:/root:/bin/sh\n";
static const char host_marker[] = "HOST-MARKER\n";

static const char *at(const char *dir, const char *rel)
{
    static char buf[4][PATH_MAX];
    static int i;
    char *b = buf[i++ % 4], d[PATH_MAX];

    snprintf(d, sizeof(d), "%s", dir); /* dir may be an earlier result */
    if (snprintf(b, PATH_MAX, "%s%s", d, rel) >= PATH_MAX) {
        abort();
    }
    return b;
}

static void put_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);

    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        perror(path);
        exit(2);
    }
    close(fd);
}

static void mkdirs(const char *path)
{
    char tmp[PATH_MAX];

    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

static void link_to(const char *target, const char *linkpath)
{
    if (symlink(target, linkpath) != 0) {
        perror(linkpath);
        exit(2);
    }
}

static int exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* Read a guest fd (already a host fd) into buf. */
static const char *fd_text(int64_t fd, char *buf, size_t cap)
{
    ssize_t n;

    buf[0] = 0;
    if (fd < 0) {
        snprintf(buf, cap, "<error %s>", strerror((int)-fd));
        return buf;
    }
    n = pread((int)fd, buf, cap - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    close((int)fd);
    return buf;
}

static const char *guest_read(const char *path)
{
    static char buf[256];

    return fd_text(S(open, P(path), O_RDONLY), buf, sizeof(buf));
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d))) {
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    }
    if (d) {
        closedir(d);
    }
    return n;
}

static int lowest_free_fd(void)
{
    int fd = dup(0);

    close(fd);
    return fd;
}

/* ------------------------------------------------------------ the rootfs */

/*
 * R is the firmware rootfs, H a host directory outside it.  The firmware's
 * absolute symlinks name H: natively they would escape to H's marker.
 */
static void build_tree(void)
{
    char tmpl[] = "/tmp/sfemu-trueroot.XXXXXX";

    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        exit(2);
    }
    snprintf(base, sizeof(base), "%s", tmpl);
    snprintf(R, sizeof(R), "%s/rootfs", base);
    snprintf(H, sizeof(H), "%s/host", base);

    mkdirs(at(H, "/etc"));
    put_file(at(H, "/etc/passwd"), host_marker, 0644);

    mkdirs(at(R, "/tmp/var"));
    mkdirs(at(R, "/bin"));
    mkdirs(at(R, H));
    mkdirs(at(at(R, H), "/etc"));
    put_file(at(at(R, H), "/etc/passwd"), rootfs_passwd, 0644);
    put_file(at(R, "/bin/prog"), "#!/bin/sh\n", 0755);
    link_to(at(H, "/etc"), at(R, "/etc"));          /* etc -> /<H>/etc */
    link_to("tmp/var", at(R, "/var"));              /* var -> tmp/var */
    link_to("/etc/passwd", at(R, "/link_abs"));     /* chain of absolutes */
    link_to(at(H, "/newfile"), at(R, "/dangling")); /* dangling absolute */
    link_to("/tmp/dt2", at(R, "/dangling2"));
    link_to("chain2", at(R, "/chain1")); /* relative -> absolute */
    link_to("/tmp/chain_target", at(R, "/chain2"));
    link_to("/proc/self/status", at(R, "/mtab")); /* into a host exception */
    link_to("/loop2", at(R, "/loop1"));
    link_to("/loop1", at(R, "/loop2"));
}

/* --------------------------------------------------------------- checks */

static void check_init(void)
{
    check(sfemu_trueroot_init(at(base, "/missing"), NULL) == -ENOENT,
          "init on a missing root fails with ENOENT");
    check(sfemu_trueroot_init(R, "relative/dir") == -EINVAL,
          "init rejects a relative host path");
    check(sfemu_trueroot_init(R, NULL) == 0 && sfemu_trueroot_active,
          "init on the rootfs");
}

static void check_passthrough(void)
{
    int64_t a[SFEMU_NARGS] = { 1, 2, 3, 4, 5, 6, 7, 8 }, orig[SFEMU_NARGS];
    struct sfemu_tr_call c;
    struct stat st;
    char buf[256];
    int64_t fd;

    memcpy(orig, a, sizeof(a));
    check(sfemu_trueroot_enter(SYS_getpid, "getpid", a, &c) == 0 &&
              !memcmp(a, orig, sizeof(a)) && c.nfds == 0 && !c.done,
          "non-path syscall untouched");
    check(t_prefix_off_calls > 0, "QEMU's own -L lookup is turned off");

    fd = S(open, P("/dev/null"), O_RDWR);
    check(fd >= 0 && fstat((int)fd, &st) == 0 && S_ISCHR(st.st_mode) &&
              st.st_rdev == makedev(1, 3),
          "/dev/null opens the host's null device");
    close((int)fd);
    check(strstr(guest_read("/proc/self/status"), "Name:") != NULL,
          "/proc/self/status reads the host's proc");
    check(
        strstr(guest_read("/mtab"), "Name:") != NULL,
        "dangling firmware link /mtab -> /proc/self/status reaches the host proc");

    /* QEMU's emulated /proc files: QEMU must see them by name */
    a[0] = P("/proc/self/maps");
    a[1] = O_RDONLY;
    check(sfemu_trueroot_enter(SYS_open, "open", a, &c) == 0 && !c.done &&
              !strcmp((const char *)(uintptr_t)a[0], "/proc/self/maps"),
          "/proc/self/maps goes to QEMU by name (its emulation)");
    sfemu_trueroot_leave(&c, &fd);

    memset(a, 0, sizeof(a));
    a[0] = S(open, P("/tmp"), O_RDONLY | O_DIRECTORY);
    a[1] = 0;
    check(sfemu_trueroot_enter(SYS_utimensat, "utimensat", a, &c) == 0 &&
              a[1] == 0 && c.nfds == 0,
          "utimensat(fd, NULL) on a root directory stays an fd operation");
    sfemu_trueroot_leave(&c, &fd);
    close((int)a[0]);
    fd = S(open, P("/dev/null"), O_RDONLY);
    check(S(utimensat, fd, 0, 0, 0) == -EPERM,
          "utimensat(fd, NULL) on the host's /dev/null: EPERM");
    close((int)fd);
    (void)buf;
}

static void check_cwd_outside(void)
{
    char buf[PATH_MAX];

    check(chdir(base) == 0, "host cwd starts outside the rootfs");
    check(S(getcwd, P(buf), sizeof(buf)) == 2 && !strcmp(buf, "/"),
          "getcwd outside the rootfs shows \"/\" (got \"%s\")", buf);
    check(!strcmp(guest_read("etc/passwd"), rootfs_passwd),
          "relative etc/passwd from outside resolves from the guest root");
}

static void check_create(void)
{
    char name[64], sub[64], buf[96];
    int64_t fd;

    snprintf(name, sizeof(name), "/tmp/sfemu-tr-x-%d", (int)getpid());
    fd = S(open, P(name), O_CREAT | O_WRONLY, 0644);
    check(fd >= 0 && write((int)fd, "guest", 5) == 5,
          "open(%s, O_CREAT) succeeds", name);
    close((int)fd);
    check(exists(at(R, name)), "created file lands in rootfs%s", name);
    check(!exists(name), "nothing created on the host at %s", name);

    fd = S(open, P("/dangling"), O_CREAT | O_WRONLY, 0644);
    check(fd >= 0, "O_CREAT through dangling absolute symlink /dangling");
    close((int)fd);
    check(exists(at(at(R, H), "/newfile")), "... creates rootfs%s/newfile", H);
    check(!exists(at(H, "/newfile")), "... and not the host's %s/newfile", H);

    fd = S(creat, P("/chain1"), 0644);
    check(
        fd >= 0 && exists(at(R, "/tmp/chain_target")),
        "creat through relative+absolute dangling chain creates rootfs/tmp/chain_target");
    close((int)fd);

    check(S(open, P("/dangling2"), O_CREAT | O_EXCL | O_WRONLY, 0644) ==
                  -EEXIST &&
              !exists(at(R, "/tmp/dt2")),
          "O_CREAT|O_EXCL on a symlink: EEXIST, target not created");

    snprintf(sub, sizeof(sub), "/tmp/sfemu-tr-d-%d", (int)getpid());
    check(S(mkdir, P(sub), 0755) == 0 && exists(at(R, sub)) && !exists(sub),
          "mkdir(%s) inside the rootfs only", sub);
    snprintf(buf, sizeof(buf), "%s.renamed", sub);
    check(S(rename, P(sub), P(buf)) == 0 && exists(at(R, buf)) &&
              !exists(at(R, sub)),
          "rename inside the rootfs");
    check(S(rmdir, P(buf)) == 0 && !exists(at(R, buf)),
          "rmdir inside the rootfs");
    check(S(link, P(name), P("/tmp/hardlink")) == 0 &&
              exists(at(R, "/tmp/hardlink")),
          "link inside the rootfs");
    check(S(unlink, P("/tmp/hardlink")) == 0 && S(unlink, P(name)) == 0 &&
              !exists(at(R, name)),
          "unlink inside the rootfs");
    check(S(symlink, P("/abs/target"), P("/tmp/sl")) == 0 &&
              readlink(at(R, "/tmp/sl"), buf, sizeof(buf)) == 11 &&
              !memcmp(buf, "/abs/target", 11),
          "symlink stores its target verbatim at rootfs/tmp/sl");
}

static void check_lookup(void)
{
    static const char *esc[] = {
        "/etc/passwd",    "/../../etc/passwd", "/etc/../../../../etc/passwd",
        "//etc///passwd", "/./etc/./passwd",   "/link_abs",
    };
    struct stat st, rst;
    char buf[PATH_MAX];
    int64_t n;

    for (size_t i = 0; i < sizeof(esc) / sizeof(esc[0]); i++) {
        check(!strcmp(guest_read(esc[i]), rootfs_passwd),
              "open(%s) reads the rootfs copy, not the host marker", esc[i]);
    }
    check(S(stat, P("/link_abs"), P(&st)) == 0 &&
              st.st_size == (off_t)strlen(rootfs_passwd),
          "stat follows the absolute chain /link_abs -> /etc/passwd -> rootfs");
    check(S(lstat, P("/link_abs"), P(&st)) == 0 && S_ISLNK(st.st_mode),
          "lstat(/link_abs) sees the link itself");
    check(S(lstat, P("/etc"), P(&st)) == 0 && S_ISLNK(st.st_mode),
          "lstat(/etc) is a link");
    check(S(stat, P("/etc"), P(&st)) == 0 && S_ISDIR(st.st_mode),
          "stat(/etc) is a directory");
    check(S(newfstatat, AT_FDCWD, P("/etc"), P(&st), AT_SYMLINK_NOFOLLOW) ==
                  0 &&
              S_ISLNK(st.st_mode),
          "newfstatat(AT_SYMLINK_NOFOLLOW) sees the link");
    check(S(lstat, P("/var/"), P(&st)) == 0 && S_ISDIR(st.st_mode),
          "lstat(\"/var/\") with a trailing slash follows to the directory");
    n = S(readlink, P("/etc"), P(buf), sizeof(buf));
    check(n == (int64_t)strlen(at(H, "/etc")) &&
              !memcmp(buf, at(H, "/etc"), (size_t)n),
          "readlink(/etc) returns the firmware's own target");
    stat(R, &rst);
    check(S(stat, P("/"), P(&st)) == 0 && st.st_ino == rst.st_ino &&
              st.st_dev == rst.st_dev,
          "stat(\"/\") is the rootfs");
    check(S(lstat, P("/"), P(&st)) == 0 && S_ISDIR(st.st_mode),
          "lstat(\"/\") is a directory");
    check(S(stat, P("/.."), P(&st)) == 0 && st.st_ino == rst.st_ino,
          "stat(\"/..\") stays at the root");
    check(S(stat, P("/nonexistent"), P(&st)) == -ENOENT,
          "stat of a missing file: ENOENT");
    check(S(open, P("/nodir/x"), O_CREAT | O_WRONLY, 0644) == -ENOENT,
          "O_CREAT in a missing directory: ENOENT");
    check(S(open, P("/tmp/var/nothere"), O_RDONLY) == -ENOENT,
          "open of a missing file: ENOENT");
    check(S(stat, P("/loop1"), P(&st)) == -ELOOP, "symlink loop: ELOOP");
    check(S(access, P("/bin/prog"), X_OK) == 0, "access(/bin/prog, X_OK)");
    check(S(chmod, P("/link_abs"), 0600) == 0 &&
              stat(at(at(R, H), "/etc/passwd"), &st) == 0 &&
              (st.st_mode & 0777) == 0600,
          "chmod through the absolute chain changes the rootfs file");
    check(stat(at(H, "/etc/passwd"), &st) == 0 && (st.st_mode & 0777) == 0644,
          "... and not the host marker");
}

static void check_cwd_inside(void)
{
    char buf[PATH_MAX];
    struct stat st, rst;
    int64_t n, dfd;

    check(S(chdir, P("/var")) == 0, "chdir(/var) through var -> tmp/var");
    check(S(getcwd, P(buf), sizeof(buf)) == (int64_t)sizeof("/tmp/var") &&
              !strcmp(buf, "/tmp/var"),
          "getcwd shows the guest path \"%s\"", buf);
    n = S(open, P("pidfile"), O_CREAT | O_WRONLY, 0644);
    check(n >= 0 && exists(at(R, "/tmp/var/pidfile")),
          "relative O_CREAT after chdir lands in rootfs/tmp/var");
    close((int)n);
    check(!strcmp(guest_read("../../../etc/passwd"), rootfs_passwd),
          "relative ../../../etc/passwd stays inside");
    stat(R, &rst);
    check(S(stat, P("../../../../../.."), P(&st)) == 0 &&
              st.st_ino == rst.st_ino,
          "relative ../../../../../.. ends at the root");
    n = S(readlink, P("/proc/self/cwd"), P(buf), sizeof(buf));
    check(n == 8 && !memcmp(buf, "/tmp/var", 8),
          "readlink(/proc/self/cwd) shows the guest path");

    dfd = S(open, P("/tmp"), O_RDONLY | O_DIRECTORY);
    check(dfd >= 0, "open(/tmp, O_DIRECTORY) as a dirfd");
    check(!strcmp(fd_text(S(openat, dfd, P("../etc/passwd"), O_RDONLY), buf,
                          sizeof(buf)),
                  rootfs_passwd),
          "openat(dirfd /tmp, ../etc/passwd) stays inside");
    n = S(openat, dfd, P("newat"), O_CREAT | O_WRONLY, 0644);
    check(n >= 0 && exists(at(R, "/tmp/newat")),
          "openat(dirfd, newat, O_CREAT) creates rootfs/tmp/newat");
    close((int)n);
    close((int)dfd);
    check(S(chdir, P("/")) == 0 && S(getcwd, P(buf), sizeof(buf)) == 2 &&
              !strcmp(buf, "/"),
          "chdir(\"/\"): getcwd shows \"/\"");
}

static void check_sockets(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX },
                       ab = { .sun_family = AF_UNIX };
    char path[64];
    const char *hostp;
    int64_t orig, a[SFEMU_NARGS];
    uint64_t v[3];
    struct stat st;
    int s = socket(AF_UNIX, SOCK_STREAM, 0),
        c = socket(AF_UNIX, SOCK_STREAM, 0);
    int c2 = socket(AF_UNIX, SOCK_STREAM, 0),
        sx = socket(AF_UNIX, SOCK_STREAM, 0);

    snprintf(path, sizeof(path), "/tmp/sfemu-tr-sock-%d", (int)getpid());
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    hostp = at(R, path);
    check(S(bind, s, P(&sa), sizeof(sa)) == 0 && listen(s, 4) == 0, "bind(%s)",
          path);
    check(stat(hostp, &st) == 0 && S_ISSOCK(st.st_mode),
          "socket created at rootfs%s", path);
    check(!exists(path), "no socket on the host at %s", path);
    check(!strcmp(sa.sun_path, path), "the guest's sockaddr is not modified");
    check(S(connect, c, P(&sa),
            offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1) == 0,
          "connect(%s) reaches the rootfs socket", path);

    /* socketcall: the argument array lives in guest memory */
    v[0] = (uint64_t)c2;
    v[1] = (uint64_t)(uintptr_t)&sa;
    v[2] = sizeof(sa);
    memset(a, 0, sizeof(a));
    a[0] = 3;
    a[1] = P(v);
    check(tsys(T_NR_SOCKETCALL, "socketcall", a) == 0,
          "socketcall(connect) reaches the rootfs socket");

    /* abstract: untouched */
    memcpy(ab.sun_path, "\0sfemu-tr-abstract", 18);
    memset(a, 0, sizeof(a));
    a[0] = sx;
    a[1] = orig = P(&ab);
    a[2] = offsetof(struct sockaddr_un, sun_path) + 18;
    {
        struct sfemu_tr_call cl;
        int64_t ret;

        check(sfemu_trueroot_enter(SYS_bind, "bind", a, &cl) == 0 &&
                  a[1] == orig,
              "abstract socket address untouched");
        ret = t_real(SYS_bind, a);
        sfemu_trueroot_leave(&cl, &ret);
        check(ret == 0, "abstract bind works");
    }
    close(s);
    close(c);
    close(c2);
    close(sx);
}

/* sendmsg/sendmmsg to a named datagram socket: the root's, not the host's. */
static void check_sendmsg(void)
{
    struct sockaddr_un to = { .sun_family = AF_UNIX },
                       hs = { .sun_family = AF_UNIX };
    struct iovec iov = { .iov_base = "dgram", .iov_len = 5 };
    struct msghdr m = { .msg_name = &to,
                        .msg_namelen = sizeof(to),
                        .msg_iov = &iov,
                        .msg_iovlen = 1 };
    struct mmsghdr mm[6];
    int rx = socket(AF_UNIX, SOCK_DGRAM, 0),
        hx = socket(AF_UNIX, SOCK_DGRAM, 0);
    int tx = socket(AF_UNIX, SOCK_DGRAM, 0);
    char buf[16] = { 0 };
    int64_t n;

    snprintf(to.sun_path, sizeof(to.sun_path), "/tmp/sfemu-tr-dg-%d",
             (int)getpid());
    snprintf(hs.sun_path, sizeof(hs.sun_path), "%.80s", at(R, to.sun_path));
    check(bind(rx, (struct sockaddr *)&hs, sizeof(hs)) == 0,
          "a datagram socket bound at rootfs%s", to.sun_path);
    /* a host socket at the same guest path: must get nothing */
    if (bind(hx, (struct sockaddr *)&to, sizeof(to)) != 0) {
        perror("bind host");
    }
    n = S(sendmsg, tx, P(&m), 0);
    check(n == 5 && recv(rx, buf, sizeof(buf), MSG_DONTWAIT) == 5 &&
              !memcmp(buf, "dgram", 5),
          "sendmsg(msg_name %s) reaches the root's socket", to.sun_path);
    check(recv(hx, buf, sizeof(buf), MSG_DONTWAIT) < 0,
          "... and not the host's at that path");
    check(m.msg_name == &to && m.msg_namelen == sizeof(to),
          "the guest's msghdr is not modified");
    for (int i = 0; i < 6; i++) {
        mm[i].msg_hdr = m;
        mm[i].msg_len = 0;
    }
    n = S(sendmmsg, tx, P(mm), 6, 0);
    check(n == 6, "sendmmsg of 6 messages to a unix name: %d sent", (int)n);
    n = 0;
    while (recv(rx, buf, sizeof(buf), MSG_DONTWAIT) == 5) {
        n++;
    }
    check(n == 6 && recv(hx, buf, sizeof(buf), MSG_DONTWAIT) < 0,
          "... all at the root's socket, none at the host's");
    close(rx);
    close(hx);
    close(tx);
    unlink(at(R, to.sun_path));
    unlink(to.sun_path);
}

static void check_more_paths(void)
{
    char buf[PATH_MAX];
    int64_t fd;

    fd = S(open, P("/var/pidfile"), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    check(fd >= 0 && write((int)fd, "42\n", 3) == 3,
          "O_CREAT|O_TRUNC on an existing file (magic link reopen)");
    close((int)fd);
    check(!strcmp(guest_read("/tmp/var/pidfile"), "42\n"),
          "... wrote rootfs/tmp/var/pidfile");
    check(!strcmp(guest_read("/proc/self/root/etc/passwd"), rootfs_passwd),
          "/proc/self/root/etc/passwd is the guest's root, not the host's");
    check(S(chdir, P("/var")) == 0 && S(getcwd, P(buf), 12) == 9 &&
              !strcmp(buf, "/tmp/var"),
          "getcwd(buf, 12) fits the guest path though the host path is longer");
    check(S(getcwd, P(buf), 5) == -ERANGE, "getcwd(buf, 5): ERANGE");
    check(S(chdir, P("/")) == 0, "chdir back to /");
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Sign-extended abi_long of a 32-bit guest address, as QEMU hands it over. */
static int64_t g32(const void *p)
{
    return (int64_t)(int32_t)(uint32_t)(uintptr_t)p;
}

static const char *str32(int64_t arg)
{
    return (const char *)(uintptr_t)(uint32_t)arg;
}

/* Runs in its own thread: its scratch area must be 32-bit guest memory. */
static void *guest32_body(void *mem)
{
    char *text = mem;
    uint8_t *sa = (uint8_t *)mem + 256, *arr = (uint8_t *)mem + 512;
    int64_t a[SFEMU_NARGS] = { 0 }, ret = 0;
    struct sfemu_tr_call c;
    uint8_t *nsa;

    strcpy(text, "/dangling2");
    a[0] = g32(text);
    a[1] = 0x100 | 0x400 | 1; /* MIPS O_CREAT|O_EXCL|O_WRONLY */
    check(tsys(SYS_open, "open", a) == -EEXIST && !exists(at(R, "/tmp/dt2")),
          "32-bit BE, MIPS O_CREAT|O_EXCL on a dangling link: EEXIST, the "
          "link itself, not its target");
    a[0] = g32(text);
    a[1] = 0x100 | 1; /* MIPS O_CREAT|O_WRONLY: follows the dangling link */
    ret = tsys(SYS_open, "open", a);
    check(ret >= 0 && exists(at(R, "/tmp/dt2")),
          "32-bit BE, MIPS O_CREAT: creates the link's target rootfs/tmp/dt2");
    close((int)ret);
    unlink(at(R, "/tmp/dt2"));

    sa[0] = 0; /* sa_family AF_UNIX, big-endian */
    sa[1] = 1;
    strcpy((char *)sa + 2, "/tmp/s32");
    put_be32(arr, 5);
    put_be32(arr + 4, (uint32_t)(uintptr_t)sa);
    put_be32(arr + 8, 2 + 9);
    memset(a, 0, sizeof(a));
    a[0] = 2; /* bind */
    a[1] = g32(arr);
    check(sfemu_trueroot_enter(T_NR_SOCKETCALL, "socketcall", a, &c) == 0 &&
              a[1] != g32(arr),
          "32-bit BE socketcall(bind): argument array rewritten");
    {
        const uint8_t *na = (const uint8_t *)str32(a[1]);

        nsa = (uint8_t *)(uintptr_t)be32(na + 4);
        check(
            be32(na) == 5 && nsa[0] == 0 && nsa[1] == 1 &&
                strstr((char *)nsa + 2, "/proc/self/fd/") == (char *)nsa + 2 &&
                !strcmp(strrchr((char *)nsa + 2, '/'), "/s32") &&
                be32(na + 8) == 2 + strlen((char *)nsa + 2) + 1,
            "... fd kept, big-endian family kept, sun_path and length rewritten");
    }
    sfemu_trueroot_leave(&c, &ret);
    return NULL;
}

static void check_guest32(void)
{
    void *mem = low_mem(0x90000000u, 4096);
    pthread_t t;

    check(mem != NULL, "memory a 32-bit guest can address (for the checks "
                       "below)");
    if (!mem) {
        return;
    }
    printf("INFO: 32-bit guest memory at %p (%s 2 GiB)\n", mem,
           (uintptr_t)mem >= 0x80000000u ? "above" : "below");
    sfemu_rt.t = &t_mips;
    pthread_create(&t, NULL, guest32_body, mem);
    pthread_join(t, NULL);
    sfemu_rt.t = &t_target;
    munmap(mem, 4096);
}

static struct {
    int calls, kind, fd_ok;
    char interp[64], path[PATH_MAX];
} seen;

static int t_runner(const struct sfemu_exec_file *f)
{
    struct stat st;

    seen.calls++;
    seen.kind = f->kind;
    seen.fd_ok = fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode);
    snprintf(seen.interp, sizeof(seen.interp), "%s",
             f->interp ? f->interp : "");
    snprintf(seen.path, sizeof(seen.path), "%s", f->guest_path);
    return -E2BIG; /* a marker: the runner's answer is the call's */
}

static void check_exec(void)
{
    char elf[PATH_MAX];
    int in, out;
    ssize_t n;
    char buf[8192];

    check(S(execve, P("/bin/prog"), 0, 0) == -ENOEXEC,
          "execve of a firmware script: ENOEXEC (the host's execve never "
          "runs, the default runner refuses)");
    /* a host (x86_64) ELF written into the root */
    snprintf(elf, sizeof(elf), "%s/bin/hostelf", R);
    in = open("/proc/self/exe", O_RDONLY);
    out = open(elf, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    n = in >= 0 ? read(in, buf, sizeof(buf)) : -1;
    check(n > 64 && out >= 0 && write(out, buf, (size_t)n) == n,
          "an x86_64 ELF header copied to rootfs/bin/hostelf");
    close(in);
    close(out);

    sfemu_trueroot_set_exec_runner(t_runner);
    check(S(execve, P("/bin/prog"), 0, 0) == -E2BIG && seen.calls == 1 &&
              seen.kind == SFEMU_EXEC_SCRIPT && seen.fd_ok &&
              !strcmp(seen.interp, "/bin/sh") &&
              !strcmp(seen.path, "/bin/prog"),
          "the runner gets the script's fd, kind and interpreter \"%s\"",
          seen.interp);
    check(S(execve, P("/bin/hostelf"), 0, 0) == -E2BIG &&
              seen.kind == SFEMU_EXEC_GUEST_ELF,
          "an ELF of the guest's machine (x86_64 here) is the guest's kind");
    buf[18] = 40; /* e_machine EM_ARM, little-endian */
    buf[19] = 0;
    out = open(elf, O_WRONLY | O_TRUNC);
    check(out >= 0 && write(out, buf, (size_t)n) == n, "now an ARM header");
    close(out);
    check(S(execve, P("/bin/hostelf"), 0, 0) == -E2BIG &&
              seen.kind == SFEMU_EXEC_FOREIGN,
          "an ELF of another machine is foreign");
    check(S(execve, P("/proc/self/root/bin/prog"), 0, 0) == -E2BIG &&
              seen.kind == SFEMU_EXEC_SCRIPT,
          "/proc/self/root/bin/prog is the root's");
    seen.calls = 0;
    check(S(execve, P("/tmp"), 0, 0) == -EACCES && seen.calls == 0,
          "execve of a directory: EACCES");
    chmod(at(R, "/bin/prog"), 0644);
    check(S(execve, P("/bin/prog"), 0, 0) == -EACCES && seen.calls == 0,
          "execve without execute permission: EACCES");
    chmod(at(R, "/bin/prog"), 0755);
    check(S(execve, P("/nonexistent"), 0, 0) == -ENOENT,
          "execve of a missing file: ENOENT");
    check(S(execveat, AT_FDCWD, P("/etc/passwd"), 0, 0, 0) == -EACCES,
          "execveat of a non-executable rootfs file: EACCES");
    sfemu_trueroot_set_exec_runner(NULL);
    unlink(elf);
}

static void check_hosts_override(void)
{
    char hx[256], file[PATH_MAX], up[PATH_MAX], esc[PATH_MAX], arg[300];

    snprintf(hx, sizeof(hx), "%s/hostx", base);
    mkdirs(hx);
    mkdirs(at(R, hx)); /* ".." is physical in the root: hostx must exist */
    put_file(at(hx, "/file"), "HOSTX\n", 0644);
    link_to(at(H, "/etc/passwd"), at(hx, "/esc"));
    snprintf(arg, sizeof(arg), "+%.256s", hx);
    check(sfemu_trueroot_init(R, arg) == 0, "init with SFEMU_HOST_PATHS=+%s",
          hx);
    snprintf(file, sizeof(file), "%s/file", hx);
    check(!strcmp(guest_read(file), "HOSTX\n"),
          "an added host path goes to the host");
    snprintf(up, sizeof(up), "%s/../host/etc/passwd", hx);
    check(!strcmp(guest_read(up), rootfs_passwd),
          ".. out of a host path is back in the root (%s)", up);
    snprintf(esc, sizeof(esc), "%s/esc", hx);
    check(strcmp(guest_read(esc), host_marker) != 0,
          "a symlink inside a host path cannot leave it (%s)", guest_read(esc));
    check(S(unlink, P(file)) == -EPERM && exists(at(hx, "/file")),
          "unlink of a host path: EPERM");
    check(strstr(guest_read("/dev/null"), "error") == NULL,
          "defaults kept with '+'");
    snprintf(arg, sizeof(arg), "%.256s", hx);
    check(sfemu_trueroot_init(R, arg) == 0, "init with SFEMU_HOST_PATHS=%s",
          hx);
    check(S(open, P("/dev/null"), O_RDONLY) == -ENOENT,
          "without '+' /dev/null is the rootfs's (which has no /dev: ENOENT)");
    check(S(open, P("/proc/self/status"), O_RDONLY) == -ENOENT,
          "... and /proc too");
    check(sfemu_trueroot_init(R, NULL) == 0, "back to the default host paths");
}

/* Each escape class of issue 12, on the host: none may reach H. */
static void check_escapes(void)
{
    char p[PATH_MAX], buf[PATH_MAX];
    int64_t dfd, fd, n;
    int escaped = 0, tried = 0;
    struct stat st;

    /* 1. lexical clean-up must not leave a /proc link */
    snprintf(p, sizeof(p), "/proc/self/root/../../../..%s/etc/passwd", H);
    check(!strcmp(guest_read(p), rootfs_passwd), "%s: the rootfs copy", p);
    snprintf(p, sizeof(p), "/proc/thread-self/root/..%s/etc/passwd", H);
    check(!strcmp(guest_read(p), rootfs_passwd), "%s: the rootfs copy", p);
    snprintf(p, sizeof(p), "/proc/%d/task/%d/root/..%s/etc/passwd",
             (int)getpid(), (int)gettid(), H);
    check(!strcmp(guest_read(p), rootfs_passwd), "%s: the rootfs copy", p);
    check(S(chdir, P("/tmp/var")) == 0, "chdir /tmp/var");
    snprintf(p, sizeof(p), "/proc/self/cwd/../../../../..%s/etc/passwd", H);
    check(!strcmp(guest_read(p), rootfs_passwd), "%s: the rootfs copy", p);
    snprintf(p, sizeof(p), "/proc/self/root/../..%s/etc/created", H);
    fd = S(open, P(p), O_CREAT | O_WRONLY, 0644);
    check(fd >= 0 && exists(at(at(R, H), "/etc/created")) &&
              !exists(at(H, "/etc/created")),
          "O_CREAT of %s lands in the root", p);
    close((int)fd);
    snprintf(p, sizeof(p), "/proc/self/cwd/../../..%s/etc/made", H);
    check(S(mkdir, P(p), 0755) == 0 && exists(at(at(R, H), "/etc/made")) &&
              !exists(at(H, "/etc/made")),
          "mkdir of %s lands in the root", p);

    /* 2. a dirfd on a host exception: ".." climbs to the guest's "/" */
    dfd = S(open, P("/proc"), O_RDONLY | O_DIRECTORY);
    check(dfd >= 0, "open(/proc) as a dirfd");
    snprintf(p, sizeof(p), "../../..%s/etc/passwd", H);
    check(!strcmp(fd_text(S(openat, dfd, P(p), O_RDONLY), buf, sizeof(buf)),
                  rootfs_passwd),
          "openat(/proc fd, %s): the rootfs copy", p);
    snprintf(p, sizeof(p), "../..%s/etc/viadirfd", H);
    fd = S(openat, dfd, P(p), O_CREAT | O_WRONLY, 0644);
    check(fd >= 0 && exists(at(at(R, H), "/etc/viadirfd")) &&
              !exists(at(H, "/etc/viadirfd")),
          "openat(/proc fd, %s, O_CREAT) creates inside the root", p);
    close((int)fd);
    snprintf(p, sizeof(p), "self/root/..%s/etc/passwd", H);
    check(!strcmp(fd_text(S(openat, dfd, P(p), O_RDONLY), buf, sizeof(buf)),
                  rootfs_passwd),
          "openat(/proc fd, %s): the rootfs copy", p);
    snprintf(p, sizeof(p), "../..%s/etc/dirfdlink", H);
    check(S(symlinkat, P("/x"), dfd, P(p)) == 0 &&
              exists(at(at(R, H), "/etc/dirfdlink")) &&
              !exists(at(H, "/etc/dirfdlink")),
          "symlinkat(target, /proc fd, %s) inside the root", p);
    close((int)dfd);
    dfd = S(open, P("/dev/pts"), O_RDONLY | O_DIRECTORY);
    snprintf(p, sizeof(p), "../../..%s/etc/passwd", H);
    check(dfd >= 0 &&
              !strcmp(fd_text(S(openat, dfd, P(p), O_RDONLY), buf, sizeof(buf)),
                      rootfs_passwd),
          "openat(/dev/pts fd, %s): the rootfs copy", p);
    close((int)dfd);

    /* /proc/self/fd/N/..: a guest dirfd, and every fd the process has */
    dfd = S(open, P("/tmp"), O_RDONLY | O_DIRECTORY);
    snprintf(p, sizeof(p), "/proc/self/fd/%d/../../..%s/etc/passwd", (int)dfd,
             H);
    check(!strcmp(guest_read(p), rootfs_passwd), "%s: the rootfs copy", p);
    close((int)dfd);
    for (int i = 0; i < 1024; i++) {
        const char *t;

        if (fcntl(i, F_GETFD) < 0) {
            continue;
        }
        snprintf(p, sizeof(p), "/proc/self/fd/%d/../../../../..%s/etc/passwd",
                 i, H);
        t = guest_read(p);
        tried++;
        escaped += !strcmp(t, host_marker);
    }
    check(tried > 0 && escaped == 0,
          "/proc/self/fd/N/.. for each of the %d open fds (the root's own "
          "included): never the host",
          tried);

    /* a child is in the guest's world: its /proc links are the guest's */
    {
        int pfd[2] = { -1, -1 };
        pid_t kid = pipe(pfd) == 0 ? fork() : -1;
        char ch;

        if (kid == 0) {
            close(pfd[1]);
            if (read(pfd[0], &ch, 1) < 0) {
                _exit(1);
            }
            _exit(0);
        }
        close(pfd[0]);
        snprintf(p, sizeof(p), "/proc/%d/root/../..%s/etc/passwd", (int)kid, H);
        check(!strcmp(guest_read(p), rootfs_passwd),
              "/proc/<child>/root/..: the guest's root (%s)", p);
        snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)kid);
        fd = S(open, P(p), O_RDONLY);
        check(fd >= 0, "/proc/<child>/cmdline is visible");
        close((int)fd);
        close(pfd[1]);
        waitpid(kid, NULL, 0);
    }

    /* /proc of other processes, and links to the host's memory */
    check(S(stat, P("/proc/1/root"), P(&st)) == -ENOENT &&
              S(open, P("/proc/1/environ"), O_RDONLY) == -ENOENT,
          "/proc/1 (not the guest's) does not exist");
    check(S(open, P("/proc/self/mem"), O_RDWR) == -EACCES &&
              S(open, P("/proc/self/map_files"), O_RDONLY) == -EACCES,
          "/proc/self/mem and map_files: EACCES");
    check(S(open, P("/proc/self/exe"), O_WRONLY) == -ETXTBSY,
          "/proc/self/exe for writing: ETXTBSY");
    check(S(open, P("/proc/sys/kernel/core_pattern"), O_WRONLY) == -EACCES &&
              S(open, P("/proc/sysrq-trigger"), O_WRONLY) == -EACCES &&
              S(open, P("/sys/kernel/uevent_helper"), O_WRONLY) == -EACCES,
          "kernel settings under /proc and /sys: not writable");
    check(strstr(guest_read("/proc/sys/kernel/ostype"), "Linux") != NULL,
          "... but readable");

    /* host exceptions are used, never changed */
    fd = S(open, P("/dev/null"), O_RDONLY);
    check(S(unlink, P("/dev/null")) == -EPERM &&
              S(chmod, P("/dev/null"), 0) == -EPERM &&
              S(rename, P("/dev/null"), P("/tmp/null")) == -EPERM &&
              S(link, P("/dev/null"), P("/tmp/null")) == -EPERM &&
              S(mkdir, P("/proc/x"), 0755) == -EPERM &&
              S(symlink, P("x"), P("/dev/pts/evil")) == -EPERM &&
              S(fchmod, fd, 0) == -EPERM &&
              S(fchownat, fd, P(""), 0, 0, AT_EMPTY_PATH) == -EPERM,
          "unlink/chmod/rename/link/mkdir/symlink/fchmod on host paths: EPERM");
    close((int)fd);
    check(stat("/dev/null", &st) == 0 && (st.st_mode & 0777) == 0666,
          "the host's /dev/null is intact");

    link_to("/proc/self/root/tmp/selfloop", at(R, "/tmp/selfloop"));
    check(S(open, P("/tmp/selfloop"), O_RDONLY) == -ELOOP &&
              S(open, P("/tmp/selfloop"), O_CREAT | O_WRONLY, 0644) == -ELOOP,
          "a link to itself through /proc/self/root: ELOOP");

    /* "name/" follows a last symlink even in lstat: never from the host */
    link_to(at(H, "/etc"), at(R, "/tmp/slashlink"));
    check(S(lstat, P("/tmp/slashlink/"), P(&st)) == 0 && S_ISDIR(st.st_mode) &&
              S(stat, P("/tmp/slashlink/passwd"), P(&st)) == 0 &&
              st.st_size == (off_t)strlen(rootfs_passwd),
          "lstat(\"link/\") is the root's directory the link names");
    check(S(readlink, P("/tmp/slashlink/"), P(buf), sizeof(buf)) == -EINVAL,
          "readlink(\"link/\"): EINVAL");
    check(S(newfstatat, AT_FDCWD, P("/tmp/slashlink/"), P(&st),
            AT_SYMLINK_NOFOLLOW) == 0 &&
              S_ISDIR(st.st_mode),
          "fstatat(\"link/\", AT_SYMLINK_NOFOLLOW) follows inside the root");

    /* classic ones: rename, link, symlink, bind to host-looking paths */
    put_file(at(R, "/tmp/mv"), "mv\n", 0644);
    snprintf(p, sizeof(p), "%s/etc/moved", H);
    check(S(rename, P("/tmp/mv"), P(p)) == 0 &&
              exists(at(at(R, H), "/etc/moved")) && !exists(p),
          "rename to %s stays inside", p);
    snprintf(buf, sizeof(buf), "%s/etc/linked", H);
    check(S(link, P(p), P(buf)) == 0 && exists(at(at(R, H), "/etc/linked")) &&
              !exists(buf),
          "link to %s stays inside", buf);
    snprintf(p, sizeof(p), "/proc/self/root%s/etc/passwd", H);
    check(S(symlink, P(p), P("/tmp/evil")) == 0 &&
              !strcmp(guest_read("/tmp/evil"), rootfs_passwd),
          "a guest symlink to /proc/self/root<H>/etc/passwd: the rootfs copy");
    check(S(symlink, P("/proc/1/root/etc/passwd"), P("/tmp/evil1")) == 0 &&
              S(open, P("/tmp/evil1"), O_RDONLY) == -ENOENT,
          "a guest symlink to /proc/1/root/...: ENOENT");
    check(S(mount, P("proc"), P("/tmp"), P("proc"), 0, 0) == -EPERM &&
              S(mount, P("/proc"), P("/tmp"), 0, MS_BIND, 0) == -EPERM,
          "mounting proc, or binding a host path, into the root: EPERM");
    {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int sk = socket(AF_UNIX, SOCK_STREAM, 0);

        if (snprintf(sa.sun_path, sizeof(sa.sun_path),
                     "/proc/self/root%.64s/sk",
                     H) >= (int)sizeof(sa.sun_path)) {
            return;
        }
        n = S(bind, sk, P(&sa), sizeof(sa));
        check(n == 0 && exists(at(at(R, H), "/sk")) && !exists(at(H, "/sk")),
              "bind(%s) inside the root", sa.sun_path);
        close(sk);
        unlink(at(at(R, H), "/sk"));
    }
    S(chdir, P("/"));
}

/* A symlink swapped in and out while the guest opens through it. */
static volatile int race_stop;

static char race_dir[PATH_MAX], race_tmp[PATH_MAX], race_lnk[PATH_MAX],
    race_file[PATH_MAX + 8], race_dfile[PATH_MAX + 8], race_host[PATH_MAX];

static void *race_swapper(void *arg)
{
    (void)arg;
    while (!race_stop) {
        int fd;

        mkdir(race_tmp, 0755);
        fd = open(race_file, O_CREAT | O_WRONLY, 0644);
        close(fd);
        rename(race_tmp, race_dir); /* the directory ... */
        unlink(race_lnk);
        if (symlink(race_host, race_lnk) == 0) {
            unlink(race_dfile);
            rename(race_lnk, race_dir); /* ... and a link to the host */
        }
        unlink(race_dfile);
        rmdir(race_dir);
    }
    return NULL;
}

static void check_races(void)
{
    enum { TRIES = 3000 };
    pthread_t t;
    int reads = 0, host = 0, fds = 0;
    char buf[64];

    snprintf(race_dir, sizeof(race_dir), "%s", at(R, "/tmp/race"));
    snprintf(race_tmp, sizeof(race_tmp), "%s", at(R, "/tmp/race.tmp"));
    snprintf(race_lnk, sizeof(race_lnk), "%s", at(R, "/tmp/race.lnk"));
    snprintf(race_file, sizeof(race_file), "%s/passwd", race_tmp);
    snprintf(race_dfile, sizeof(race_dfile), "%s/new", race_dir);
    snprintf(race_host, sizeof(race_host), "%s", at(H, "/etc"));
    pthread_create(&t, NULL, race_swapper, NULL);
    for (int i = 0; i < TRIES; i++) {
        int64_t fd = S(open, P("/tmp/race/passwd"), O_RDONLY);
        int64_t cf = S(open, P("/tmp/race/new"), O_CREAT | O_WRONLY, 0644);
        struct stat st;

        if (fd >= 0) {
            reads++;
            host += !strcmp(fd_text(fd, buf, sizeof(buf)), host_marker);
        }
        if (cf >= 0) {
            close((int)cf);
            fds++;
        }
        S(stat, P("/tmp/race/passwd"), P(&st));
    }
    race_stop = 1;
    pthread_join(t, NULL);
    check(host == 0 && !exists(at(H, "/etc/new")),
          "%d opens and %d creates raced against a swapped symlink: no host "
          "read, no host create",
          reads, fds);
}

static void check_fds(int first_free)
{
    int low = dup(0), again;

    close(low);
    again = (int)S(open, P("/etc/passwd"), O_RDONLY);
    check(again == low,
          "open returns the lowest free fd (%d, got %d): temporaries live high",
          low, again);
    close(again);
    check(lowest_free_fd() == first_free, "no fd leaked");
}

static void *thread_body(void *arg)
{
    long bad = 0;
    struct stat st;

    (void)arg;
    for (int i = 0; i < 300; i++) {
        int64_t fd = S(open, P("/link_abs"), O_RDONLY);

        bad += fd < 0 || S(stat, P("/var/pidfile"), P(&st)) != 0;
        close((int)fd);
    }
    return (void *)bad;
}

static void check_threads(void)
{
    pthread_t t[4];
    long bad = 0;

    for (int i = 0; i < 4; i++) {
        pthread_create(&t[i], NULL, thread_body, NULL);
    }
    for (int i = 0; i < 4; i++) {
        void *r;

        pthread_join(t[i], &r);
        bad += (long)r;
    }
    check(bad == 0, "4 threads x 300 open+stat with per-thread scratch");
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void report_cost(void)
{
    enum { N = 2000000, M = 20000 };
    int64_t a[SFEMU_NARGS] = { 0 }, ret = 0;
    struct sfemu_tr_call c;
    struct stat st;
    double t0, t1, t2, t3;

    t0 = now_ns();
    for (int i = 0; i < N; i++) {
        sfemu_trueroot_enter(SYS_getpid, "getpid", a, &c);
        sfemu_trueroot_leave(&c, &ret);
    }
    t1 = now_ns();
    for (int i = 0; i < M; i++) {
        S(stat, P("/tmp/var/pidfile"), P(&st));
    }
    t2 = now_ns();
    for (int i = 0; i < M; i++) {
        stat(at(R, "/tmp/var/pidfile"), &st);
    }
    t3 = now_ns();
    printf("INFO: enter+leave on a non-path syscall: %.1f ns\n", (t1 - t0) / N);
    printf("INFO: stat through the true root: %.0f ns (native: %.0f ns)\n",
           (t2 - t1) / M, (t3 - t2) / M);
}

static void check_chroot(void)
{
    char buf[PATH_MAX];
    int64_t user_ret;

    /* chroot(2) needs root; so does the emulation (the test runs as root,
     * as the mount tests do, and plays the user with its effective uid). */
    check(geteuid() == 0, "the test runs as root (chroot checks)");
    if (geteuid() != 0) {
        return;
    }
    user_ret = -1;
    if (seteuid(65534) == 0) {
        user_ret = S(chroot, P("/tmp/var"));
        if (seteuid(0) != 0) {
            perror("seteuid(0)");
            exit(2);
        }
    }
    check(user_ret == -EPERM, "chroot as a user: EPERM (got %lld)",
          (long long)user_ret);
    check(S(chroot, P("/bin/prog")) == -ENOTDIR, "chroot to a file: ENOTDIR");
    check(S(chroot, P("/proc")) == -EPERM,
          "chroot into a host exception: EPERM");
    check(S(chdir, P("/var")) == 0 && S(chroot, P("/tmp/var")) == 0,
          "chroot(/tmp/var) emulated");
    check(S(getcwd, P(buf), sizeof(buf)) == 2 && !strcmp(buf, "/"),
          "getcwd is \"/\" in the new root");
    check(exists(at(R, "/tmp/var/pidfile")) &&
              S(access, P("/pidfile"), F_OK) == 0,
          "/pidfile is rootfs/tmp/var/pidfile");
    check(S(access, P("/../etc/passwd"), F_OK) == -ENOENT,
          "the old root is out of reach");
    check(lstat("/", &(struct stat){ 0 }) == 0 && exists("/etc"),
          "the test process itself was not chrooted");
}

int main(void)
{
    int first_free;
    char marker[64];
    int fd;

    sfemu_rt.t = &t_target;
    sfemu_rt.ops = &t_ops;
    build_tree();
    first_free = lowest_free_fd();
    printf("INFO: rootfs %s, host side %s\n", R, H);

    check_init();
    check_passthrough();
    check_cwd_outside();
    check_create();
    check_lookup();
    check_cwd_inside();
    check_sockets();
    check_sendmsg();
    check_more_paths();
    check_exec();
    check_guest32();
    check_hosts_override();
    check_escapes();
    check_races();
    check_fds(first_free);
    check_threads();
    report_cost();
    check_chroot();

    fd = open(at(H, "/etc/passwd"), O_RDONLY);
    check(!strcmp(fd_text(fd, marker, sizeof(marker)), host_marker) &&
              count_entries(H) == 1 && count_entries(at(H, "/etc")) == 1,
          "host marker directory %s unchanged, nothing created in it", H);

    if (chdir("/") == 0) {
        char cmd[PATH_MAX + 16];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
        if (system(cmd) != 0) {
            printf("INFO: could not remove %s\n", base);
        }
    }
    return checks_done();
}
