/*
 * The rules tree's declarative preparation, RULES/config/prepare.conf
 * (docs/mount.md, "The preparation file"): directories, copies, files with
 * content and symlinks a user wants in the tree before the service starts.
 * Every entry leaves an existing name as it is, so a rerun changes
 * nothing.  The whole file is checked before anything is made: a bad line
 * is an error naming file:line, and nothing is applied (init_replay
 * checks the file before the replay too).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "init_fs.h"
#include "init_replay.h"

#define PREP_FILE "config/prepare.conf"

struct entry {
    char kind[8];
    char a[PATH_MAX], b[PATH_MAX]; /* paths, or the file's content in b */
    size_t blen;
    mode_t mode;
};

/* The next blank-separated word of *p, or NULL. */
static char *word(char **p)
{
    *p += strspn(*p, " \t");
    if (!**p) {
        return NULL;
    }
    char *w = *p;
    *p += strcspn(*p, " \t");
    if (**p) {
        *(*p)++ = 0;
    }
    return w;
}

/* \n \t \\ in a file's content. */
static size_t unescape(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 1 < cap; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            out[n++] = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
        } else {
            out[n++] = *s;
        }
    }
    out[n] = 0;
    return n;
}

/* Parses one line; NULL, or what is wrong with it. */
static const char *parse(char *line, struct entry *e)
{
    char *p = line;
    char *kind = word(&p);
    char *a = word(&p);

    memset(e, 0, sizeof *e);
    snprintf(e->kind, sizeof e->kind, "%s", kind);
    if (!a) {
        return "a path is missing";
    }
    if (a[0] != '/') {
        return "paths are absolute guest paths";
    }
    snprintf(e->a, sizeof e->a, "%s", a);
    if (!strcmp(kind, "dir")) {
        char *m = word(&p), *end;
        e->mode = 0755;
        if (m) {
            unsigned long v = strtoul(m, &end, 8);
            if (*end || v > 07777) {
                return "the mode is not an octal number";
            }
            e->mode = (mode_t)v;
        }
        return word(&p) ? "too many words (dir PATH [MODE])" : NULL;
    }
    if (!strcmp(kind, "file")) {
        p += strspn(p, " \t");
        e->blen = unescape(p, e->b, sizeof e->b);
        return NULL;
    }
    if (!strcmp(kind, "copy") || !strcmp(kind, "symlink")) {
        char *b = word(&p);
        if (!b) {
            return !strcmp(kind, "copy")
                       ? "copy FROM TO: TO is missing"
                       : "symlink TARGET LINK: LINK is missing";
        }
        if (b[0] != '/') {
            return "paths are absolute guest paths";
        }
        if (word(&p)) {
            return "too many words";
        }
        /* symlink: a = target, b = the link */
        snprintf(e->b, sizeof e->b, "%s", b);
        return NULL;
    }
    return "unknown entry (expected dir, copy, file or symlink)";
}

static void apply(int root, const struct entry *e, struct init_report *r)
{
    struct stat st;
    int rc;

    if (!strcmp(e->kind, "dir")) {
        if (ifs_lstat(root, e->a, &st) == 0) {
            init_say(r, INIT_NOTE, "prepare: dir %s (exists)", e->a);
            return;
        }
        rc = ifs_mkdir_p(root, e->a, 0755);
        if (rc == 0) {
            rc = ifs_chmod(root, e->a, e->mode);
        }
        init_say(r, rc < 0 ? INIT_ERROR : INIT_ACTION,
                 "prepare: dir %s %04o%s%s", e->a, (unsigned)e->mode,
                 rc < 0 ? ": " : "", rc < 0 ? strerror(-rc) : "");
    } else if (!strcmp(e->kind, "file")) {
        if (ifs_lstat(root, e->a, &st) == 0) {
            init_say(r, INIT_NOTE, "prepare: file %s (exists)", e->a);
            return;
        }
        rc = ifs_write(root, e->a, e->b, e->blen, 0);
        init_say(r, rc < 0 ? INIT_ERROR : INIT_ACTION,
                 "prepare: file %s (%zu bytes)%s%s", e->a, e->blen,
                 rc < 0 ? ": " : "", rc < 0 ? strerror(-rc) : "");
    } else if (!strcmp(e->kind, "symlink")) {
        if (ifs_lstat(root, e->b, &st) == 0) {
            init_say(r, INIT_NOTE, "prepare: symlink %s -> %s (exists)", e->b,
                     e->a);
            return;
        }
        rc = ifs_symlink(root, e->a, e->b, 0);
        init_say(r, rc < 0 ? INIT_ERROR : INIT_ACTION,
                 "prepare: symlink %s -> %s%s%s", e->b, e->a,
                 rc < 0 ? ": " : "", rc < 0 ? strerror(-rc) : "");
    } else {
        struct ifs_copy how = { .recursive = 1,
                                .preserve = 1,
                                .no_clobber = 1 };
        rc = ifs_copy(root, e->a, e->b, &how);
        if (rc == 0 && !how.copied) {
            init_say(r, INIT_NOTE, "prepare: copy %s %s (exists)", e->a, e->b);
            return;
        }
        init_say(r, rc < 0 ? INIT_ERROR : INIT_ACTION,
                 "prepare: copy %s %s (%d copied, %d kept)%s%s", e->a, e->b,
                 how.copied, how.kept, rc < 0 ? ": " : "",
                 rc < 0 ? strerror(-rc) : "");
    }
}

int init_prepare(int root, const char *rules_dir, struct init_report *r)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", rules_dir, PREP_FILE);
    FILE *f = fopen(path, "re");
    if (!f) {
        return errno == ENOENT ? 0 : -errno;
    }
    struct entry *es = NULL;
    size_t n = 0;
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        char *s = line + strspn(line, " \t");
        if (!*s || *s == '#') {
            continue;
        }
        struct entry *ne = realloc(es, (n + 1) * sizeof *es);
        if (!ne) {
            rc = -ENOMEM;
            break;
        }
        es = ne;
        const char *err = parse(s, &es[n]);
        if (err) {
            fprintf(stderr, "sfemu-mount: %s:%d: %s\n", path, lineno, err);
            rc = -EINVAL;
            break;
        }
        n++;
    }
    free(line);
    fclose(f);
    for (size_t i = 0; r && rc == 0 && i < n; i++) {
        apply(root, &es[i], r);
    }
    free(es);
    return rc;
}
