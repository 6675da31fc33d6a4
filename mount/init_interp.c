/*
 * The interpreter engine of --init: where the firmware's shell cannot run,
 * the simple commands of an init script are replayed line by line (the
 * commands themselves are in init_cmds.c): words, quotes, variables, globs,
 * here-documents, and if/elif/else/fi, && and || decided by `[ ... ]` tests
 * on the root.  Loops, case and functions are skipped whole; a line it does
 * not understand is reported as skipped, and so is every hardware step.
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
#include "init_interp.h"
#include "init_replay.h"

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
void ip_path(struct interp *in, const char *w, char *out)
{
    ifs_join(in->cwd, w, out, PATH_MAX);
}

/* Expands an unquoted pattern in the last name of word i, in place. */
static void glob_word(struct interp *in, struct cmd *c, int i)
{
    char dir[PATH_MAX], full[PATH_MAX];
    char *names[MAX_WORDS];
    int nn = 0;

    ip_path(in, c->w[i], full);
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

void ip_done(struct interp *in, const struct cmd *c, int rc, const char *note)
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

void ip_skip(struct interp *in, const struct cmd *c, const char *why)
{
    char t[1024];
    cmd_text(c, t, sizeof t);
    init_say(in->r, INIT_SKIP, "skipped %s (%s)", t, why);
    /* a skipped hardware step "succeeds", as under the shell engine */
    in->last = !strcmp(why, "hardware") || !strcmp(why, "service") ? 0 : -1;
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
    ip_path(in, w, p);
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
            ip_skip(in, c, why);
        }
        return 1;
    }
    if (!strcmp(w0, "if") || !strcmp(w0, "elif")) {
        int elif = w0[0] == 'e';
        if (elif && !fl->ifs) {
            ip_skip(in, c, "not understood: elif without if");
            return 1;
        }
        if (!elif && fl->ifs == MAX_IFS) {
            ip_skip(in, c, "not understood: if nested too deep");
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
            ip_skip(in, c, "not understood: the condition; the whole if");
            *st = IF_DONE;
            return 1;
        }
        *st = r == 0 ? IF_RUN : IF_WAIT;
        return 1;
    }
    if (!strcmp(w0, "then") || !strcmp(w0, "else") || !strcmp(w0, "fi")) {
        if (!fl->ifs) {
            ip_skip(in, c, "not understood: no if is open");
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
        ip_skip(in, c,
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
    ip_path(in, c->w[i], p);
    init_say(in->r, INIT_NOTE, "running %s", p);
    int rc = run_file(in, p, 0);
    if (rc < 0) {
        ip_done(in, c, rc, NULL);
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
        ip_skip(in, c, c->why_not);
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
        ip_skip(in, c, why);
        return;
    }
    if (!strcmp(cmd, "[") || !strcmp(cmd, "test") || !strcmp(cmd, "true") ||
        !strcmp(cmd, ":") || !strcmp(cmd, "false") || !strcmp(cmd, "!")) {
        in->last = eval_cond(in, c->w, c->n);
        if (in->last < 0) {
            ip_skip(in, c, "not understood: test");
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
        ip_path(in, c->n > 1 ? c->w[1] : "/", p);
        snprintf(in->cwd, sizeof in->cwd, "%s", p);
    } else if (!strcmp(cmd, "mkdir")) {
        icmd_mkdir(in, c);
    } else if (!strcmp(cmd, "cp")) {
        icmd_cp(in, c);
    } else if (!strcmp(cmd, "ln")) {
        icmd_ln(in, c);
    } else if (!strcmp(cmd, "echo") || !strcmp(cmd, "printf")) {
        icmd_output(in, c, cmd);
    } else if (!strcmp(cmd, "cat")) {
        icmd_cat(in, c);
    } else if (!strcmp(cmd, "touch")) {
        icmd_touch(in, c);
    } else if (!strcmp(cmd, "chmod")) {
        icmd_chmod(in, c);
    } else if (!strcmp(cmd, "mount")) {
        icmd_mount(in, c);
    } else if (!strcmp(cmd, "tar")) {
        icmd_tar(in, c);
    } else {
        for (int i = 0; flow[i]; i++) {
            if (!strcmp(cmd, flow[i])) {
                ip_skip(in, c, "not understood: shell control flow");
                return;
            }
        }
        char p[PATH_MAX];
        struct stat st;
        ip_path(in, c->w[0], p);
        if (strchr(c->w[0], '/') && ifs_lstat(in->root, p, &st) == 0 &&
            in->depth < MAX_DEPTH) {
            /* another script: replayed the same way */
            if (run_file(in, p, 1) == 0) {
                return;
            }
        }
        ip_skip(in, c, "not understood");
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
                ip_skip(in, &c,
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
