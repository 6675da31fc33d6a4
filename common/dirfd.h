/*
 * Files opened and directories made below a directory fd, under the
 * caller's confinement: openat2's RESOLVE_* flags (RESOLVE_BENEATH for a
 * tree, RESOLVE_IN_ROOT for a rootfs, RESOLVE_NO_SYMLINKS for an overlay
 * layer ...), or 0 for a plain openat (no confinement, no openat2 needed).
 */
#ifndef SFEMU_DIRFD_H
#define SFEMU_DIRFD_H

#include <stdint.h>
#include <sys/types.h>

/* Opens path below dirfd with flags | O_CLOEXEC (mode with O_CREAT or
 * O_TMPFILE); an fd, or -errno. */
int dirfd_open(int dirfd, const char *path, int flags, mode_t mode,
               uint64_t resolve);

struct dirfd_mkdir {
    uint64_t resolve; /* how every directory on the way is reached */
    mode_t mode;      /* of a directory made (the umask applies) */
    /* Or, when set, the mode of the directory made at prefix (path up to
     * and with that directory's name). */
    mode_t (*mode_of)(void *ud, const char *prefix);
    void *ud;
};

/* mkdir -p: makes each missing directory of path below dirfd, one at a
 * time, with mkdirat in the fd of its parent, and returns an O_PATH fd of
 * the last one (the caller closes it), or -errno (-ENOTDIR: something else
 * is in the way).  A directory is reached by its path from dirfd under
 * how->resolve, so symlinks on the way are followed as far as the caller's
 * confinement allows and no further.  "" and "." are dirfd itself; an
 * absolute path starts at "/" as resolve sees it (the root of
 * RESOLVE_IN_ROOT, the host's with 0; RESOLVE_BENEATH refuses it). */
int dirfd_mkdir_p_open(int dirfd, const char *path,
                       const struct dirfd_mkdir *how);
/* The same, without the fd: 0 or -errno. */
int dirfd_mkdir_p(int dirfd, const char *path, const struct dirfd_mkdir *how);

/*
 * mkdir -p inside a root whose paths w->open resolves (for example openat2
 * RESOLVE_IN_ROOT on the root's fd), following the root's symlinks as the
 * kernel's walk would: an absolute link resolves from the root, a relative
 * one from its directory, and a dangling link met on the way gets its
 * target made (a root ships /var -> /tmp/var and no /tmp: "/var/run"
 * makes /tmp, /tmp/var, /tmp/var/run).  Each directory is made by
 * mkdirat(P, name) in a directory fd P that w->open returned; w->made (if
 * set) is told of each.  path is absolute.  0 or -errno (-ELOOP after 40
 * links).
 */
struct dirfd_walk {
    int (*open)(void *ud, const char *path, int flags); /* fd or -errno */
    void (*made)(void *ud, int pfd, const char *name);
    void *ud;
};
int dirfd_mkdir_p_in_root(const char *path, mode_t mode,
                          const struct dirfd_walk *w);

#endif
