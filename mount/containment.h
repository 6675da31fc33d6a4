/*
 * Containment of symlinks for the kernel (see docs/mount.md, "Symlinks").
 * --symlinks=contained (default): readlink returns a target that the host
 * kernel resolves to the same object RESOLVE_IN_ROOT would find with the
 * rootfs as root: absolute targets and ".." that would climb above the root
 * are rewritten as relative paths that stay inside the mount.  The firmware's
 * own target is always available as the xattr security.sfemu.symlink.
 * --symlinks=firmware: readlink returns the firmware's target unchanged.
 */
#ifndef SFEMU_CONTAINMENT_H
#define SFEMU_CONTAINMENT_H

#include <stddef.h>
#include "overlay.h"

/* rel: the link's path; target: what the link stores; out: what to return. */
int contain_symlink(struct ovl *o, const char *rel, const char *target,
                    char *out, size_t cap);

#endif
