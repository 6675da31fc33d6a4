/*
 * Rules hot reload.  One helper thread watches the rule directories (the
 * rules root among them: entry.lua, finish.lua, the flat layout) with
 * inotify (common/dirwatch.c).  When a rule file or a rule directory
 * changes, it rescans the hook map and bumps the rules generation; each Lua
 * state compares that number on its next hooked syscall and only then
 * re-checks the files it has loaded (rules.c).  A rule directory that does
 * not exist yet (syscall_override/ made later, a SFEMU_RULES_OVERRIDE_DIR
 * entry) is waited for through its nearest existing parent.  Without
 * inotify (no instance or no watch left), the thread bumps the generation
 * every SFEMU_RULES_CHECK_MS instead: polling, as before.
 *
 * The guest must neither see nor disturb the inotify fd: the thread gives
 * itself a private fd table (unshare(CLONE_FILES)) and closes the guest's
 * fds in it, so a guest that closes every fd, or gets our fd's number for a
 * file of its own, cannot touch it, and the thread holds no guest file
 * open.  fork: the thread does not survive, the child starts its own.
 * exec: the private table goes with the thread.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dirwatch.h"

#include "core/hookmap.h"
#include "core/log.h"
#include "core/options.h"
#include "core/rules.h"
#include "core/rulewatch.h"
#include "helper_thread.h"

/* Not IN_MODIFY: a file being written is looked at once it is closed. */
#define WATCH_MASK                                                        \
    (IN_CLOSE_WRITE | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
     IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

static struct dirwatch *watch; /* the watcher thread's only */
static int pending, pending_rearm;

static void changed(void)
{
    sfemu_hookmap_scan();
    sfemu_rules_changed();
}

static int is_rule_dir(const char *dir)
{
    const char *const *dirs;
    int n = sfemu_rules_dirs(&dirs);

    for (int i = 0; i < n; i++) {
        if (!strcmp(dirs[i], dir)) {
            return 1;
        }
    }
    return 0;
}

/* Is dir/name a rule directory or on the way to one? */
static int leads_to_rule_dir(const char *dir, const char *name)
{
    const char *const *dirs;
    int n = sfemu_rules_dirs(&dirs);
    size_t dl = strlen(dir), nl = strlen(name);

    if (dl && dir[dl - 1] == '/') {
        dl--; /* "/" */
    }
    for (int i = 0; i < n; i++) {
        const char *d = dirs[i];
        if (!strncmp(d, dir, dl) && d[dl] == '/' &&
            !strncmp(d + dl + 1, name, nl) &&
            (d[dl + 1 + nl] == '/' || d[dl + 1 + nl] == '\0')) {
            return 1;
        }
    }
    return 0;
}

/* Watch dir, or its nearest existing parent until it exists: 0 or -errno. */
static int watch_dir_or_parent(const char *dir)
{
    char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s", dir);
    for (;;) {
        int rc = dirwatch_add(watch, p, WATCH_MASK);
        char *slash;
        if (rc != -ENOENT && rc != -ENOTDIR) {
            return rc;
        }
        slash = strrchr(p, '/');
        if (!slash || p[1] == '\0') {
            return rc;
        }
        slash[slash == p] = '\0'; /* "/a" -> "/" */
    }
}

/* 1 if every rule directory (or its parent) is watched. */
static int arm(void)
{
    const char *const *dirs;
    int n = sfemu_rules_dirs(&dirs), all = 1;

    for (int i = 0; i < n; i++) {
        int rc = watch_dir_or_parent(dirs[i]);
        if (rc < 0) {
            sfemu_log("rules watcher: cannot watch %s: %s", dirs[i],
                      strerror(-rc));
            all = 0;
        }
    }
    return all;
}

/* A file just created by open(): wait for IN_CLOSE_WRITE, so that no
 * syscall sees it empty or half written.  A link (ln, ln -s) is whole. */
static int being_written(const char *dir, const char *name)
{
    char p[PATH_MAX];
    struct stat st;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1;
}

static void on_event(void *opaque, const char *dir, const char *name,
                     uint32_t mask)
{
    size_t l;

    (void)opaque;
    if (!name) { /* the end of a batch: one rescan for all of it */
        if (pending_rearm) {
            arm();
        }
        if (pending) {
            changed();
        }
        pending = pending_rearm = 0;
        return;
    }
    if (mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        pending = pending_rearm = 1; /* a watched dir went away */
    } else if (mask & IN_ISDIR) {
        if (leads_to_rule_dir(dir, name)) {
            pending = pending_rearm = 1; /* a rule dir (re)appeared */
        }
    } else if ((l = strlen(name)) > 4 && !strcmp(name + l - 4, ".lua") &&
               is_rule_dir(dir) &&
               !(mask & IN_CREATE && being_written(dir, name))) {
        pending = 1;
    }
}

/* A private fd table holding nothing of the guest's; the log fd stays. */
static void private_fds(void)
{
    int keep = sfemu_log_fd();

    if (unshare(CLONE_FILES) != 0) {
        sfemu_log("rules watcher: no private fd table (%s): the guest can "
                  "close its inotify fd",
                  strerror(errno));
        return;
    }
    if ((keep > 0 && close_range(0, keep - 1, 0) != 0) ||
        close_range(keep + 1, ~0U, 0) != 0) {
        long max = sysconf(_SC_OPEN_MAX);
        for (int fd = 0; fd < (max > 0 && max < 65536 ? max : 65536); fd++) {
            if (fd != keep) {
                close(fd);
            }
        }
    }
}

static void poll_forever(void)
{
    long ms = sfemu_opt_long(SFEMU_OPT_rules_check_ms);

    sfemu_rules_watching = 0;
    for (;;) {
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
        nanosleep(&ts, NULL);
        changed();
    }
}

static void *watcher(void *arg)
{
    int rc;

    (void)arg;
    private_fds();
    watch = dirwatch_new(on_event, NULL);
    if (!watch) {
        sfemu_log("rules watcher: no inotify (%s): polling the rules every "
                  "%ld ms (SFEMU_RULES_CHECK_MS)",
                  strerror(errno), sfemu_opt_long(SFEMU_OPT_rules_check_ms));
        poll_forever();
    }
    if (!arm()) {
        sfemu_log("rules watcher: polling the rules every %ld ms "
                  "(SFEMU_RULES_CHECK_MS)",
                  sfemu_opt_long(SFEMU_OPT_rules_check_ms));
        poll_forever();
    }
    sfemu_rules_watching = 1;
    changed(); /* what changed before the watches were in place */
    rc = dirwatch_run(watch);
    sfemu_log("rules watcher: inotify failed (%s): polling the rules every "
              "%ld ms (SFEMU_RULES_CHECK_MS)",
              strerror(-rc), sfemu_opt_long(SFEMU_OPT_rules_check_ms));
    poll_forever();
    return NULL;
}

static void start(void)
{
    if (sfemu_thread_start(watcher, NULL) != 0) {
        sfemu_log("cannot start the rules watcher: rules edited or added "
                  "from now on are not picked up");
    }
}

/* The watcher does not survive fork: the child starts its own (with its
 * own inotify instance: sharing the parent's would split the events). */
static void atfork_child(void)
{
    watch = NULL;
    pending = pending_rearm = 0;
    start();
}

void sfemu_rulewatch_start(void)
{
    start();
    pthread_atfork(NULL, NULL, atfork_child);
}
