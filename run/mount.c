/*
 * The overlay: an SFEmu mount already over ROOTFS is reused, else
 * sfemu-mount mounts over ROOTFS itself with the upper tree in its default
 * place (ROOTFS.sfemu/).  The rules: --rules DIR as given, else a copy of
 * the shipped rules_examples/ in ROOTFS.sfemu/rules, made on first use
 * (runs write into their rules tree; never into the source tree).
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "run.h"

#ifndef SFEMU_RULES_SRC
#define SFEMU_RULES_SRC ""
#endif

/* This program's directory (build/run, or PREFIX/bin when installed). */
static int self_dir(char *buf, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) {
        return -errno;
    }
    self[n] = 0;
    snprintf(buf, cap, "%s", dirname(self));
    return 0;
}

/* A tool: $ENV, else REL from the build tree (build/run/../REL), else the
 * installed INST beside this program (PREFIX/bin/INST, docs/install.md). */
const char *run_tool(const char *env, const char *rel, const char *inst,
                     char *buf, size_t cap)
{
    const char *e = getenv(env);
    if (e && *e) {
        snprintf(buf, cap, "%s", e);
        return buf;
    }
    char dir[PATH_MAX];
    if (self_dir(dir, sizeof dir) < 0) {
        return NULL;
    }
    snprintf(buf, cap, "%s/../%s", dir, rel);
    if (access(buf, F_OK) < 0) {
        snprintf(buf, cap, "%s/%s", dir, inst);
    }
    return buf;
}

/* The shipped rules: PREFIX/share/sfemu/rules_examples beside an installed
 * sfemu, else the source tree this one was built from. */
static const char *shipped_rules(char *buf, size_t cap)
{
    char dir[PATH_MAX];
    if (self_dir(dir, sizeof dir) == 0) {
        run_fmt(buf, cap, "%s/../share/sfemu/rules_examples", dir);
        char entry[PATH_MAX + 16];
        snprintf(entry, sizeof entry, "%s/entry.lua", buf);
        if (access(entry, R_OK) == 0) {
            return buf;
        }
    }
    snprintf(buf, cap, "%s", SFEMU_RULES_SRC);
    return buf;
}

static int run_cmd(char *const argv[])
{
    pid_t p = fork();
    if (p == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    if (p < 0 || waitpid(p, &st, 0) < 0) {
        return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int run_rules(struct run_mount *m, const char *given, char *err, size_t cap)
{
    if (!realpath(m->rootfs, m->point)) {
        snprintf(err, cap, "%s: %s", m->rootfs, strerror(errno));
        return RUN_NOT_ROOTFS;
    }
    snprintf(m->rootfs, sizeof m->rootfs, "%s", m->point);
    if (run_fmt(m->upper, sizeof m->upper, "%s.sfemu", m->rootfs) < 0) {
        snprintf(err, cap, "%s: path too long", m->rootfs);
        return RUN_NOT_ROOTFS;
    }
    if (given) {
        struct stat st;
        if (!realpath(given, m->rules) || stat(m->rules, &st) < 0 ||
            !S_ISDIR(st.st_mode)) {
            snprintf(err, cap, "--rules %s: not a directory", given);
            return RUN_USAGE;
        }
        return 0;
    }
    if (run_fmt(m->rules, sizeof m->rules, "%s/rules", m->upper) < 0) {
        snprintf(err, cap, "%s: path too long", m->upper);
        return RUN_ERR;
    }
    char entry[PATH_MAX + 16];
    snprintf(entry, sizeof entry, "%s/entry.lua", m->rules);
    if (access(entry, F_OK) == 0) {
        return 0;
    }
    char shipped[PATH_MAX], src[PATH_MAX + 8];
    shipped_rules(shipped, sizeof shipped);
    snprintf(src, sizeof src, "%s/.", shipped);
    if (!shipped[0] || access(src, R_OK) < 0) {
        snprintf(err, cap,
                 "no rules: --rules not given and the shipped "
                 "rules_examples (%s) is missing",
                 shipped);
        return RUN_ERR;
    }
    if ((mkdir(m->upper, 0700) < 0 && errno != EEXIST) ||
        (mkdir(m->rules, 0755) < 0 && errno != EEXIST)) {
        snprintf(err, cap, "cannot create %s: %s", m->rules, strerror(errno));
        return RUN_ERR;
    }
    /* -n: what sfemu-mount's own default copy made (plugins/) is kept */
    char *const cp[] = { "/bin/cp", "-a", "-n", src, m->rules, NULL };
    if (run_cmd(cp) != 0) {
        snprintf(err, cap, "cannot copy %s to %s", shipped, m->rules);
        return RUN_ERR;
    }
    printf("sfemu run: rules: a copy of %s in %s (first use)\n", shipped,
           m->rules);
    return 0;
}

/* Whether an SFEmu mount is at PATH. */
static int sfemu_mounted(const char *path)
{
    FILE *f = fopen("/proc/self/mounts", "r");
    char dev[256], mp[PATH_MAX], type[64];
    int found = 0;
    while (f && !found &&
           fscanf(f, "%255s %4095s %63s %*[^\n]", dev, mp, type) == 3) {
        found = !strcmp(mp, path) && !strcmp(type, "fuse.sfemu");
    }
    if (f) {
        fclose(f);
    }
    return found;
}

/* sfemu-mount: $SFEMU_MOUNT, the build tree's or the installed one.  0, or
 * -1 with err saying where it was looked for. */
static int mount_tool(char tool[PATH_MAX], char *err, size_t cap)
{
    if (!run_tool("SFEMU_MOUNT", "mount/sfemu-mount", "sfemu-mount", tool,
                  PATH_MAX) ||
        access(tool, X_OK) < 0) {
        snprintf(err, cap, "sfemu-mount not found (%s; set SFEMU_MOUNT)", tool);
        return -1;
    }
    return 0;
}

int run_mount_up(struct run_mount *m, char *err, size_t cap)
{
    if (sfemu_mounted(m->rootfs)) {
        m->reused = 1;
        printf("sfemu run: mount: reusing the SFEmu mount on %s\n", m->point);
        return 0;
    }
    char tool[PATH_MAX];
    if (mount_tool(tool, err, cap) < 0) {
        return RUN_MOUNT;
    }
    char *const argv[] = { tool, "--rules", m->rules, m->rootfs, NULL };
    int r = run_cmd(argv);
    if (r != 0 || !sfemu_mounted(m->rootfs)) {
        snprintf(err, cap,
                 "sfemu-mount %s failed (status %d; log: %s/"
                 "sfemu-mount.log)%s",
                 m->rootfs, r, m->upper,
                 geteuid() ? ": FUSE mounts need /dev/fuse access" : "");
        return RUN_MOUNT;
    }
    m->mounted = 1;
    printf("sfemu run: mount: %s (upper tree %s)\n", m->point, m->upper);
    return 0;
}

int run_mount_init(struct run_mount *m, char *err, size_t cap)
{
    char tool[PATH_MAX];
    if (mount_tool(tool, err, cap) < 0) {
        return RUN_MOUNT;
    }
    printf("sfemu run: init: replaying the firmware's boot-time file "
           "preparation (sfemu-mount --init)\n");
    fflush(stdout);
    char *const argv[] = { tool, "--init", m->point, NULL };
    int r = run_cmd(argv);
    if (r != 0) {
        snprintf(err, cap,
                 "sfemu-mount --init %s failed (status %d; report: "
                 "%s/init-report.txt)",
                 m->point, r, m->upper);
        return RUN_MOUNT;
    }
    printf("sfemu run: init: done (report %s/init-report.txt)\n", m->upper);
    return 0;
}

int run_mount_down(struct run_mount *m)
{
    if (!m->mounted) {
        return 0;
    }
    char tool[PATH_MAX];
    run_tool("SFEMU_MOUNT", "mount/sfemu-mount", "sfemu-mount", tool,
             sizeof tool);
    char *const argv[] = { tool, "-u", m->point, NULL };
    int r = run_cmd(argv);
    m->mounted = r == 0 ? 0 : m->mounted;
    return r;
}
