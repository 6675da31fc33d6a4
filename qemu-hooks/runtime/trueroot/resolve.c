/*
 * A location (locate.c) as an fd the kernel resolved once: inside the root
 * with RESOLVE_IN_ROOT, under a host exception with RESOLVE_BENEATH from
 * the exception, magic links refused in both.  The calls then act on the
 * fd ("/proc/self/fd/N" with nothing after it, or *at(fd, ...)), never on
 * a name the kernel would resolve a second time.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/runtime.h"
#include "trueroot/tr.h"

#define TR_BENEATH (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

/* The exception's own fd: /proc is kept open, others opened per call. */
int tr_loc_base(struct sfemu_tr_call *c, struct tr_loc *l, bool high)
{
    int fd;

    if (l->base >= 0) {
        return l->base;
    }
    if (l->proc) {
        l->base = tr_proc_fd();
        return l->base;
    }
    /* The exception's host path is the user's (trusted) setting. */
    fd = open(l->exc, O_PATH | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    l->base = tr_hold(c, high ? tr_fd_high(fd) : fd);
    return l->base;
}

int tr_loc_fd(struct sfemu_tr_call *c, struct tr_loc *l, int flags, int op)
{
    int fd, rc;

    switch (l->where) {
    case TW_ROOT:
        fd = tr_open_in_root(l->path, flags);
        if (fd == -ENOENT && !(flags & O_NOFOLLOW)) {
            rc = tr_relocate_dangling(l, op);
            if (rc < 0) {
                return rc;
            }
            if (rc > 0) {
                return tr_loc_fd(c, l, flags, op);
            }
        }
        return tr_hold(c, fd);
    case TW_HOST:
        if (!l->path[0]) {
            fd = open(l->exc, flags | O_CLOEXEC);
            return tr_hold(c, fd < 0 ? -errno : fd);
        }
        fd = tr_loc_base(c, l, false);
        if (fd < 0) {
            return fd;
        }
        return tr_hold(c, tr_openat2(fd, l->path, (uint64_t)flags, TR_BENEATH));
    case TW_FD:
        fd = open(l->fdlink, flags | O_CLOEXEC);
        return tr_hold(c, fd < 0 ? -errno : fd);
    case TW_EXE:
        fd = open(sfemu_rt.t->exec_path, flags | O_CLOEXEC);
        return tr_hold(c, fd < 0 ? -errno : fd);
    }
    return -EINVAL;
}

int tr_loc_parent(struct sfemu_tr_call *c, struct tr_loc *l, int *pfd,
                  char name[TR_NAME])
{
    char work[PATH_MAX];
    const char *parent, *last;
    bool slash;
    int fd;

    snprintf(work, sizeof(work), "%s", l->path);
    if (l->where == TW_ROOT) {
        if (!tr_split(work, &parent, &last, &slash)) {
            /* ".", ".." or "/": the directory itself, as "dir/." */
            fd = tr_loc_fd(c, l, O_PATH, OP_INSPECT);
            snprintf(name, TR_NAME, ".");
        } else {
            fd = tr_hold(c, tr_open_in_root(parent, O_PATH | O_DIRECTORY));
            if (snprintf(name, TR_NAME, "%s%s", last, slash ? "/" : "") >=
                TR_NAME) {
                return -ENAMETOOLONG;
            }
        }
    } else if (l->where != TW_HOST) {
        return -EINVAL;
    } else if (!l->path[0]) {
        /* the exception itself: its entry in its host parent */
        char exc[PATH_MAX];

        snprintf(exc, sizeof(exc), "%s", l->exc);
        snprintf(name, TR_NAME, "%s", basename(exc));
        snprintf(exc, sizeof(exc), "%s", l->exc);
        fd = open(dirname(exc), O_PATH | O_DIRECTORY | O_CLOEXEC);
        fd = tr_hold(c, fd < 0 ? -errno : fd);
    } else if (!strchr(work, '/')) {
        fd = tr_loc_base(c, l, false);
        if (snprintf(name, TR_NAME, "%s", work) >= TR_NAME) {
            return -ENAMETOOLONG;
        }
    } else {
        char *slashp = strrchr(work, '/');

        *slashp = 0;
        if (snprintf(name, TR_NAME, "%s", slashp + 1) >= TR_NAME) {
            return -ENAMETOOLONG;
        }
        fd = tr_loc_base(c, l, false);
        if (fd >= 0) {
            fd = tr_hold(
                c, tr_openat2(fd, work, O_PATH | O_DIRECTORY, TR_BENEATH));
        }
    }
    if (fd < 0) {
        return fd;
    }
    *pfd = fd;
    return 0;
}
