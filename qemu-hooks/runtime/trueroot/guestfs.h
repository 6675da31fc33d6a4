/*
 * Host-side access to guest paths, for the runtime's own use (c_mkdir_p,
 * the fakefile store): under the true root a guest path resolves inside the
 * rootfs exactly as the guest's would (openat2 RESOLVE_IN_ROOT); otherwise it
 * is the host path the guest itself would reach.  0/fd or -errno.
 */
#ifndef SFEMU_GUESTFS_H
#define SFEMU_GUESTFS_H

#include <sys/types.h>

int sfemu_guestfs_open(const char *gpath, int flags, mode_t mode);
int sfemu_guestfs_mkdir_p(const char *gpath, mode_t mode);
/* A relative path inside the rules tree ("cache/x"); ".." is refused. */
int sfemu_guestfs_rules_mkdir_p(const char *rel, mode_t mode);
/* The guest path an fd (or AT_FDCWD: the cwd) refers to, root stripped. */
int sfemu_guestfs_fd_path(int fd, char *out, size_t cap);

#endif
