/*
 * The rules tree of a daemon started without --rules (docs/mount.md): a
 * copy of the shipped rules_examples' plugins/ in the upper directory,
 * "<upper>/rules", made on the first such mount and kept.  A copy, because
 * fakefile.init writes the configs and contents it generates into the
 * rules tree: never into an installed or source tree shared by others.
 * The shipped tree is looked for in the installed share directory, then
 * in the source tree the daemon was built from.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sfemu_mount.h"

#ifndef SFEMU_RULES_SHARE
#define SFEMU_RULES_SHARE "/usr/local/share/sfemu/rules_examples"
#endif
#ifndef SFEMU_RULES_SRC
#define SFEMU_RULES_SRC ""
#endif

static int copy_file(int sfd, int dfd, const char *name, mode_t mode)
{
    int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int out = in < 0
                  ? -1
                  : openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                           mode & 0755);
    char buf[65536];
    ssize_t n = 0;
    while (out >= 0 && (n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            n = -1;
            break;
        }
    }
    int r = in < 0 || out < 0 || n < 0 ? -1 : 0;
    if (in >= 0) {
        close(in);
    }
    if (out >= 0) {
        close(out);
    }
    return r;
}

/* Directories and regular files of sfd into the (empty) dfd; symlinks and
 * the rest are left out.  0 or -1. */
static int copy_tree(int sfd, int dfd, int depth)
{
    int fd = dup(sfd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    struct dirent *de;
    int r = d ? 0 : -1;
    if (!d && fd >= 0) {
        close(fd);
    }
    while (d && !r && (de = readdir(d))) {
        struct stat st;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            continue;
        }
        if (S_ISREG(st.st_mode)) {
            r = copy_file(sfd, dfd, de->d_name, st.st_mode);
        } else if (S_ISDIR(st.st_mode) && depth < 16) {
            int s2 = openat(sfd, de->d_name,
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            int d2 = mkdirat(dfd, de->d_name, 0755) < 0
                         ? -1
                         : openat(dfd, de->d_name,
                                  O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            r = s2 < 0 || d2 < 0 ? -1 : copy_tree(s2, d2, depth + 1);
            if (s2 >= 0) {
                close(s2);
            }
            if (d2 >= 0) {
                close(d2);
            }
        }
    }
    if (d) {
        closedir(d);
    }
    return r;
}

/* An installed sfemu-mount's PREFIX/share/sfemu/rules_examples, wherever
 * the tree was moved after `meson install --destdir` (docs/install.md). */
const char *rules_beside_self(void)
{
    static char p[PATH_MAX + 32];
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        return "";
    }
    self[n] = 0;
    *strrchr(self, '/') = 0;
    snprintf(p, sizeof p, "%s/../share/sfemu/rules_examples", self);
    return p;
}

static const char *shipped(void)
{
    const char *const where[] = { rules_beside_self(), SFEMU_RULES_SHARE,
                                  SFEMU_RULES_SRC };
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        char p[PATH_MAX];
        struct stat st;
        snprintf(p, sizeof p, "%s/plugins/fakefile", where[i]);
        if (where[i][0] && stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            return where[i];
        }
    }
    return NULL;
}

int default_rules(const char *upper, char *out, size_t cap)
{
    char tmp[PATH_MAX], plug[PATH_MAX];
    struct stat st;
    snprintf(out, cap, "%s/rules", upper);
    snprintf(plug, sizeof plug, "%s/plugins/fakefile", out);
    if (stat(plug, &st) == 0 && S_ISDIR(st.st_mode)) {
        return 0; /* made by an earlier mount, maybe edited since */
    }
    const char *src = shipped();
    if (!src) {
        log_msg("no rules tree: --rules not given and no shipped "
                "rules_examples (%s, %s): fake records are inert",
                SFEMU_RULES_SHARE, SFEMU_RULES_SRC[0] ? SFEMU_RULES_SRC : "-");
        return -ENOENT;
    }
    /* made aside, then renamed: a crash leaves no half tree in use */
    snprintf(tmp, sizeof tmp, "%s/rules.new-%d", upper, (int)getpid());
    snprintf(plug, sizeof plug, "%s/plugins", src);
    char tplug[PATH_MAX + 16];
    snprintf(tplug, sizeof tplug, "%s/plugins", tmp);
    int sfd = open(plug, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int dfd = sfd < 0 || mkdir(tmp, 0755) < 0 || mkdir(tplug, 0755) < 0
                  ? -1
                  : open(tplug, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r;
    r = dfd < 0 ? -1 : copy_tree(sfd, dfd, 0);
    if (sfd >= 0) {
        close(sfd);
    }
    if (dfd >= 0) {
        close(dfd);
    }
    if (r < 0 || rename(tmp, out) < 0) {
        log_msg("cannot copy the rules tree %s/plugins to %s: fake records "
                "are inert",
                src, out);
        return -EIO;
    }
    log_msg("no --rules: fake resources are served from %s, a copy of the "
            "shipped %s/plugins",
            out, src);
    return 0;
}
