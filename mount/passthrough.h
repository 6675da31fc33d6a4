/* FUSE passthrough for real files (lower and upper tree): after open the
 * kernel reads and writes the backing file itself, so reads run at the
 * backing file's page-cache speed and never reach the daemon. */
#ifndef SFEMU_PASSTHROUGH_H
#define SFEMU_PASSTHROUGH_H

#include <fcntl.h>
#include "sfemu_mount.h"

struct pt_backing;

/* Does an open with these flags change the file (so a firmware file must be
 * copied up first)? */
static inline int pt_open_writes(int flags)
{
    return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

/* From the init handler: ask the kernel for passthrough unless wanted is 0.
 * stack_depth: how many stacked filesystems lie under the backing files. */
void pt_init(struct fuse_conn_info *conn, int wanted, unsigned stack_depth);
/* "on", "off (reason)": for the log and --help. */
const char *pt_state(void);

/* Open of a real file: fd is the daemon's descriptor of the backing file and
 * rel the path that names the FUSE inode; gen is ovl_gen() from before rel
 * was resolved (while it is unchanged, rel names the same file).  Chooses the inode's mode: sets
 * fi->backing_id (passthrough) or fi->keep_cache (page cache), and *out (the
 * reference to drop on release).  *out stays NULL when passthrough is off
 * (then the caller page-caches).  -ETXTBSY: a write to an inode still passed
 * through to the firmware's copy of the file. */
int pt_open(const char *rel, int fd, unsigned gen, struct fuse_file_info *fi,
            struct pt_backing **out);
void pt_release(struct pt_backing *b);
/* Is rel open in passthrough mode (so its backing file must not change)? */
int pt_busy(const char *rel);
/* Log why a change to rel is refused; returns -ETXTBSY. */
int pt_refuse(const char *rel);

/* The namespace moved under open files: keep the path -> inode view right. */
void pt_renamed(const char *from, const char *to);
void pt_removed(const char *rel);
/* The session is over: drop the cached registrations of closed files, and
 * those of files still open as their handles are freed. */
void pt_shutdown(void);

#endif
