/*
 * Ownership, mode and device metadata kept beside the upper tree (fakeroot
 * style), so a firmware unpacked by a normal user shows root ownership and
 * chmod/chown/mknod never need privileges or a copy-up.
 *
 * File: <upper>/meta.db, a journal of lines
 *     set <path> <uid> <gid> <mode-octal> <rdev>     (-1 = not overridden)
 *     del <path>                                     (path and everything below)
 *     mv <from> <to>                                 (path and everything below)
 * with paths %-escaped (bytes <= 0x20, '%', 0x7f).  It is replayed and
 * compacted at mount time.
 */
#ifndef SFEMU_META_H
#define SFEMU_META_H

#include <sys/types.h>

struct meta_rec {
    long uid, gid; /* -1: not set */
    long mode;     /* full st_mode (type + perms), -1: not set */
    long rdev;     /* device number for mknod'ed devices, -1: none */
};

struct meta;
struct meta *meta_open(int dirfd, const char *name, char *err, size_t errlen);
void meta_close(struct meta *m);
int meta_get(struct meta *m, const char *rel,
             struct meta_rec *out); /* 1 found, 0 not */
int meta_set(struct meta *m, const char *rel, const struct meta_rec *r);
int meta_del(struct meta *m, const char *rel);
int meta_rename(struct meta *m, const char *from, const char *to);

#endif
