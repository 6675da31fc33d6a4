/*
 * Hot reload: inotify on plugins/fakefile/{,config,default,data} (the loop
 * is common/dirwatch.c).  A change to a .lua file bumps the rules generation
 * (configs re-load lazily on the next operation, keeping the last good
 * version on error); a change to a .fakecontent file tells the host which
 * resources to invalidate.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dirwatch.h"
#include "fakefs_internal.h"

static void on_event(void *opaque, const char *dir, const char *name,
                     uint32_t mask)
{
    struct fakefs_engine *e = opaque;
    size_t l;

    (void)mask;
    if (!name || !*name || name[0] == '.') {
        return; /* batch ends, the dirs themselves, our own temp files */
    }
    l = strlen(name);
    if (l > 4 && strcmp(name + l - 4, ".lua") == 0) {
        __atomic_add_fetch(&e->gen, 1, __ATOMIC_RELEASE);
        fakefs_all_changed(e);
    } else if (l > 12 && strcmp(name + l - 12, ".fakecontent") == 0) {
        char abs[PATH_MAX];
        snprintf(abs, sizeof abs, "%s%s", dir, name);
        fakefs_content_changed(e, abs);
    }
}

static void *watch_main(void *arg)
{
    struct fakefs_engine *e = arg;
    int rc = dirwatch_run(e->watch);

    if (rc < 0) {
        fakefs_logf(e, "fakefs: hot reload stopped: %s", strerror(-rc));
    }
    return NULL;
}

int fakefs_watch_start(struct fakefs_engine *e)
{
    const char *subs[] = { "", "config/", "default/", "data/" };

    if (e->watching) {
        return 0;
    }
    e->watch = dirwatch_new(on_event, e);
    if (!e->watch) {
        return -errno;
    }
    for (int i = 0; i < 4; i++) {
        char dir[PATH_MAX];
        int rc;
        snprintf(dir, sizeof dir, "%s%s", e->plugin_dir, subs[i]);
        rc = dirwatch_add(e->watch, dir,
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
                              IN_MOVED_FROM | IN_ATTRIB);
        if (rc < 0) {
            fakefs_logf(e, "fakefs: cannot watch %s: %s", dir, strerror(-rc));
        }
    }
    if (pthread_create(&e->watch_thr, NULL, watch_main, e) != 0) {
        dirwatch_free(e->watch);
        e->watch = NULL;
        return -EAGAIN;
    }
    e->watching = 1;
    return 0;
}

void fakefs_watch_stop(struct fakefs_engine *e)
{
    if (e->watching) {
        dirwatch_stop(e->watch);
        pthread_join(e->watch_thr, NULL);
        e->watching = 0;
    }
    dirwatch_free(e->watch);
    e->watch = NULL;
}
