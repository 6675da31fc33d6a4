/*
 * Which program to run when none is named: the first web server found in
 * a fixed order (docs/run.md, "Detection order"), standalone or as a
 * BusyBox applet, with the arguments the firmware's own init scripts give
 * it (the first line that starts it).  Every choice is explained in why.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "run.h"

static const char *const servers[] = { "httpd",   "lighttpd", "boa",
                                       "goahead", "uhttpd",   "mini_httpd",
                                       "thttpd",  "webs",     "nginx",
                                       NULL };
static const char *const bindirs[] = { "/usr/sbin",       "/sbin",
                                       "/usr/bin",        "/bin",
                                       "/usr/local/sbin", NULL };
static const char *const scriptdirs[] = { "/etc/init.d", "/etc/rc.d",
                                          "/etc/init", "/etc", NULL };

int run_check_rootfs(const char *rootfs, char *err, size_t cap)
{
    struct stat st;
    if (stat(rootfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, cap,
                 "%s: not a directory (give an unpacked root "
                 "filesystem)",
                 rootfs);
        return RUN_NOT_ROOTFS;
    }
    static const char *const marks[] = { "bin", "sbin", "usr/bin", "usr/sbin",
                                         NULL };
    for (int i = 0; marks[i]; i++) {
        char p[PATH_MAX * 2];
        snprintf(p, sizeof p, "%s/%s", rootfs, marks[i]);
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            return 0;
        }
    }
    snprintf(err, cap,
             "%s: not a firmware root (no bin/, sbin/, usr/bin/ "
             "or usr/sbin/)",
             rootfs);
    return RUN_NOT_ROOTFS;
}

static int is_file(const char *rootfs, const char *guest)
{
    char h[PATH_MAX * 2];
    struct stat st;
    return run_resolve(rootfs, guest, h, sizeof h) == 0 && stat(h, &st) == 0 &&
           S_ISREG(st.st_mode);
}

/* Whether the BusyBox at host path has APPLET in its applet list. */
static int busybox_has(const char *host, const char *applet)
{
    FILE *f = fopen(host, "rb");
    if (!f) {
        return 0;
    }
    char buf[65536 + 64];
    size_t al = strlen(applet), keep = 0, n;
    int found = 0;
    while (!found && (n = fread(buf + keep, 1, 65536, f)) > 0) {
        size_t len = keep + n;
        for (size_t i = 0; i + al + 1 < len && !found; i++) {
            found = buf[i] == 0 && !memcmp(buf + i + 1, applet, al) &&
                    buf[i + al + 1] == 0;
        }
        keep = al + 2 < len ? al + 2 : 0;
        memmove(buf, buf + len - keep, keep);
    }
    fclose(f);
    return found;
}

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Arguments from one script line that starts NAME: 1 if it does. */
static int line_args(char *line, const char *name, struct run_target *t,
                     char *note, size_t cap)
{
    char *tok[64];
    int n = 0;
    for (char *s = strtok(line, " \t\r\n"); s && n < 64;
         s = strtok(NULL, " \t\r\n")) {
        tok[n++] = s;
    }
    int i = 0;
    while (i < n &&
           (!strcmp(tok[i], "exec") || !strcmp(base(tok[i]), "busybox"))) {
        i++;
    }
    if (i >= n || strcmp(base(tok[i]), name) != 0 || tok[0][0] == '#') {
        return 0;
    }
    int first = ++i;
    while (i < n && !strchr("&;|><", tok[i][0]) && strncmp(tok[i], "2>", 2) &&
           strncmp(tok[i], "1>", 2)) {
        if (strchr(tok[i], '$') || strchr(tok[i], '`')) {
            snprintf(note, cap,
                     "; its arguments use shell variables "
                     "(%s): none used",
                     tok[i]);
            return 1;
        }
        i++;
    }
    t->args = calloc((size_t)(i - first) + 1, sizeof *t->args);
    for (int k = first; k < i; k++) {
        t->args[t->nargs++] = strdup(tok[k]);
    }
    return 1;
}

/* Looks for NAME being started in the scripts of DIR (one level). */
static int scripts_args(const char *rootfs, const char *name,
                        struct run_target *t, char *where, size_t cap)
{
    char note[256] = "";
    for (int d = 0; scriptdirs[d]; d++) {
        char dir[PATH_MAX * 2];
        if (run_resolve(rootfs, scriptdirs[d], dir, sizeof dir) < 0) {
            continue;
        }
        struct dirent **ents;
        int n = scandir(dir, &ents, NULL, alphasort);
        int found = 0;
        for (int i = 0; i < n; i++) {
            const char *e = ents[i]->d_name;
            int top = !strcmp(scriptdirs[d], "/etc");
            /* in /etc only the usual script names */
            if (!found && e[0] != '.' &&
                (!top || !strncmp(e, "rc", 2) || !strcmp(e, "inittab") ||
                 strstr(e, ".sh"))) {
                char p[PATH_MAX * 3];
                snprintf(p, sizeof p, "%s/%s", dir, e);
                FILE *f = fopen(p, "r");
                char line[1024];
                for (int ln = 1; f && !found && fgets(line, sizeof line, f);
                     ln++) {
                    if (line_args(line, name, t, note, sizeof note)) {
                        snprintf(where, cap, "arguments from %s/%s:%d%s",
                                 scriptdirs[d], e, ln, note);
                        found = 1;
                    }
                }
                if (f) {
                    fclose(f);
                }
            }
            free(ents[i]);
        }
        if (n >= 0) {
            free(ents);
        }
        if (found) {
            return 1;
        }
    }
    snprintf(where, cap, "no init script starts %s: no arguments", name);
    return 0;
}

int run_find(const char *rootfs, struct run_target *t, char *err, size_t cap)
{
    char where[512];
    for (int s = 0; servers[s]; s++) {
        for (int d = 0; bindirs[d]; d++) {
            char g[PATH_MAX];
            snprintf(g, sizeof g, "%s/%s", bindirs[d], servers[s]);
            if (!is_file(rootfs, g)) {
                continue;
            }
            snprintf(t->guest, sizeof t->guest, "%s", g);
            t->searched = 1;
            scripts_args(rootfs, servers[s], t, where, sizeof where);
            run_fmt(t->why, sizeof t->why,
                    "%s: the first web server found (order: httpd, "
                    "lighttpd, boa, goahead, uhttpd, mini_httpd, thttpd, "
                    "webs, nginx; in /usr/sbin, /sbin, /usr/bin, /bin); %s",
                    g, where);
            return 0;
        }
    }
    /* BusyBox with a web server applet but no link to it */
    char bb[PATH_MAX * 2];
    if (is_file(rootfs, "/bin/busybox") &&
        run_resolve(rootfs, "/bin/busybox", bb, sizeof bb) == 0 &&
        busybox_has(bb, "httpd")) {
        snprintf(t->guest, sizeof t->guest, "/bin/busybox");
        t->searched = 1;
        scripts_args(rootfs, "httpd", t, where, sizeof where);
        char **a = calloc((size_t)t->nargs + 2, sizeof *a);
        a[0] = strdup("httpd");
        for (int i = 0; i < t->nargs; i++) {
            a[i + 1] = t->args[i];
        }
        free(t->args);
        t->args = a;
        t->nargs++;
        run_fmt(t->why, sizeof t->why,
                "/bin/busybox httpd: no standalone web server, BusyBox has "
                "the httpd applet; %s",
                where);
        return 0;
    }
    snprintf(err, cap,
             "%s: no web server found (looked for httpd, "
             "lighttpd, boa, goahead, uhttpd, mini_httpd, thttpd, webs, "
             "nginx and BusyBox's httpd applet): name it: sfemu run ROOTFS "
             "-- /PATH/TO/BINARY ARGS",
             rootfs);
    return RUN_NO_BINARY;
}
