/*
 * Quiet failures on fake resources, logged once per path: a guest whose
 * mmap of a fake fails (its fakeconfig refused it, or no rule emulates the
 * mapping), or that gets ENODEV/ENXIO from one, fails in a way nothing
 * else reports.  An observer: it looks only at
 * results that are already errors, so it costs a compare per syscall.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errnames.h"
#include "core/log.h"
#include "core/observer.h"
#include "core/runtime.h"
#include "core/syscall_names.h"
#include "fakefile/fake.h"
#include "trueroot/guestfs.h"

#define NOTICE_MAX 64

static int nr_mmap = -1, nr_mmap2 = -1;
static pthread_mutex_t notice_lock = PTHREAD_MUTEX_INITIALIZER;
static char *noticed[NOTICE_MAX];
static int nnoticed;

/* Syscalls whose first argument is an fd the error may come from. */
static const char *const fd_calls[] = {
    "read",    "write",     "ioctl",       "pread64",  "pwrite64",   "readv",
    "writev",  "lseek",     "_llseek",     "fstat",    "fstat64",    "fcntl",
    "fcntl64", "ftruncate", "ftruncate64", "sendfile", "sendfile64", NULL,
};
static uint8_t *fd_call; /* per syscall index: 1 = its fd is argument 0 */
static int tab_base, tab_count;

/* The guest path of a fake resource behind fd, in out; 0 if not a fake. */
static int fake_behind(int fd, char *out, size_t cap)
{
    const char *p = sfemu_fake_fd_path(fd);
    char rec[PATH_MAX + 16];
    int rfd;

    if (p) { /* a fake served inside qemu */
        snprintf(out, cap, "%s", p);
        return 1;
    }
    if (!sfemu_fake_mounted() || sfemu_guestfs_fd_path(fd, out, cap) < 0) {
        return 0;
    }
    /* served by the mount: a fake has its record beside it */
    snprintf(rec, sizeof(rec), "%s.fakefile", out);
    rfd = sfemu_guestfs_open(rec, O_PATH, 0);
    if (rfd < 0) {
        return 0;
    }
    close(rfd);
    return 1;
}

/* Once per path and kind of failure (mmap, ENODEV, ENXIO). */
static int first_notice(const char *kind, const char *gpath)
{
    char path[PATH_MAX + 16];
    int first = 1;

    snprintf(path, sizeof(path), "%s %s", kind, gpath);
    pthread_mutex_lock(&notice_lock);
    for (int i = 0; i < nnoticed && first; i++) {
        first = strcmp(noticed[i], path) != 0;
    }
    if (first && nnoticed < NOTICE_MAX) {
        noticed[nnoticed] = strdup(path);
        nnoticed += noticed[nnoticed] != NULL;
    }
    pthread_mutex_unlock(&notice_lock);
    return first;
}

static void notice_exit(int num, const int64_t a[SFEMU_NARGS], int64_t ret,
                        int intercepted)
{
    char path[PATH_MAX];
    const char *name, *what;
    int fd, idx = num - tab_base;

    (void)intercepted;
    if (ret >= 0 || ret < -4095) {
        return; /* the common case: not an error */
    }
    if (num == nr_mmap || num == nr_mmap2) {
        fd = (int)a[4];
        what = "mmap";
    } else if ((ret == -ENODEV || ret == -ENXIO) && idx >= 0 &&
               idx < tab_count && fd_call[idx]) {
        fd = (int)a[0];
        what = NULL;
    } else {
        return;
    }
    if (fd < 0 || !fake_behind(fd, path, sizeof(path)) ||
        !first_notice(what             ? what
                      : ret == -ENODEV ? "ENODEV"
                                       : "ENXIO",
                      path)) {
        return;
    }
    name = sfemu_syscall_name(num);
    if (what) {
        sfemu_log("fakefile: mmap of the fake resource %s failed (%s): its "
                  "fakeconfig refused it, or no rule serves %s "
                  "(rules_examples/syscall/; docs/fakefile.md \"mmap\")",
                  path,
                  sfemu_errno_name((int)-ret) ? sfemu_errno_name((int)-ret)
                                              : "?",
                  name ? name : "mmap");
    } else {
        sfemu_log("fakefile: %s on the fake resource %s failed with %s "
                  "(its fakeconfig answered so, or the mount could not serve "
                  "it; docs/fakefile.md)",
                  name ? name : "?", path, ret == -ENODEV ? "ENODEV" : "ENXIO");
    }
}

static const struct sfemu_observer notice_observer = {
    .name = "fakefile-notice",
    .exit = notice_exit,
};

void sfemu_fake_notice_init(void)
{
    const char *arch = sfemu_rt.t ? sfemu_rt.t->arch : "";

    tab_base = sfemu_syscall_base();
    tab_count = sfemu_syscall_count();
    fd_call = calloc(tab_count > 0 ? tab_count : 1, 1);
    if (!fd_call) {
        return;
    }
    for (int i = 0; fd_calls[i]; i++) {
        int n = sfemu_syscall_num(fd_calls[i]) - tab_base;
        if (n >= 0 && n < tab_count) {
            fd_call[n] = 1;
        }
    }
    /* ARM EABI's "mmap" slot is the old one-struct call: mmap2 only */
    if (strncmp(arch, "arm", 3) != 0) {
        nr_mmap = sfemu_syscall_num("mmap");
    }
    nr_mmap2 = sfemu_syscall_num("mmap2");
    sfemu_observer_add(&notice_observer);
}
