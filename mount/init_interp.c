/*
 * The interpreter engine of --init: where the firmware's shell cannot run,
 * the simple commands of an init script are replayed line by line (mkdir,
 * cp, ln -s, echo/printf/cat with > and >>, touch, chmod, mount of a
 * tmpfs, tar x, cd, variables), with if/elif/else/fi, && and || decided by
 * `[ ... ]` tests on the root.  Loops, case and functions are skipped
 * whole; a line it does not understand is reported as skipped, and so is
 * every hardware step.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "init_fs.h"
#include "init_replay.h"

#define MAX_WORDS 128
#define MAX_VARS 128
#define MAX_DEPTH 4
#define MAX_IFS 32

/* The control flow of one script. */
enum { IF_RUN, IF_WAIT, IF_DONE }; /* branch taken, none yet, all done */
struct flow {
    unsigned char if_st[MAX_IFS]; /* one per open if */
    int ifs;
    int skip_nest;         /* > 0: inside a skipped loop, case, function */
    const char *skip_end;  /* the word that closes it */
    const char *skip_open; /* the word that opens one more (or NULL) */
    int stop;              /* exit */
};

struct interp {
    int root;
    struct init_report *r;
    char cwd[PATH_MAX];
    char *var_name[MAX_VARS], *var_val[MAX_VARS];
    int nvars;
    int depth;
    struct flow *flow;
    int last; /* the last command's status: 0, 1, or -1 (not known) */
};

struct cmd {
    char *w[MAX_WORDS];
    unsigned char glob[MAX_WORDS]; /* an unquoted * ? [ in the word */
    int n;
    char *redir; /* > or >> target */
    int append;
    const char *why_not; /* set when the command cannot be replayed */
    const char *rest;    /* the line after a |: not replayed */
    char next;           /* what follows: '&' (&&), '|' (||) or 0 */
    char *heredoc;       /* << WORD: the delimiter, then the body */
    int heredoc_quoted;  /* << 'WORD': no expansion in the body */
    char *body;
};

static const char *var_get(struct interp *in, const char *name)
{
    for (int i = 0; i < in->nvars; i++) {
        if (!strcmp(in->var_name[i], name)) {
            return in->var_val[i];
        }
    }
    return "";
}

static void var_set(struct interp *in, const char *name, const char *val)
{
    for (int i = 0; i < in->nvars; i++) {
        if (!strcmp(in->var_name[i], name)) {
            free(in->var_val[i]);
            in->var_val[i] = strdup(val);
            return;
        }
    }
    if (in->nvars < MAX_VARS) {
        in->var_name[in->nvars] = strdup(name);
        in->var_val[in->nvars++] = strdup(val);
    }
}

/* ------------------------------------------------------------ parsing */

struct word {
    char buf[PATH_MAX];
    size_t len;
    int started, glob;
};

static void put(struct word *w, char c)
{
    if (w->len + 1 < sizeof w->buf) {
        w->buf[w->len++] = c;
    }
    w->started = 1;
}

/* $NAME or ${NAME} at *pp (after the $): appends the value. */
static void expand(struct interp *in, const char **pp, struct word *w,
                   struct cmd *c)
{
    const char *p = *pp;
    char name[128];
    size_t n = 0;

    if (*p == '(') {
        c->why_not = "not understood: command substitution";
        return;
    }
    int brace = *p == '{';
    p += brace;
    while ((isalnum((unsigned char)*p) || *p == '_') && n + 1 < sizeof name) {
        name[n++] = *p++;
        if (n == 1 && isdigit((unsigned char)name[0])) {
            break; /* $1: a positional parameter */
        }
    }
    name[n] = 0;
    if (brace) {
        if (*p != '}') {
            c->why_not = "not understood: parameter expansion";
            return;
        }
        p++;
    }
    if (!n) {
        put(w, '$');
    }
    for (const char *v = var_get(in, name); n && *v; v++) {
        put(w, *v);
    }
    *pp = p;
}

/* Splits the next command off *pp (at ; && || & or the end of the
 * line).  Returns 0 at the end of the line. */
static int parse_cmd(struct interp *in, const char **pp, struct cmd *c)
{
    const char *p = *pp;
    struct word w = { .len = 0 };
    int redir_next = 0, ignore_next = 0;

    memset(c, 0, sizeof *c);
    p += strspn(p, " \t");
    if (!*p || *p == '#') {
        *pp = p + strlen(p);
        return 0;
    }
    for (;;) {
        char ch = *p;
        int end = !ch || ch == ' ' || ch == '\t' || ch == ';' || ch == '&' ||
                  ch == '|' || ch == '>' || ch == '<' || ch == '\n';
        if (ch == '#' && !w.started) {
            end = 1;
        }
        if (end && w.started) {
            w.buf[w.len] = 0;
            if (ignore_next) {
                ignore_next = 0;
            } else if (redir_next) {
                c->redir = strdup(w.buf);
                redir_next = 0;
            } else if (c->n < MAX_WORDS) {
                c->glob[c->n] = (unsigned char)w.glob;
                c->w[c->n++] = strdup(w.buf);
            }
            memset(&w, 0, sizeof w);
        }
        if (!ch || ch == '\n' || (ch == '#' && !w.started)) {
            *pp = p + strlen(p);
            break;
        }
        if (ch == ' ' || ch == '\t') {
            p++;
            continue;
        }
        if (ch == ';' || ch == '&' || ch == '|') {
            if (ch == '|' && p[1] != '|') { /* a | b: not replayed */
                c->why_not = "not understood: pipe";
                c->rest = p;
                *pp = p + strlen(p);
                break;
            }
            if (p[1] == ch && ch != ';') {
                c->next = ch; /* && or || */
            }
            p += (p[1] == ch) ? 2 : 1;
            *pp = p;
            break;
        }
        if (ch == '<' && p[1] == '<') { /* a here-document */
            p += 2 + (p[2] == '-');
            p += strspn(p, " \t");
            char delim[256];
            size_t n = 0;
            for (; *p && !strchr(" \t;&|<>", *p); p++) {
                if (*p == '\'' || *p == '"' || *p == '\\') {
                    c->heredoc_quoted = 1;
                } else if (n + 1 < sizeof delim) {
                    delim[n++] = *p;
                }
            }
            delim[n] = 0;
            free(c->heredoc);
            c->heredoc = strdup(delim);
            continue;
        }
        if (ch == '>' || ch == '<') {
            /* 2>file, 2>&1, >/dev/null: output nobody reads */
            int fd2 =
                w.started && w.len == 1 && isdigit((unsigned char)w.buf[0]);
            if (fd2) {
                memset(&w, 0, sizeof w);
            }
            if (ch == '>' && p[1] == '&') {
                p += 2;
                while (isdigit((unsigned char)*p)) {
                    p++;
                }
                continue;
            }
            if (ch == '<' || fd2) {
                ignore_next = 1;
            } else {
                redir_next = 1;
                c->append = p[1] == '>';
            }
            p += (p[1] == '>') ? 2 : 1;
            continue;
        }
        if (ch == '\'') {
            const char *q = strchr(p + 1, '\'');
            if (!q) {
                c->why_not = "not understood: unterminated quote";
                q = p + strlen(p) - 1;
            }
            for (p++; p < q; p++) {
                put(&w, *p);
            }
            w.started = 1;
            p = q + 1;
            continue;
        }
        if (ch == '"') {
            w.started = 1;
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && strchr("\"\\$`", p[1])) {
                    put(&w, *++p);
                } else if (*p == '$') {
                    p++;
                    expand(in, &p, &w, c);
                    p--;
                } else if (*p == '`') {
                    c->why_not = "not understood: command substitution";
                } else {
                    put(&w, *p);
                }
            }
            p += *p == '"';
            continue;
        }
        if (ch == '\\' && p[1]) {
            put(&w, p[1]);
            p += 2;
            continue;
        }
        if (ch == '$') {
            p++;
            expand(in, &p, &w, c);
            continue;
        }
        if (ch == '`') {
            c->why_not = "not understood: command substitution";
        }
        if (ch == '*' || ch == '?' || ch == '[') {
            w.glob = 1;
        }
        put(&w, ch);
        p++;
    }
    return 1;
}

static void free_cmd(struct cmd *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->w[i]);
    }
    free(c->redir);
    free(c->heredoc);
    free(c->body);
}

/* The body of a here-document, up to its delimiter line, from f; $NAME
 * expanded unless the delimiter was quoted. */
static void read_heredoc(struct interp *in, struct cmd *c, FILE *f)
{
    char *line = NULL, *body = NULL;
    size_t cap = 0, len = 0;
    ssize_t n;
    while (f && (n = getline(&line, &cap, f)) > 0) {
        line[strcspn(line, "\n")] = 0;
        const char *l = line + strspn(line, "\t"); /* <<- strips tabs */
        if (!strcmp(l, c->heredoc) || !strcmp(line, c->heredoc)) {
            break;
        }
        struct word w = { .len = 0 };
        for (const char *p = line; *p;) {
            if (*p == '$' && !c->heredoc_quoted) {
                p++;
                expand(in, &p, &w, c);
            } else {
                put(&w, *p++);
            }
        }
        put(&w, '\n');
        char *nb = realloc(body, len + w.len + 1);
        if (!nb) {
            break;
        }
        body = nb;
        memcpy(body + len, w.buf, w.len);
        len += w.len;
        body[len] = 0;
    }
    free(line);
    c->body = body ? body : strdup("");
}

/* A word's guest path (relative to the script's cwd). */
static void path_of(struct interp *in, const char *w, char *out)
{
    ifs_join(in->cwd, w, out, PATH_MAX);
}

/* Expands an unquoted pattern in the last name of word i, in place. */
static void glob_word(struct interp *in, struct cmd *c, int i)
{
    char dir[PATH_MAX], full[PATH_MAX];
    char *names[MAX_WORDS];
    int nn = 0;

    path_of(in, c->w[i], full);
    char *slash = strrchr(full, '/');
    const char *pat = slash + 1;
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - full), full);
    if (strpbrk(dir, "*?[")) {
        return; /* a pattern before the last name: left as it is */
    }
    int fd = ifs_open(in->root, dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY, 0);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)) && nn < MAX_WORDS) {
        if (e->d_name[0] != '.' && !fnmatch(pat, e->d_name, 0)) {
            names[nn++] = strdup(e->d_name);
        }
    }
    if (d) {
        closedir(d);
    } else if (fd >= 0) {
        close(fd);
    }
    if (!nn || c->n + nn - 1 > MAX_WORDS) {
        for (int k = 0; k < nn; k++) {
            free(names[k]);
        }
        return; /* no match: the word stays, as in sh */
    }
    for (int a = 1; a < nn; a++) { /* sh sorts the matches */
        for (int b = a; b > 0 && strcmp(names[b - 1], names[b]) > 0; b--) {
            char *t = names[b];
            names[b] = names[b - 1];
            names[b - 1] = t;
        }
    }
    free(c->w[i]);
    memmove(&c->w[i + nn], &c->w[i + 1], sizeof(char *) * (c->n - i - 1));
    memmove(&c->glob[i + nn], &c->glob[i + 1], (size_t)(c->n - i - 1));
    for (int k = 0; k < nn; k++) {
        char p[PATH_MAX * 2];
        snprintf(p, sizeof p, "%s/%s", dir, names[k]);
        c->w[i + k] = strdup(p);
        c->glob[i + k] = 0;
        free(names[k]);
    }
    c->n += nn - 1;
}

/* --------------------------------------------------------- reporting */

static void cmd_text(const struct cmd *c, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i < c->n && n < cap; i++) {
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? " " : "", c->w[i]);
    }
    if (c->redir && n < cap) {
        n += (size_t)snprintf(out + n, cap - n, " %s %s",
                              c->append ? ">>" : ">", c->redir);
    }
    if (c->heredoc && n < cap) {
        n += (size_t)snprintf(out + n, cap - n, " <<%s", c->heredoc);
    }
    if (c->rest && c->why_not && n < cap) {
        snprintf(out + n, cap - n, " %s", c->rest); /* the whole pipe */
    }
}

static void done(struct interp *in, const struct cmd *c, int rc,
                 const char *note)
{
    char t[1024];
    cmd_text(c, t, sizeof t);
    in->last = rc < 0;
    if (rc < 0) {
        init_say(in->r, INIT_ERROR, "failed %s: %s", t, strerror(-rc));
    } else if (note) {
        init_say(in->r, INIT_ACTION, "%s (%s)", t, note);
    } else {
        init_say(in->r, INIT_ACTION, "%s", t);
    }
}

static void skipped(struct interp *in, const struct cmd *c, const char *why)
{
    char t[1024];
    cmd_text(c, t, sizeof t);
    init_say(in->r, INIT_SKIP, "skipped %s (%s)", t, why);
    /* a skipped hardware step "succeeds", as under the shell engine */
    in->last = !strcmp(why, "hardware") || !strcmp(why, "service") ? 0 : -1;
}

/* ---------------------------------------------------------- commands */

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

static int do_mkdir(struct interp *in, struct cmd *c)
{
    char o[32], p[PATH_MAX];
    const char *mode = NULL;
    int i = opts_of(c, o, sizeof o, "m", &mode);
    int rc = i < c->n ? 0 : -EINVAL;
    for (; i < c->n && rc == 0; i++) {
        path_of(in, c->w[i], p);
        rc = ifs_mkdir_p(in->root, p, 0755);
        if (rc == 0 && mode) {
            rc = ifs_chmod(in->root, p, (mode_t)strtoul(mode, NULL, 8));
        }
    }
    done(in, c, rc, NULL);
    return rc;
}

static int do_cp(struct interp *in, struct cmd *c)
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
        done(in, c, rc, NULL);
        return rc;
    }
    path_of(in, c->w[c->n - 1], dst);
    int dir_dst = ifs_open(in->root, dst, O_PATH | O_DIRECTORY, 0);
    if (dir_dst >= 0) {
        close(dir_dst);
    }
    for (; i < c->n - 1 && rc == 0; i++) {
        path_of(in, c->w[i], src);
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
    done(in, c, rc, NULL);
    return rc;
}

static int do_ln(struct interp *in, struct cmd *c)
{
    char o[32], p[PATH_MAX], to[PATH_MAX * 2];
    int i = opts_of(c, o, sizeof o, NULL, NULL);
    if (!strchr(o, 's')) {
        skipped(in, c, "not understood: hard link");
        return 0;
    }
    if (c->n - i != 2 && c->n - i != 1) {
        done(in, c, -EINVAL, NULL);
        return -EINVAL;
    }
    const char *target = c->w[i];
    const char *base = strrchr(target, '/');
    base = base ? base + 1 : target;
    path_of(in, c->n - i == 2 ? c->w[i + 1] : base, p);
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
        done(in, c, 0, "exists");
        return 0;
    }
    done(in, c, rc, NULL);
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

static int do_output(struct interp *in, struct cmd *c, const char *cmd)
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
            done(in, c, -EINVAL, NULL);
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
    path_of(in, c->redir, p);
    if (!strcmp(p, "/dev/null") || !strncmp(p, "/dev/console", 12) ||
        !strncmp(p, "/proc/", 6) || !strncmp(p, "/sys/", 5)) {
        skipped(in, c, "hardware");
        return 0;
    }
    int rc = ifs_write(in->root, p, buf, n, c->append);
    done(in, c, rc, NULL);
    return rc;
}

static int do_cat(struct interp *in, struct cmd *c)
{
    char p[PATH_MAX], out[PATH_MAX];
    if (!c->redir) {
        return 0;
    }
    path_of(in, c->redir, out);
    if (c->body && c->n == 1) { /* cat > FILE <<EOF */
        int rc = ifs_write(in->root, out, c->body, strlen(c->body), c->append);
        done(in, c, rc, NULL);
        return rc;
    }
    int rc = 0, first = 1;
    for (int i = 1; i < c->n && rc == 0; i++, first = 0) {
        path_of(in, c->w[i], p);
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
    done(in, c, rc, NULL);
    return rc;
}

static int do_touch(struct interp *in, struct cmd *c)
{
    char o[32], p[PATH_MAX];
    int i = opts_of(c, o, sizeof o, NULL, NULL);
    int rc = 0;
    for (; i < c->n && rc == 0; i++) {
        path_of(in, c->w[i], p);
        rc = ifs_touch(in->root, p);
    }
    done(in, c, rc, NULL);
    return rc;
}

static int do_chmod(struct interp *in, struct cmd *c)
{
    char p[PATH_MAX], *end;
    if (c->n < 3) {
        done(in, c, -EINVAL, NULL);
        return -EINVAL;
    }
    unsigned long mode = strtoul(c->w[1], &end, 8);
    if (*end || mode > 07777) {
        skipped(in, c, "not understood: symbolic mode");
        return 0;
    }
    int rc = 0;
    for (int i = 2; i < c->n && rc == 0; i++) {
        path_of(in, c->w[i], p);
        rc = ifs_chmod(in->root, p, (mode_t)mode);
    }
    done(in, c, rc, NULL);
    return rc;
}

static int do_mount(struct interp *in, struct cmd *c)
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
        skipped(in, c, "device or kernel filesystem");
        return 0;
    }
    path_of(in, dir, p);
    int rc = ifs_mkdir_p(in->root, p, 0755);
    done(in, c, rc, "an empty directory");
    return rc;
}

/* tar x[z|j]f ARCHIVE [-C DIR]: the host's GNU tar (it detects the
 * compression), on the archive and the directory as fds resolved in the
 * root; it strips leading / and refuses .. in names, and makes links that
 * point up or out only after the files (so none is written through). */
static int do_tar(struct interp *in, struct cmd *c)
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
        skipped(in, c, "not understood: only tar x[z|j]f ARCHIVE [-C DIR]");
        return 0;
    }
    char a[PATH_MAX], d[PATH_MAX];
    path_of(in, archive, a);
    path_of(in, dir, d);
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
    done(in, c, rc, NULL);
    return rc;
}

static int is_name(const char *s, size_t n)
{
    if (!n || isdigit((unsigned char)s[0])) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') {
            return 0;
        }
    }
    return 1;
}

static int run_file(struct interp *in, const char *path, int need_shebang);
static void run_line(struct interp *in, const char *line, FILE *f);

/* A file test of [ ] on a guest path: 0 true, 1 false. */
static int file_test(struct interp *in, char op, const char *w)
{
    char p[PATH_MAX];
    struct stat st;
    path_of(in, w, p);
    if (op == 'L' || op == 'h') {
        return !(ifs_lstat(in->root, p, &st) == 0 && S_ISLNK(st.st_mode));
    }
    int fd = ifs_open(in->root, p, O_PATH, 0);
    int ok = fd >= 0 && fstat(fd, &st) == 0;
    if (fd >= 0) {
        close(fd);
    }
    if (!ok) {
        return 1;
    }
    switch (op) {
    case 'f': return !S_ISREG(st.st_mode);
    case 'd': return !S_ISDIR(st.st_mode);
    case 'c': return !S_ISCHR(st.st_mode);
    case 'b': return !S_ISBLK(st.st_mode);
    case 'p': return !S_ISFIFO(st.st_mode);
    case 'S': return !S_ISSOCK(st.st_mode);
    case 's': return !(st.st_size > 0);
    case 'x': return !(st.st_mode & 0111);
    default: return 0; /* -e -r -w: it exists (the replay runs as root) */
    }
}

/* [ EXPR ] / test EXPR with n words: 0 true, 1 false, -1 not understood
 * (-a, -o, parentheses). */
static int eval_test(struct interp *in, char **w, int n)
{
    if (n > 0 && !strcmp(w[0], "!")) {
        int r = eval_test(in, w + 1, n - 1);
        return r < 0 ? r : !r;
    }
    if (n == 0) {
        return 1;
    }
    if (n == 1) {
        return !w[0][0];
    }
    if (n == 2 && w[0][0] == '-' && w[0][1] && !w[0][2]) {
        if (w[0][1] == 'z' || w[0][1] == 'n') {
            return (w[0][1] == 'z') == !w[1][0] ? 0 : 1;
        }
        if (strchr("efdLhrwxscbpS", w[0][1])) {
            return file_test(in, w[0][1], w[1]);
        }
        return -1;
    }
    if (n == 3) {
        const char *op = w[1];
        if (!strcmp(op, "=") || !strcmp(op, "==")) {
            return strcmp(w[0], w[2]) != 0;
        }
        if (!strcmp(op, "!=")) {
            return strcmp(w[0], w[2]) == 0;
        }
        static const char *const num[] = { "-eq", "-ne", "-lt",
                                           "-gt", "-le", "-ge" };
        long a = strtol(w[0], NULL, 10), b = strtol(w[2], NULL, 10);
        int res[] = { a == b, a != b, a<b, a> b, a <= b, a >= b };
        for (int i = 0; i < 6; i++) {
            if (!strcmp(op, num[i])) {
                return !res[i];
            }
        }
    }
    return -1;
}

/* The status of a condition command (if, elif): [ ], test, true, false,
 * !; -1 for any other. */
static int eval_cond(struct interp *in, char **w, int n)
{
    if (n > 0 && !strcmp(w[0], "!")) {
        int r = eval_cond(in, w + 1, n - 1);
        return r < 0 ? r : !r;
    }
    if (n > 0 && !strcmp(w[0], "[")) {
        return n > 1 && !strcmp(w[n - 1], "]") ? eval_test(in, w + 1, n - 2)
                                               : -1;
    }
    if (n > 0 && !strcmp(w[0], "test")) {
        return eval_test(in, w + 1, n - 1);
    }
    if (n == 1 && (!strcmp(w[0], "true") || !strcmp(w[0], ":"))) {
        return 0;
    }
    if (n == 1 && !strcmp(w[0], "false")) {
        return 1;
    }
    return -1;
}

static int flow_active(const struct flow *fl)
{
    for (int i = 0; i < fl->ifs; i++) {
        if (fl->if_st[i] != IF_RUN) {
            return 0;
        }
    }
    return 1;
}

/* Drops the first k words of c (a keyword before a command). */
static void shift_words(struct cmd *c, int k)
{
    for (int i = 0; i < k; i++) {
        free(c->w[i]);
    }
    memmove(c->w, c->w + k, sizeof(char *) * (size_t)(c->n - k));
    memmove(c->glob, c->glob + k, (size_t)(c->n - k));
    c->n -= k;
}

static void run_cmd(struct interp *in, struct cmd *c);

/* Control flow; 1 when c was a flow word (or inside a skipped block) and
 * is done with, 0 when it is a command to run (keywords taken off). */
static int flow_step(struct interp *in, struct cmd *c)
{
    struct flow *fl = in->flow;
    const char *w0 = c->n ? c->w[0] : "";
    int loop =
        !strcmp(w0, "for") || !strcmp(w0, "while") || !strcmp(w0, "until");
    if (fl->skip_nest) {
        if (!strcmp(fl->skip_end, "done") ? loop : !strcmp(w0, fl->skip_open)) {
            fl->skip_nest++;
        } else if (!strcmp(w0, fl->skip_end)) {
            fl->skip_nest--;
        }
        return 1;
    }
    const char *end = NULL, *open = NULL, *what = NULL;
    size_t l0 = strlen(w0);
    if (loop) {
        end = "done", what = "a loop (up to done)";
    } else if (!strcmp(w0, "case")) {
        end = "esac", open = "case", what = "case (up to esac)";
    } else if (!strcmp(w0, "function") ||
               (l0 > 2 && !strcmp(w0 + l0 - 2, "()")) ||
               (c->n > 1 && !strcmp(c->w[1], "()")) || !strcmp(w0, "{")) {
        end = "}", open = "{", what = "a function or { } group (up to })";
    }
    if (end) {
        fl->skip_nest = 1;
        fl->skip_end = end;
        fl->skip_open = open;
        if (flow_active(fl)) {
            char why[96];
            snprintf(why, sizeof why, "not understood: %s", what);
            skipped(in, c, why);
        }
        return 1;
    }
    if (!strcmp(w0, "if") || !strcmp(w0, "elif")) {
        int elif = w0[0] == 'e';
        if (elif && !fl->ifs) {
            skipped(in, c, "not understood: elif without if");
            return 1;
        }
        if (!elif && fl->ifs == MAX_IFS) {
            skipped(in, c, "not understood: if nested too deep");
            return 1;
        }
        int outer_active = flow_active(fl); /* before a new level */
        unsigned char *st = &fl->if_st[elif ? fl->ifs - 1 : fl->ifs++];
        if (elif ? *st != IF_WAIT : !outer_active) {
            *st = IF_DONE; /* an if inside a branch not taken is all off */
            return 1;
        }
        int r = eval_cond(in, c->w + 1, c->n - 1);
        if (r < 0) {
            skipped(in, c, "not understood: the condition; the whole if");
            *st = IF_DONE;
            return 1;
        }
        *st = r == 0 ? IF_RUN : IF_WAIT;
        return 1;
    }
    if (!strcmp(w0, "then") || !strcmp(w0, "else") || !strcmp(w0, "fi")) {
        if (!fl->ifs) {
            skipped(in, c, "not understood: no if is open");
            return 1;
        }
        unsigned char *st = &fl->if_st[fl->ifs - 1];
        if (w0[0] == 'f') {
            fl->ifs--;
            return 1;
        }
        if (w0[0] == 'e') {
            *st = *st == IF_WAIT ? IF_RUN : IF_DONE;
        }
        shift_words(c, 1); /* then CMD, else CMD */
        return c->n == 0 || !flow_active(fl);
    }
    if (!flow_active(fl)) {
        return 1; /* a branch not taken */
    }
    return 0;
}

/* ". FILE", "sh FILE", "sh -c COMMAND": replayed the same way (a
 * sourced file shares the variables, as in sh). */
static void run_shell(struct interp *in, struct cmd *c, const char *cmd)
{
    char p[PATH_MAX];
    int i = 1;
    while (i < c->n && c->w[i][0] == '-' && strcmp(c->w[i], "-c")) {
        i++; /* sh -e, -x ... */
    }
    if (i >= c->n || in->depth >= MAX_DEPTH) {
        skipped(in, c,
                i >= c->n ? "not understood: an interactive shell"
                          : "scripts nested too deep");
        return;
    }
    if (!strcmp(c->w[i], "-c") && cmd[0] != '.' && i + 1 < c->n) {
        struct flow fl = { .ifs = 0 }, *outer = in->flow;
        init_say(in->r, INIT_NOTE, "running %s -c %s", cmd, c->w[i + 1]);
        in->flow = &fl;
        in->depth++;
        run_line(in, c->w[i + 1], NULL);
        in->depth--;
        in->flow = outer;
        return;
    }
    path_of(in, c->w[i], p);
    init_say(in->r, INIT_NOTE, "running %s", p);
    int rc = run_file(in, p, 0);
    if (rc < 0) {
        done(in, c, rc, NULL);
    }
}

static void run_cmd(struct interp *in, struct cmd *c)
{
    static const char *const flow[] = { "do",   "done",   "esac",  "}",
                                        "[[",   "return", "break", "continue",
                                        "wait", "trap",   "set",   "shift",
                                        "read", "eval",   "exec",  NULL };
    /* NAME=value words before the command; alone, they set variables */
    int first = 0;
    while (first < c->n) {
        char *eq = strchr(c->w[first], '=');
        if (!eq || !is_name(c->w[first], (size_t)(eq - c->w[first]))) {
            break;
        }
        *eq = 0;
        var_set(in, c->w[first], eq + 1);
        *eq = '=';
        first++;
    }
    in->last = 0;
    if (first == c->n) {
        return;
    }
    if (first > 0) { /* X=1 cmd: the command as if alone */
        for (int i = 0; i < first; i++) {
            free(c->w[i]);
        }
        memmove(c->w, c->w + first, sizeof(char *) * (c->n - first));
        memmove(c->glob, c->glob + first, (size_t)(c->n - first));
        c->n -= first;
    }
    if (c->why_not) {
        skipped(in, c, c->why_not);
        return;
    }
    for (int i = 1; i < c->n; i++) {
        if (c->glob[i]) {
            glob_word(in, c, i);
        }
    }
    const char *cmd = strrchr(c->w[0], '/');
    cmd = cmd ? cmd + 1 : c->w[0];
    if (!strcmp(cmd, "busybox") && c->n > 1) {
        free(c->w[0]);
        memmove(c->w, c->w + 1, sizeof(char *) * (size_t)(--c->n));
        cmd = c->w[0];
    }
    const char *why = init_skip_reason(cmd);
    if (why) {
        skipped(in, c, why);
        return;
    }
    if (!strcmp(cmd, "[") || !strcmp(cmd, "test") || !strcmp(cmd, "true") ||
        !strcmp(cmd, ":") || !strcmp(cmd, "false") || !strcmp(cmd, "!")) {
        in->last = eval_cond(in, c->w, c->n);
        if (in->last < 0) {
            skipped(in, c, "not understood: test");
        }
    } else if (!strcmp(cmd, "exit")) {
        in->flow->stop = 1;
    } else if (!strcmp(cmd, "export") || !strcmp(cmd, "local")) {
        for (int i = 1; i < c->n; i++) {
            char *eq = strchr(c->w[i], '=');
            if (eq && is_name(c->w[i], (size_t)(eq - c->w[i]))) {
                *eq = 0;
                var_set(in, c->w[i], eq + 1);
            }
        }
    } else if (!strcmp(cmd, ".") || !strcmp(cmd, "source") ||
               !strcmp(cmd, "sh") || !strcmp(cmd, "ash") ||
               !strcmp(cmd, "bash")) {
        run_shell(in, c, cmd);
    } else if (!strcmp(cmd, "cd")) {
        char p[PATH_MAX];
        path_of(in, c->n > 1 ? c->w[1] : "/", p);
        snprintf(in->cwd, sizeof in->cwd, "%s", p);
    } else if (!strcmp(cmd, "mkdir")) {
        do_mkdir(in, c);
    } else if (!strcmp(cmd, "cp")) {
        do_cp(in, c);
    } else if (!strcmp(cmd, "ln")) {
        do_ln(in, c);
    } else if (!strcmp(cmd, "echo") || !strcmp(cmd, "printf")) {
        do_output(in, c, cmd);
    } else if (!strcmp(cmd, "cat")) {
        do_cat(in, c);
    } else if (!strcmp(cmd, "touch")) {
        do_touch(in, c);
    } else if (!strcmp(cmd, "chmod")) {
        do_chmod(in, c);
    } else if (!strcmp(cmd, "mount")) {
        do_mount(in, c);
    } else if (!strcmp(cmd, "tar")) {
        do_tar(in, c);
    } else {
        for (int i = 0; flow[i]; i++) {
            if (!strcmp(cmd, flow[i])) {
                skipped(in, c, "not understood: shell control flow");
                return;
            }
        }
        char p[PATH_MAX];
        struct stat st;
        path_of(in, c->w[0], p);
        if (strchr(c->w[0], '/') && ifs_lstat(in->root, p, &st) == 0 &&
            in->depth < MAX_DEPTH) {
            /* another script: replayed the same way */
            if (run_file(in, p, 1) == 0) {
                return;
            }
        }
        skipped(in, c, "not understood");
    }
}

/* Runs the commands of one line; f (or NULL) has the lines after it, for
 * a here-document's body. */
static void run_line(struct interp *in, const char *line, FILE *f)
{
    const char *p = line;
    struct cmd c;
    char conn = 0;
    while (*p) {
        if (parse_cmd(in, &p, &c)) {
            if (c.heredoc) {
                read_heredoc(in, &c, f);
                if ((!c.n || strcmp(c.w[0], "cat")) && !c.why_not) {
                    c.why_not = "not understood: a here-document";
                }
            }
            if (in->flow->stop || flow_step(in, &c)) {
                /* a flow word, a skipped block or a branch not taken */
            } else if ((conn == '&' && in->last == 1) ||
                       (conn == '|' && in->last == 0)) {
                /* a && b after a failed, a || b after a succeeded: as sh */
            } else if (conn == '|' && in->last < 0) {
                skipped(in, &c,
                        "not understood: whether the command before || "
                        "failed");
            } else {
                run_cmd(in, &c);
            }
            conn = c.next;
        }
        free_cmd(&c);
    }
}

/* Replays a shell script file (not an ELF); -ENOEXEC if it is none (or,
 * with need_shebang, if it does not start with #!). */
static int run_file(struct interp *in, const char *path, int need_shebang)
{
    int fd = ifs_open(in->root, path, O_RDONLY, 0);
    if (fd < 0) {
        return fd;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return -ENOMEM;
    }
    char *line = NULL, *acc = NULL;
    size_t cap = 0, alen = 0;
    ssize_t len;
    int lineno = 0, rc = 0;
    struct flow fl = { .ifs = 0 }, *outer = in->flow;
    in->flow = &fl;
    in->depth++;
    while (!fl.stop && (len = getline(&line, &cap, f)) > 0) {
        /* a binary, or (from a script) a file that is no #! script */
        if (++lineno == 1 && (memchr(line, 0, (size_t)len) ||
                              (need_shebang && strncmp(line, "#!", 2)))) {
            rc = -ENOEXEC;
            break;
        }
        /* a line ending in a backslash goes on on the next line */
        char *nacc = realloc(acc, alen + (size_t)len + 1);
        if (!nacc) {
            break;
        }
        acc = nacc;
        memcpy(acc + alen, line, (size_t)len + 1);
        alen += (size_t)len;
        while (alen && (acc[alen - 1] == '\n' || acc[alen - 1] == '\r')) {
            acc[--alen] = 0;
        }
        if (alen && acc[alen - 1] == '\\') {
            acc[--alen] = 0;
            continue;
        }
        run_line(in, acc, f);
        alen = 0;
    }
    in->depth--;
    in->flow = outer;
    if (fl.ifs || fl.skip_nest) {
        init_say(in->r, INIT_NOTE, "%s ended inside an if or a block", path);
    }
    free(line);
    free(acc);
    fclose(f);
    return rc;
}

int init_interpret(int root, const char *script, int is_command,
                   struct init_report *r)
{
    struct flow fl = { .ifs = 0 };
    struct interp in = { .root = root, .r = r, .cwd = "/", .flow = &fl };
    int rc = 0;

    var_set(&in, "PATH", "/bin:/sbin:/usr/bin:/usr/sbin");
    if (is_command) {
        run_line(&in, script, NULL);
    } else {
        rc = run_file(&in, script, 0);
    }
    for (int i = 0; i < in.nvars; i++) {
        free(in.var_name[i]);
        free(in.var_val[i]);
    }
    return rc;
}
