/*
 * Missing parents of a create (docs/true-root.md, "Missing parents").  A
 * router's init scripts make /tmp, /var/run ... at boot; a root filesystem
 * ships "/var -> /tmp/var" and no /tmp, so a service's open(O_CREAT),
 * mkdir or bind fails with ENOENT.  The missing directories are made inside
 * the root, one name at a time, each in an fd the kernel resolved in the
 * root (openat2 RESOLVE_IN_ROOT), following the firmware's symlinks there:
 * an absolute link resolves from the root, a dangling one gets its target
 * made.  No host path is ever named; mkdirat gets a single name.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "dirfd.h"
#include "core/log.h"
#include "trueroot/tr.h"

#define TR_MADE_MAX 64
#define TR_MADE_LEN 256

bool tr_make_parents_on; /* set at start-up from -make-parents */

/* The directories made, for the analysis record and reports. */
static struct {
    atomic_bool ready;
    char path[TR_MADE_LEN];
} tr_made[TR_MADE_MAX];
static atomic_int tr_nmade;

/* Record and log a directory just made as name in pfd, once. */
static void tr_note_made(int pfd, const char *name, const char *why)
{
    char link[48], dir[PATH_MAX], g[PATH_MAX + TR_NAME];
    int n = atomic_load(&tr_nmade), i;

    snprintf(link, sizeof(link), TR_MAGIC "%d", pfd);
    if (tr_fd_view(link, dir, false) != 0) {
        snprintf(dir, sizeof(dir), "?");
    }
    snprintf(g, sizeof(g), "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);
    for (i = 0; i < n && i < TR_MADE_MAX; i++) {
        if (atomic_load(&tr_made[i].ready) &&
            !strncmp(tr_made[i].path, g, TR_MADE_LEN - 1)) {
            return; /* made again after the guest removed it */
        }
    }
    i = atomic_fetch_add(&tr_nmade, 1);
    if (i < TR_MADE_MAX) {
        size_t len = strnlen(g, TR_MADE_LEN - 1); /* longer ones cut */

        memcpy(tr_made[i].path, g, len);
        tr_made[i].path[len] = 0;
        atomic_store(&tr_made[i].ready, true);
    }
    sfemu_log("true root: made directory %s (missing parent for %s)", g, why);
}

void sfemu_trueroot_dirs_made(void (*cb)(void *opaque, const char *gpath),
                              void *opaque)
{
    int n = atomic_load(&tr_nmade);

    for (int i = 0; i < n && i < TR_MADE_MAX; i++) {
        if (atomic_load(&tr_made[i].ready)) {
            cb(opaque, tr_made[i].path);
        }
    }
}

static void tr_made_one(void *why, int pfd, const char *name)
{
    tr_note_made(pfd, name, why);
}

/*
 * Make directory path (a guest path, absolute) and its missing parents,
 * each resolved in the root; a missing name that is a dangling symlink is
 * replaced by its target (common/dirfd.c).  0 or -errno.
 */
int tr_mkdirs(const char *path, mode_t mode, const char *why)
{
    const struct dirfd_mkdir how = {
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        .mode = mode,
        .follow_dangling = 1,
        .made = tr_made_one,
        .ud = (void *)why,
    };
    int rc = dirfd_mkdir_p(tr_root_dirfd(), path, &how);

    if (rc == -EBADF) { /* the guest closed the root fd */
        rc = dirfd_mkdir_p(tr_root_dirfd_again(), path, &how);
    }
    return rc;
}

int tr_make_parents(const char *path, bool follow)
{
    char g[PATH_MAX], work[PATH_MAX], next[PATH_MAX];

    if (!tr_make_parents_on) {
        return 0;
    }
    snprintf(g, sizeof(g), "%s", path);
    for (int hops = 0; hops < TR_MAX_HOPS; hops++) {
        const char *parent, *name;
        bool slash;
        int rc;

        memcpy(work, g, strlen(g) + 1);
        if (!tr_split(work, &parent, &name, &slash)) {
            return 0;
        }
        rc = tr_mkdirs(parent, 0755, path);
        if (rc < 0 || !follow) {
            return rc < 0 ? rc : 1;
        }
        /* a dangling last link (O_CREAT follows it): its target's parents */
        rc = tr_last_link(g, next, sizeof(next));
        if (rc <= 0) {
            return rc < 0 ? rc : 1;
        }
        memcpy(g, next, strlen(next) + 1);
    }
    return -ELOOP;
}

void sfemu_trueroot_make_parents(int on)
{
    tr_make_parents_on = on != 0;
}

int sfemu_trueroot_mkdir_p(const char *gpath, mode_t mode)
{
    return tr_mkdirs(gpath, mode, "c_mkdir_p");
}
