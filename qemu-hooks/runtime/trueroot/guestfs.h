/*
 * Host-side access to guest paths, for the runtime's own use (c_mkdir_p,
 * the fakefile store): under the true root a guest path resolves inside the
 * rootfs exactly as the guest's would (openat2 RESOLVE_IN_ROOT); otherwise it
 * is the host path the guest itself would reach.  0/fd or -errno.
 */
#ifndef SFEMU_GUESTFS_H
#define SFEMU_GUESTFS_H

#include <stddef.h>
#include <sys/types.h>

int sfemu_guestfs_open(const char *gpath, int flags, mode_t mode);

/* The host path of the guest's root (malloc'd; the caller frees): "/"
 * without an -L directory (under chroot(8), the chroot).  Taken from the true root's fd when there is one, so a
 * relative -L still names the root after the guest changed directory. */
char *sfemu_guestfs_root_path(void);
int sfemu_guestfs_mkdir_p(const char *gpath, mode_t mode);
/* The target string of a symlink (the last name not followed), and the
 * guest path a path leads to (every link followed), both resolved inside
 * the root under the true root; NUL-terminated in out.  0 or -errno. */
int sfemu_guestfs_readlink(const char *gpath, char *out, size_t cap);
int sfemu_guestfs_realpath(const char *gpath, char *out, size_t cap);
/* The guest's name of a host file a report shows (a mapped library, the
 * program): the root stripped under the true root, a /proc/self/fd/N the
 * file it is, without " (deleted)".  Always 0 (out: host itself otherwise). */
int sfemu_guestfs_guest_name(const char *host, char *out, size_t cap);
/* A relative path inside the rules tree ("cache/x"); ".." is refused. */
int sfemu_guestfs_rules_mkdir_p(const char *rel, mode_t mode);
/* The guest path an fd (or AT_FDCWD: the cwd) refers to, root stripped. */
int sfemu_guestfs_fd_path(int fd, char *out, size_t cap);

#endif
