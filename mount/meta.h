/*
 * Ownership, mode and device metadata kept beside the upper tree (fakeroot
 * style), so a firmware unpacked by a normal user shows root ownership and
 * chmod/chown/mknod never need privileges or a copy-up.
 *
 * File: <upper>/meta.db, a journal of lines
 *     set <path> <uid> <gid> <mode-octal> <rdev>     (-1 = not overridden)
 *     del <path>                                     (path and everything below)
 *     mv <from> <to>                                 (path and everything below)
 *     ln <from> <to>                                 (to shares from's record:
 *                                                     hard links are one file)
 * with paths %-escaped (bytes <= 0x20, '%', 0x7f).  It is replayed at mount
 * time and compacted into a new file that replaces the journal only once it
 * is completely on disk.  A change that cannot be written (ENOSPC, EIO) is
 * refused and leaves the table as it was.
 */
#ifndef SFEMU_META_H
#define SFEMU_META_H

#include <stddef.h>
#include <sys/types.h>

struct meta_rec {
    long uid, gid; /* -1: not set */
    long mode;     /* full st_mode (type + perms), -1: not set */
    long rdev;     /* device number for mknod'ed devices, -1: none */
};

#define META_REC_NONE ((struct meta_rec){ -1, -1, -1, -1 })

struct meta;
/* Replay dirfd/name and compact it.  exists (may be NULL) drops records of
 * paths that no longer exist (a deletion whose "del" could not be written).
 * NULL with err set when the journal cannot be read or opened for append. */
struct meta *meta_open(int dirfd, const char *name,
                       int (*exists)(void *ud, const char *rel), void *ud,
                       char *err, size_t errlen);
void meta_close(struct meta *m);
int meta_get(struct meta *m, const char *rel,
             struct meta_rec *out); /* 1 found, 0 not */
/* 0 or -errno (then nothing changed). */
int meta_set(struct meta *m, const char *rel, const struct meta_rec *r);
int meta_del(struct meta *m, const char *rel);
int meta_rename(struct meta *m, const char *from, const char *to);
int meta_link(struct meta *m, const char *from, const char *to);
/* How compaction went at open: "" or a message for the log. */
const char *meta_note(const struct meta *m);

#endif
