/*
 * Guest errno names.  Derived from QEMU's own host->guest errno mapping
 * (ops->errno_to_guest) and the host's names, so MIPS (whose numbers differ
 * above 34) needs no table of its own.
 */
#ifndef SFEMU_ERRNAMES_H
#define SFEMU_ERRNAMES_H

/* Name ("ENOENT") of a positive guest errno, or NULL. */
const char *sfemu_errno_name(int guest_errno);
/* Guest errno number of a name, or 0. */
int sfemu_errno_num(const char *name);

#endif
