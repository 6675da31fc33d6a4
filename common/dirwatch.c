/* The inotify loop both hot reloads use (see dirwatch.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirwatch.h"

struct dirwatch {
    int fd, stop[2];
    dirwatch_fn fn;
    void *opaque;
    int n, cap;
    struct {
        int wd;
        char *dir;
    } * w;
};

struct dirwatch *dirwatch_new(dirwatch_fn fn, void *opaque)
{
    struct dirwatch *w = calloc(1, sizeof(*w));
    int err;

    if (!w) {
        return NULL;
    }
    w->fn = fn;
    w->opaque = opaque;
    w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (w->fd < 0) {
        err = errno;
        free(w);
        errno = err;
        return NULL;
    }
    if (pipe2(w->stop, O_CLOEXEC) < 0) {
        err = errno;
        close(w->fd);
        free(w);
        errno = err;
        return NULL;
    }
    return w;
}

static int find_wd(const struct dirwatch *w, int wd)
{
    for (int i = 0; i < w->n; i++) {
        if (w->w[i].wd == wd) {
            return i;
        }
    }
    return -1;
}

int dirwatch_add(struct dirwatch *w, const char *dir, uint32_t mask)
{
    int wd = inotify_add_watch(w->fd, dir, mask), i;
    char *copy;

    if (wd < 0) {
        return -errno;
    }
    if (!(copy = strdup(dir))) {
        return -ENOMEM;
    }
    i = find_wd(w, wd);
    if (i >= 0 && !strcmp(w->w[i].dir, dir)) {
        free(copy);
        return 0;
    }
    if (i < 0) {
        if (w->n == w->cap) {
            int cap = w->cap ? w->cap * 2 : 8;
            void *nw = realloc(w->w, cap * sizeof(*w->w));
            if (!nw) {
                free(copy);
                return -ENOMEM;
            }
            w->w = nw;
            w->cap = cap;
        }
        i = w->n++;
        w->w[i].wd = wd;
    } else {
        free(w->w[i].dir); /* the same inode under a newer name */
    }
    w->w[i].dir = copy;
    return 0;
}

static void dispatch(struct dirwatch *w, const struct inotify_event *ev)
{
    int i = ev->wd >= 0 ? find_wd(w, ev->wd) : -1;
    char *dir;

    if (ev->mask & IN_Q_OVERFLOW) {
        w->fn(w->opaque, "", "", ev->mask);
        return;
    }
    if (i < 0) {
        return;
    }
    dir = w->w[i].dir;
    w->fn(w->opaque, dir, ev->len ? ev->name : "", ev->mask);
    if (ev->mask & IN_IGNORED) { /* the kernel dropped the watch */
        i = find_wd(w, ev->wd);  /* the callback may have added watches */
        if (i >= 0) {
            free(w->w[i].dir);
            w->w[i] = w->w[--w->n];
        }
    }
}

int dirwatch_run(struct dirwatch *w)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));

    for (;;) {
        struct pollfd p[2] = { { .fd = w->fd, .events = POLLIN },
                               { .fd = w->stop[0], .events = POLLIN } };
        ssize_t n;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (p[1].revents) {
            return 0;
        }
        if (p[0].revents & POLLNVAL) {
            return -EBADF; /* closed under us: never spin on it */
        }
        n = read(w->fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                continue;
            }
            return -errno;
        }
        for (char *q = buf; q < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)q;
            q += sizeof(*ev) + ev->len;
            dispatch(w, ev);
        }
        w->fn(w->opaque, "", NULL, 0);
    }
}

void dirwatch_stop(struct dirwatch *w)
{
    if (write(w->stop[1], "x", 1) < 0) { /* the pipe is never full */
    }
}

void dirwatch_free(struct dirwatch *w)
{
    if (!w) {
        return;
    }
    for (int i = 0; i < w->n; i++) {
        free(w->w[i].dir);
    }
    free(w->w);
    close(w->fd);
    close(w->stop[0]);
    close(w->stop[1]);
    free(w);
}
