/*
 * Unit test of common/dirfd.c on a real tree in /tmp: openat2 confinement
 * and mkdir -p with each kind of confinement its callers use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "dirfd.h"

static char base[64]; /* the cwd: paths below are relative to it */

static int is_dir(const char *p, mode_t *mode)
{
    struct stat st;

    if (lstat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return 0;
    }
    if (mode) {
        *mode = st.st_mode & 07777;
    }
    return 1;
}

/* The fd dirfd_mkdir_p returned is the directory at path. */
static int fd_is(int fd, const char *p)
{
    struct stat a, b;

    return fd >= 0 && fstat(fd, &a) == 0 && stat(p, &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void check_plain(int tree)
{
    const struct dirfd_mkdir how = { .mode = 0750 };
    char abs[PATH_MAX];
    mode_t m = 0;
    int fd;

    fd = dirfd_mkdir_p_open(tree, "a/b/c", &how);
    check(fd_is(fd, "tree/a/b/c") && is_dir("tree/a/b", &m) && m == 0750,
          "mkdir -p a/b/c makes the chain (mode 0%o) and returns its fd", m);
    if (fd >= 0) {
        close(fd);
    }
    fd = dirfd_mkdir_p_open(tree, "a//b/./c/", &how);
    check(fd_is(fd, "tree/a/b/c"),
          "an existing chain (with //, ./, a final /) is found");
    if (fd >= 0) {
        close(fd);
    }
    fd = dirfd_mkdir_p_open(tree, "", &how);
    check(fd_is(fd, "tree"), "\"\" is the directory fd itself");
    if (fd >= 0) {
        close(fd);
    }
    close(openat(tree, "file", O_CREAT | O_WRONLY, 0644));
    check(dirfd_mkdir_p(tree, "file/x", &how) == -ENOTDIR &&
              dirfd_mkdir_p(tree, "file", &how) == -ENOTDIR,
          "a file in the way is -ENOTDIR");
    snprintf(abs, sizeof(abs), "%s/abs/x", base);
    check(dirfd_mkdir_p(AT_FDCWD, abs, &how) == 0 && is_dir("abs/x", 0),
          "an absolute host path from AT_FDCWD (resolve 0)");
}

static mode_t record_mode(void *ud, const char *prefix)
{
    char *seen = ud;

    strcat(seen, prefix);
    strcat(seen, ";");
    return strchr(prefix, '/') ? 0700 : 0711;
}

static void check_mode_of(int tree)
{
    char seen[256] = "";
    const struct dirfd_mkdir how = { .mode_of = record_mode, .ud = seen };
    mode_t m1 = 0, m2 = 0;

    check(dirfd_mkdir_p(tree, "a/m/n", &how) == 0 &&
              !strcmp(seen, "a/m;a/m/n;") && is_dir("tree/a/m", &m1) &&
              is_dir("tree/a/m/n", &m2) && m1 == 0700 && m2 == 0700,
          "mode_of is asked for each directory made, with its path (%s)", seen);
    seen[0] = 0;
    check(dirfd_mkdir_p(tree, "top", &how) == 0 && !strcmp(seen, "top;") &&
              is_dir("tree/top", &m1) && m1 == 0711,
          "mode_of gives the mode (0%o)", m1);
}

static void check_beneath(int tree)
{
    const struct dirfd_mkdir how = { .resolve = RESOLVE_BENEATH, .mode = 0755 };
    const struct dirfd_mkdir nosym = {
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, .mode = 0755
    };
    char out[PATH_MAX];
    int fd;

    snprintf(out, sizeof(out), "%s/outside", base);
    if (symlinkat("real", tree, "in") != 0 ||
        symlinkat(out, tree, "out") != 0 ||
        symlinkat("../outside", tree, "up") != 0 ||
        mkdir("outside", 0755) != 0 || mkdirat(tree, "real", 0755) != 0) {
        check(0, "set up the symlinks");
        return;
    }
    check(dirfd_mkdir_p(tree, "in/x", &how) == 0 && is_dir("tree/real/x", 0),
          "RESOLVE_BENEATH follows a symlink that stays in the tree");
    check(dirfd_mkdir_p(tree, "out/x", &how) == -EXDEV &&
              dirfd_mkdir_p(tree, "up/y", &how) == -EXDEV &&
              dirfd_mkdir_p(tree, "../outside/z", &how) == -EXDEV &&
              !is_dir("outside/x", 0) && !is_dir("outside/y", 0) &&
              !is_dir("outside/z", 0),
          "RESOLVE_BENEATH: nothing is made outside the tree (-EXDEV)");
    check(dirfd_mkdir_p(tree, "in/w", &nosym) == -ELOOP &&
              !is_dir("tree/real/w", 0),
          "RESOLVE_NO_SYMLINKS: no symlink is followed (-ELOOP)");
    fd = dirfd_open(tree, "up/f", O_CREAT | O_WRONLY, 0600, RESOLVE_BENEATH);
    check(fd == -EXDEV, "dirfd_open: RESOLVE_BENEATH refuses an escape");
    fd = dirfd_open(tree, "in/f", O_CREAT | O_WRONLY, 0600, RESOLVE_BENEATH);
    check(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) &&
              access("tree/real/f", F_OK) == 0,
          "dirfd_open creates inside the tree, close-on-exec");
    if (fd >= 0) {
        close(fd);
    }
}

/* Inside the root, base's absolute name is tree/<base>: were the root not
 * kept, what is made would land in base itself (harmlessly). */
static void check_in_root(int tree)
{
    const struct dirfd_mkdir how = { .resolve = RESOLVE_IN_ROOT, .mode = 0755 };
    const struct dirfd_mkdir plain = { .mode = 0755 };
    char in[PATH_MAX], p[PATH_MAX];

    snprintf(in, sizeof(in), "%s/side", base);
    if (dirfd_mkdir_p(tree, in + 1, &plain) != 0 ||
        symlinkat(in, tree, "absl")) {
        check(0, "set up the absolute symlink");
        return;
    }
    snprintf(p, sizeof(p), "tree%s/side/r1", base);
    check(dirfd_mkdir_p(tree, "absl/r1", &how) == 0 && is_dir(p, 0) &&
              !is_dir("side/r1", 0),
          "RESOLVE_IN_ROOT: an absolute symlink stays in the root");
    snprintf(in, sizeof(in), "/../..%s/r2", base);
    snprintf(p, sizeof(p), "tree%s/r2", base);
    check(dirfd_mkdir_p(tree, in, &how) == 0 && is_dir(p, 0) &&
              !is_dir("r2", 0),
          "RESOLVE_IN_ROOT: .. stops at the root");
    snprintf(in, sizeof(in), "%s/new/deep", base);
    snprintf(p, sizeof(p), "tree%s/new/deep", base);
    check(dirfd_mkdir_p(tree, in, &how) == 0 && is_dir(p, 0) &&
              !is_dir("new", 0),
          "RESOLVE_IN_ROOT: an absolute path starts at the root");
}

static void count_made(void *ud, int pfd, const char *name)
{
    (void)pfd;
    (void)name;
    ++*(int *)ud;
}

/* A router root's "/var -> /volatile/var" and "run -> ../state/run" before boot:
 * the walk goes on at the dangling link's target, in the root. */
static void check_dangling(int tree)
{
    int made = 0;
    const struct dirfd_mkdir follow = { .resolve = RESOLVE_IN_ROOT,
                                        .mode = 0755,
                                        .follow_dangling = 1,
                                        .made = count_made,
                                        .ud = &made };
    const struct dirfd_mkdir nofollow = { .resolve = RESOLVE_IN_ROOT,
                                          .mode = 0755 };

    if (symlinkat("/volatile/var", tree, "var") || mkdirat(tree, "etc", 0755) ||
        symlinkat("../state/run", tree, "etc/run") ||
        symlinkat("loop2", tree, "loop1") ||
        symlinkat("loop1", tree, "loop2")) {
        check(0, "set up the dangling symlinks");
        return;
    }
    check(dirfd_mkdir_p(tree, "/var/run", &nofollow) == -ENOENT &&
              !is_dir("tree/volatile", 0),
          "without follow_dangling a dangling link is in the way");
    check(dirfd_mkdir_p(tree, "/var/run", &follow) == 0 &&
              is_dir("tree/volatile/var/run", 0) && made == 3,
          "an absolute dangling link: its target made in the root, each "
          "directory told once");
    check(dirfd_mkdir_p(tree, "/etc/run/x", &follow) == 0 &&
              is_dir("tree/state/run/x", 0),
          "a relative dangling link resolves from its own directory");
    check(dirfd_mkdir_p(tree, "/loop1/x", &follow) == -ELOOP,
          "a symlink loop ends in -ELOOP");
    made = 0;
    check(dirfd_mkdir_p(tree, "/var/run", &follow) == 0 && made == 0,
          "a second call makes nothing");
    check(symlinkat("../../../outside/x", tree, "esc") == 0 &&
              dirfd_mkdir_p(tree, "/esc/y", &follow) == 0 &&
              is_dir("tree/outside/x/y", 0) && !is_dir("outside/x", 0),
          "a dangling link out of the root is made inside it");
}

int main(void)
{
    char cmd[128];
    int tree;

    umask(0);
    snprintf(base, sizeof(base), "/tmp/sfemu-dirfd.XXXXXX");
    if (!mkdtemp(base) || chdir(base) != 0 || mkdir("tree", 0755) != 0 ||
        (tree = open("tree", O_PATH | O_DIRECTORY)) < 0) {
        perror("set-up");
        return 1;
    }
    check_plain(tree);
    check_mode_of(tree);
    check_beneath(tree);
    check_in_root(tree);
    check_dangling(tree);
    close(tree);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (chdir("/") != 0 || system(cmd) != 0) {
        printf("INFO: could not remove %s\n", base);
    }
    return checks_done();
}
