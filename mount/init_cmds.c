/*
 * The commands the --init interpreter replays (init_interp.h): mkdir, cp,
 * ln -s, echo/printf, cat, touch, chmod, mount of a tmpfs, tar x.  Every
 * path is a guest path, every file operation goes through init_fs.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "init_fs.h"
#include "init_interp.h"

/* Options of a command: the letters of every leading -xyz word (until
 * "--" or a non-option), into opts; returns the index of the first
 * operand.  with_arg: letters taking a value (-m MODE), stored in *arg. */
static int opts_of(const struct cmd *c, char *opts, size_t cap,
                   const char *with_arg, const char **arg)
{
    size_t n = 0;
    int i = 1;
    for (; i < c->n && c->w[i][0] == '-' && c->w[i][1]; i++) {
        if (!strcmp(c->w[i], "--")) {
            return i + 1;
        }
        for (const char *o = c->w[i] + 1; *o; o++) {
            if (n + 1 < cap) {
                opts[n++] = *o;
            }
            if (with_arg && strchr(with_arg, *o)) {
                if (o[1]) {
                    *arg = o + 1;
                } else if (i + 1 < c->n) {
                    *arg = c->w[++i];
                }
                break;
            }
        }
    }
    opts[n] = 0;
    return i;
}

int icmd_mkdir(struct interp *in, struct cmd *c)
{
    char o[32], p[PATH_MAX];
    const char *mode = NULL;
    int i = opts_of(c, o, sizeof o, "m", &mode);
    int rc = i < c->n ? 0 : -EINVAL;
    for (; i < c->n && rc == 0; i++) {
        ip_path(in, c->w[i], p);
        rc = ifs_mkdir_p(in->root, p, 0755);
        if (rc == 0 && mode) {
            rc = ifs_chmod(in->root, p, (mode_t)strtoul(mode, NULL, 8));
        }
    }
    ip_done(in, c, rc, NULL);
    return rc;
}

int icmd_cp(struct interp *in, struct cmd *c)
{
    char o[32], dst[PATH_MAX], src[PATH_MAX], to[PATH_MAX * 2];
    int i = opts_of(c, o, sizeof o, NULL, NULL);
    struct ifs_copy how = {
        .recursive = strpbrk(o, "aRr") != NULL,
        .preserve = strpbrk(o, "ap") != NULL,
        .no_clobber = strchr(o, 'n') != NULL,
    };
    struct stat st;
    int rc = c->n - i >= 2 ? 0 : -EINVAL;
    if (rc < 0) {
        ip_done(in, c, rc, NULL);
        return rc;
    }
    ip_path(in, c->w[c->n - 1], dst);
    int dir_dst = ifs_open(in->root, dst, O_PATH | O_DIRECTORY, 0);
    if (dir_dst >= 0) {
        close(dir_dst);
    }
    for (; i < c->n - 1 && rc == 0; i++) {
        ip_path(in, c->w[i], src);
        if (dir_dst >= 0) {
            /* into the directory; "dir/." copies dir's content */
            const char *base = strrchr(c->w[i], '/');
            base = base ? base + 1 : c->w[i];
            int dot = !strcmp(base, ".") || !base[0];
            snprintf(to, sizeof to, "%s/%s", dst,
                     dot ? "." : strrchr(src, '/') + 1);
        } else if (c->n - i > 2) {
            rc = -ENOTDIR;
            break;
        } else {
            snprintf(to, sizeof to, "%s", dst);
        }
        if (!how.recursive && ifs_lstat(in->root, src, &st) == 0 &&
            S_ISDIR(st.st_mode)) {
            rc = -EISDIR;
            break;
        }
        char t[PATH_MAX];
        ifs_join("/", to, t, sizeof t);
        if (!strcmp(t, dst) && dir_dst >= 0) {
            /* content of src merged into the existing dst */
            int fd = ifs_open(in->root, src, O_RDONLY | O_DIRECTORY, 0);
            DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
            struct dirent *e;
            rc = d ? 0 : (fd < 0 ? fd : -errno);
            while (d && (e = readdir(d)) && rc == 0) {
                char s2[PATH_MAX * 2], d2[PATH_MAX * 2];
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
                    continue;
                }
                snprintf(s2, sizeof s2, "%s/%s", src, e->d_name);
                snprintf(d2, sizeof d2, "%s/%s", dst, e->d_name);
                rc = ifs_copy(in->root, s2, d2, &how);
            }
            if (d) {
                closedir(d);
            }
        } else {
            rc = ifs_copy(in->root, src, t, &how);
        }
    }
    ip_done(in, c, rc, NULL);
    return rc;
}

int icmd_ln(struct interp *in, struct cmd *c)
{
    char o[32], p[PATH_MAX], to[PATH_MAX * 2];
    int i = opts_of(c, o, sizeof o, NULL, NULL);
    if (!strchr(o, 's')) {
        ip_skip(in, c, "not understood: hard link");
        return 0;
    }
    if (c->n - i != 2 && c->n - i != 1) {
        ip_done(in, c, -EINVAL, NULL);
        return -EINVAL;
    }
    const char *target = c->w[i];
    const char *base = strrchr(target, '/');
    base = base ? base + 1 : target;
    ip_path(in, c->n - i == 2 ? c->w[i + 1] : base, p);
    int fd = ifs_open(in->root, p, O_PATH | O_DIRECTORY, 0);
    if (fd >= 0 && !strchr(o, 'n')) {
        close(fd);
        snprintf(to, sizeof to, "%s/%s", p, base); /* into the directory */
    } else {
        if (fd >= 0) {
            close(fd);
        }
        snprintf(to, sizeof to, "%s", p);
    }
    int rc = ifs_symlink(in->root, target, to, strchr(o, 'f') != NULL);
    if (rc == -EEXIST) {
        ip_done(in, c, 0, "exists");
        return 0;
    }
    ip_done(in, c, rc, NULL);
    return rc;
}

/* echo's and printf's escapes (\n \t \\ \0NNN); 1 at \c (stop). */
static int unescape(const char *s, char *out, size_t cap, size_t *n)
{
    for (; *s && *n + 1 < cap; s++) {
        if (*s != '\\' || !s[1]) {
            out[(*n)++] = *s;
            continue;
        }
        s++;
        switch (*s) {
        case 'n': out[(*n)++] = '\n'; break;
        case 't': out[(*n)++] = '\t'; break;
        case 'r': out[(*n)++] = '\r'; break;
        case '\\': out[(*n)++] = '\\'; break;
        case 'c': return 1;
        case '0': {
            int v = 0, k = 0;
            while (k < 3 && s[1] >= '0' && s[1] <= '7') {
                v = v * 8 + (*++s - '0');
                k++;
            }
            out[(*n)++] = (char)v;
            break;
        }
        default: out[(*n)++] = '\\'; out[(*n)++] = *s;
        }
    }
    return 0;
}

int icmd_output(struct interp *in, struct cmd *c, const char *cmd)
{
    static char buf[65536];
    size_t n = 0;
    int i = 1;
    char p[PATH_MAX];

    if (!strcmp(cmd, "echo")) {
        int nl = 1, esc = 0;
        for (; i < c->n && c->w[i][0] == '-' && strspn(c->w[i] + 1, "neE") &&
               !c->w[i][1 + strspn(c->w[i] + 1, "neE")];
             i++) {
            nl &= !strchr(c->w[i], 'n');
            esc |= strchr(c->w[i], 'e') != NULL;
        }
        for (int k = i; k < c->n; k++) {
            if (k > i && n + 1 < sizeof buf) {
                buf[n++] = ' ';
            }
            if (esc) {
                if (unescape(c->w[k], buf, sizeof buf, &n)) {
                    nl = 0;
                    break;
                }
            } else {
                n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", c->w[k]);
            }
        }
        if (nl && n + 1 < sizeof buf) {
            buf[n++] = '\n';
        }
    } else { /* printf FORMAT [ARG...]: %s %d %% and the escapes */
        if (c->n < 2) {
            ip_done(in, c, -EINVAL, NULL);
            return -EINVAL;
        }
        char fmt[PATH_MAX];
        size_t fl = 0;
        int a = 2;
        unescape(c->w[1], fmt, sizeof fmt, &fl);
        fmt[fl] = 0;
        for (size_t k = 0; k < fl && n + 1 < sizeof buf; k++) {
            if (fmt[k] == '%' && k + 1 < fl) {
                k++;
                if (fmt[k] == '%') {
                    buf[n++] = '%';
                } else {
                    const char *arg = a < c->n ? c->w[a++] : "";
                    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", arg);
                }
            } else {
                buf[n++] = fmt[k];
            }
        }
    }
    if (n > sizeof buf - 1) {
        n = sizeof buf - 1;
    }
    if (!c->redir) {
        return 0; /* to the console: nothing to replay */
    }
    ip_path(in, c->redir, p);
    if (!strcmp(p, "/dev/null") || !strncmp(p, "/dev/console", 12) ||
        !strncmp(p, "/proc/", 6) || !strncmp(p, "/sys/", 5)) {
        ip_skip(in, c, "hardware");
        return 0;
    }
    int rc = ifs_write(in->root, p, buf, n, c->append);
    ip_done(in, c, rc, NULL);
    return rc;
}

int icmd_cat(struct interp *in, struct cmd *c)
{
    char p[PATH_MAX], out[PATH_MAX];
    if (!c->redir) {
        return 0;
    }
    ip_path(in, c->redir, out);
    if (c->body && c->n == 1) { /* cat > FILE <<EOF */
        int rc = ifs_write(in->root, out, c->body, strlen(c->body), c->append);
        ip_done(in, c, rc, NULL);
        return rc;
    }
    int rc = 0, first = 1;
    for (int i = 1; i < c->n && rc == 0; i++, first = 0) {
        ip_path(in, c->w[i], p);
        int fd = ifs_open(in->root, p, O_RDONLY, 0);
        if (fd < 0) {
            rc = fd;
            break;
        }
        char buf[65536];
        ssize_t r;
        int append = c->append || !first;
        if (!append) {
            rc = ifs_write(in->root, out, "", 0, 0);
        }
        while (rc == 0 && (r = read(fd, buf, sizeof buf)) > 0) {
            rc = ifs_write(in->root, out, buf, (size_t)r, 1);
        }
        close(fd);
    }
    ip_done(in, c, rc, NULL);
    return rc;
}

int icmd_touch(struct interp *in, struct cmd *c)
{
    char o[32], p[PATH_MAX];
    int i = opts_of(c, o, sizeof o, NULL, NULL);
    int rc = 0;
    for (; i < c->n && rc == 0; i++) {
        ip_path(in, c->w[i], p);
        rc = ifs_touch(in->root, p);
    }
    ip_done(in, c, rc, NULL);
    return rc;
}

int icmd_chmod(struct interp *in, struct cmd *c)
{
    char p[PATH_MAX], *end;
    if (c->n < 3) {
        ip_done(in, c, -EINVAL, NULL);
        return -EINVAL;
    }
    unsigned long mode = strtoul(c->w[1], &end, 8);
    if (*end || mode > 07777) {
        ip_skip(in, c, "not understood: symbolic mode");
        return 0;
    }
    int rc = 0;
    for (int i = 2; i < c->n && rc == 0; i++) {
        ip_path(in, c->w[i], p);
        rc = ifs_chmod(in->root, p, (mode_t)mode);
    }
    ip_done(in, c, rc, NULL);
    return rc;
}

int icmd_mount(struct interp *in, struct cmd *c)
{
    const char *type = NULL;
    char p[PATH_MAX];
    int ops = 0;
    const char *dir = NULL;
    for (int i = 1; i < c->n; i++) {
        if (!strcmp(c->w[i], "-t") && i + 1 < c->n) {
            type = c->w[++i];
        } else if (!strcmp(c->w[i], "-o") && i + 1 < c->n) {
            i++;
        } else if (c->w[i][0] != '-') {
            dir = c->w[i];
            ops++;
        }
    }
    if (!type || (strcmp(type, "tmpfs") && strcmp(type, "ramfs")) || ops != 2) {
        ip_skip(in, c, "device or kernel filesystem");
        return 0;
    }
    ip_path(in, dir, p);
    int rc = ifs_mkdir_p(in->root, p, 0755);
    ip_done(in, c, rc, "an empty directory");
    return rc;
}

/* tar x[z|j]f ARCHIVE [-C DIR]: the host's GNU tar (it detects the
 * compression), on the archive and the directory as fds resolved in the
 * root; it strips leading / and refuses .. in names, and makes links that
 * point up or out only after the files (so none is written through). */
int icmd_tar(struct interp *in, struct cmd *c)
{
    const char *archive = NULL, *dir = ".", *ops = c->n > 1 ? c->w[1] : "";
    int x = 0;
    for (int i = 1; i < c->n; i++) {
        const char *w = c->w[i];
        if (!strcmp(w, "-C") && i + 1 < c->n) {
            dir = c->w[++i];
            continue;
        }
        if (w == ops || w[0] == '-') {
            x |= strchr(w, 'x') != NULL;
            if (strchr(w, 'f') && i + 1 < c->n) {
                archive = c->w[++i];
            }
        }
    }
    if (!x || !archive) {
        ip_skip(in, c, "not understood: only tar x[z|j]f ARCHIVE [-C DIR]");
        return 0;
    }
    char a[PATH_MAX], d[PATH_MAX];
    ip_path(in, archive, a);
    ip_path(in, dir, d);
    int rc = ifs_mkdir_p(in->root, d, 0755);
    int afd = ifs_open(in->root, a, O_RDONLY, 0);
    int dfd = rc < 0 ? rc : ifs_open(in->root, d, O_RDONLY | O_DIRECTORY, 0);
    if (afd < 0 || dfd < 0) {
        rc = afd < 0 ? afd : dfd;
    } else {
        pid_t pid = fork();
        if (pid == 0) {
            char cdir[64], file[64];
            snprintf(cdir, sizeof cdir, "/proc/self/fd/%d", dfd);
            snprintf(file, sizeof file, "/proc/self/fd/%d", afd);
            int null = open("/dev/null", O_RDWR);
            dup2(null, 0);
            dup2(null, 1);
            /* the fds survive exec: dirfd_open set O_CLOEXEC */
            fcntl(afd, F_SETFD, 0);
            fcntl(dfd, F_SETFD, 0);
            execlp("tar", "tar", "-x", "-f", file, "-C", cdir,
                   "--no-overwrite-dir", (char *)NULL);
            _exit(127);
        }
        int st;
        rc = pid < 0 || waitpid(pid, &st, 0) < 0     ? -errno
             : WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0
                                                     : -EIO;
    }
    if (afd >= 0) {
        close(afd);
    }
    if (dfd >= 0) {
        close(dfd);
    }
    ip_done(in, c, rc, NULL);
    return rc;
}
