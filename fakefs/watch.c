/*
 * Hot reload: inotify on plugins/fakefile/{,config,default,data}.  A change to
 * a .lua file bumps the rules generation (configs re-load lazily on the next
 * operation, keeping the last good version on error); a change to a
 * .fakecontent file tells the host which resources to invalidate.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include "fakefs_internal.h"

static void *watch_main(void *arg)
{
    struct fakefs_engine *e = arg;
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        struct pollfd p[2] = { { .fd = e->ino_fd, .events = POLLIN },
                               { .fd = e->stop_pipe[0], .events = POLLIN } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (p[1].revents) {
            break;
        }
        ssize_t n = read(e->ino_fd, buf, sizeof buf);
        if (n <= 0) {
            continue;
        }
        for (char *q = buf; q < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)q;
            q += sizeof *ev + ev->len;
            if (!ev->len || ev->name[0] == '.') {
                continue; /* our own temp files are dot-files */
            }
            const char *dir = NULL;
            for (int i = 0; i < e->nwd; i++) {
                if (e->wds[i].wd == ev->wd) {
                    dir = e->wds[i].dir;
                }
            }
            if (!dir) {
                continue;
            }
            size_t l = strlen(ev->name);
            if (l > 4 && strcmp(ev->name + l - 4, ".lua") == 0) {
                __atomic_add_fetch(&e->gen, 1, __ATOMIC_RELEASE);
                fakefs_all_changed(e);
            } else if (l > 12 &&
                       strcmp(ev->name + l - 12, ".fakecontent") == 0) {
                char abs[PATH_MAX];
                snprintf(abs, sizeof abs, "%s%s", dir, ev->name);
                fakefs_content_changed(e, abs);
            }
        }
    }
    return NULL;
}

int fakefs_watch_start(struct fakefs_engine *e)
{
    if (e->watching) {
        return 0;
    }
    e->ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (e->ino_fd < 0) {
        return -errno;
    }
    if (pipe2(e->stop_pipe, O_CLOEXEC) < 0) {
        int err = errno;
        close(e->ino_fd);
        e->ino_fd = -1;
        return -err;
    }
    const char *subs[] = { "", "config/", "default/", "data/" };
    for (int i = 0; i < 4; i++) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s%s", e->plugin_dir, subs[i]);
        int wd = inotify_add_watch(e->ino_fd, dir,
                                   IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE |
                                       IN_DELETE | IN_MOVED_FROM | IN_ATTRIB);
        if (wd < 0) {
            fakefs_logf(e, "fakefs: cannot watch %s: %s", dir, strerror(errno));
            continue;
        }
        e->wds[e->nwd].wd = wd;
        e->wds[e->nwd].dir = strdup(dir);
        e->nwd++;
    }
    if (pthread_create(&e->watch_thr, NULL, watch_main, e) != 0) {
        return -EAGAIN;
    }
    e->watching = 1;
    return 0;
}

void fakefs_watch_stop(struct fakefs_engine *e)
{
    if (e->watching) {
        if (write(e->stop_pipe[1], "x", 1) < 0) { /* nothing to do */
        }
        pthread_join(e->watch_thr, NULL);
        e->watching = 0;
    }
    for (int i = 0; i < e->nwd; i++) {
        free(e->wds[i].dir);
    }
    e->nwd = 0;
    if (e->ino_fd >= 0) {
        close(e->ino_fd);
    }
    for (int i = 0; i < 2; i++) {
        if (e->stop_pipe[i] >= 0) {
            close(e->stop_pipe[i]);
        }
    }
    e->ino_fd = e->stop_pipe[0] = e->stop_pipe[1] = -1;
}
