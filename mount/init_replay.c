/*
 * sfemu-mount --init (see init_replay.h): finds the firmware's init
 * scripts, replays them with the shell engine or the interpreter, applies
 * the preparation file, and reports one line per action and skip on
 * stdout and in <upper>/init-report.txt.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "init_fs.h"
#include "init_replay.h"

/* Hardware steps (kernel modules, interfaces, flash, power) and services
 * (daemons that would run forever, programs that reach the network) are
 * never replayed: the list is the init rules tree's skip.conf, which the
 * shell engine's rules read too. */
#define SKIP_MAX 256
static struct {
    char name[64];
    const char *kind;
} skip[SKIP_MAX];
static int nskip = -1;

static void skip_load(void)
{
    char path[PATH_MAX], line[1024];
    FILE *f;

    nskip = 0;
    snprintf(path, sizeof path, "%s/skip.conf", init_rules_dir());
    f = fopen(path, "re");
    if (!f) {
        fprintf(stderr,
                "sfemu-mount: --init: cannot read %s: nothing is skipped by "
                "name\n",
                path);
        return;
    }
    while (fgets(line, sizeof line, f)) {
        const char *kind = !strncmp(line, "hardware:", 9)  ? "hardware"
                           : !strncmp(line, "service:", 8) ? "service"
                                                           : NULL;
        char *save = NULL;
        if (!kind) {
            continue; /* comments, fs_tool: (the shell engine's) */
        }
        for (char *w = strtok_r(strchr(line, ':') + 1, " \t\n", &save);
             w && nskip < SKIP_MAX; w = strtok_r(NULL, " \t\n", &save)) {
            snprintf(skip[nskip].name, sizeof skip[nskip].name, "%s", w);
            skip[nskip++].kind = kind;
        }
    }
    fclose(f);
}

const char *init_skip_reason(const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    if (nskip < 0) {
        skip_load();
    }
    for (int i = 0; i < nskip; i++) {
        if (!strcmp(base, skip[i].name)) {
            return skip[i].kind;
        }
    }
    return NULL;
}

void init_say(struct init_report *r, enum init_kind kind, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    int n = snprintf(line, sizeof line, "init: ");
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(r->out, "%s\n", line);
    fflush(r->out);
    size_t len = strlen(line);
    if (r->len + len + 2 > r->cap) {
        size_t cap = (r->cap + len + 2) * 2;
        char *nb = realloc(r->buf, cap);
        if (!nb) {
            return;
        }
        r->buf = nb;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, line, len);
    r->len += len;
    r->buf[r->len++] = '\n';
    r->actions += kind == INIT_ACTION;
    r->skips += kind == INIT_SKIP;
    r->errors += kind == INIT_ERROR;
}

struct script {
    char text[PATH_MAX]; /* a guest path, or an inittab command */
    int is_command;
};

static int is_file(int root, const char *path)
{
    int fd = ifs_open(root, path, O_RDONLY, 0);
    struct stat st;
    int ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

/* ::sysinit: (busybox) and si::sysinit: (sysv) commands of /etc/inittab. */
static int from_inittab(int root, struct script *s, int max)
{
    int fd = ifs_open(root, "/etc/inittab", O_RDONLY, 0);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0) {
            close(fd);
        }
        return 0;
    }
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0 && n < max) {
        line[strcspn(line, "\r\n")] = 0;
        char *p = line + strspn(line, " \t");
        if (*p == '#') {
            continue;
        }
        char *f1 = strchr(p, ':'), *f2 = f1 ? strchr(f1 + 1, ':') : NULL;
        char *f3 = f2 ? strchr(f2 + 1, ':') : NULL;
        if (!f3 || f3 - f2 - 1 != 7 || strncmp(f2 + 1, "sysinit", 7)) {
            continue;
        }
        snprintf(s[n].text, sizeof s[n].text, "%s", f3 + 1);
        s[n++].is_command = 1;
    }
    free(line);
    fclose(f);
    return n;
}

static int find_scripts(int root, const struct init_opts *o, struct script *s,
                        struct init_report *r)
{
    static const char *const candidates[] = {
        "/etc/init.d/rcS", "/etc/rc.d/rcS", "/etc/preinit",
        "/etc/rc.local",   "/sbin/rc",      NULL
    };
    int n = 0;
    if (o->nscripts) {
        for (int i = 0; i < o->nscripts; i++) {
            if (!is_file(root, o->scripts[i])) {
                fprintf(stderr,
                        "sfemu-mount: --init-script '%s': no such file in "
                        "the root\n",
                        o->scripts[i]);
                return -ENOENT;
            }
            snprintf(s[n].text, sizeof s[n].text, "%s", o->scripts[i]);
            s[n++].is_command = 0;
        }
        return n;
    }
    n = from_inittab(root, s, INIT_MAX_SCRIPTS);
    if (n) {
        return n;
    }
    for (int i = 0; candidates[i]; i++) {
        if (is_file(root, candidates[i])) {
            snprintf(s[0].text, sizeof s[0].text, "%s", candidates[i]);
            s[0].is_command = 0;
            return 1;
        }
    }
    init_say(r, INIT_NOTE,
             "no init script found (/etc/inittab sysinit, /etc/init.d/rcS, "
             "/etc/rc.d/rcS, /etc/preinit, /etc/rc.local, /sbin/rc)");
    return 0;
}

static void write_report(const char *path, struct init_report *r)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, r->buf, r->len) != (ssize_t)r->len) {
        fprintf(stderr, "sfemu-mount: cannot write the report %s: %s\n", path,
                strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
}

int init_replay(const struct init_opts *o)
{
    struct init_report r = { .out = stdout };
    struct script s[INIT_MAX_SCRIPTS];
    char qemu[PATH_MAX];
    const char *engine = "interpret";

    int root = open(o->mount, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) {
        fprintf(stderr, "sfemu-mount: --init: cannot open the mount '%s': %s\n",
                o->mount, strerror(errno));
        return 1;
    }
    /* a bad preparation file stops everything before anything is done */
    int n = o->prep_rules && init_prepare(root, o->prep_rules, NULL) < 0
                ? -EINVAL
                : find_scripts(root, o, s, &r);
    if (n < 0) {
        close(root);
        free(r.buf);
        return 1;
    }
    /* A replay is a boot: it runs once per upper layer (a second cp -a
     * would copy into the copy, >> append twice); a script named with
     * --init-script runs whenever it is asked for. */
    char marker[PATH_MAX];
    struct stat mst;
    snprintf(marker, sizeof marker, "%s/init-replayed", o->upper);
    if (n > 0 && !o->nscripts && stat(marker, &mst) == 0) {
        init_say(&r, INIT_NOTE,
                 "the init scripts were replayed already (remove %s to "
                 "replay them again)",
                 marker);
        n = 0;
    }
    if (n > 0 && o->engine != INIT_INTERPRET) {
        if (init_shell_probe(root, o, qemu, sizeof qemu, &r) == 0) {
            engine = "shell";
        } else if (o->engine == INIT_SHELL) {
            fprintf(stderr,
                    "sfemu-mount: --init-engine shell: the firmware's shell "
                    "cannot run here (see the line above)\n");
            close(root);
            free(r.buf);
            return 1;
        } else {
            init_say(&r, INIT_NOTE, "using the interpreter");
        }
    }
    for (int i = 0; i < n; i++) {
        init_say(&r, INIT_NOTE, "running %s (%s engine)", s[i].text, engine);
        if (!strcmp(engine, "shell")) {
            init_shell_run(o, qemu, s[i].text, s[i].is_command, &r);
        } else {
            int rc = init_interpret(root, s[i].text, s[i].is_command, &r);
            if (rc < 0) {
                init_say(&r, INIT_ERROR, "cannot read %s: %s", s[i].text,
                         strerror(-rc));
            }
        }
    }
    if (n > 0) {
        write_report(marker, &r);
    }
    int rc = 0;
    if (o->prep_rules) {
        rc = init_prepare(root, o->prep_rules, &r);
    }
    if (rc == 0) {
        init_say(&r, INIT_NOTE,
                 "done: %d actions, %d skipped, %d failed (report in "
                 "%s/init-report.txt)",
                 r.actions, r.skips, r.errors, o->upper);
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/init-report.txt", o->upper);
        write_report(path, &r);
    }
    close(root);
    free(r.buf);
    return rc == 0 ? 0 : 1;
}
