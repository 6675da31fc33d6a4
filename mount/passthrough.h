/* FUSE passthrough for real files (lower and upper tree): after open the
 * kernel reads and writes the backing file itself, so reads run at the
 * backing file's page-cache speed and never reach the daemon. */
#ifndef SFEMU_PASSTHROUGH_H
#define SFEMU_PASSTHROUGH_H

#include <fcntl.h>
#define FUSE_USE_VERSION 317
#include <fuse_lowlevel.h>
#include "inode.h"

/* Does an open with these flags change the file (so a firmware file must be
 * copied up first)? */
static inline int pt_open_writes(int flags)
{
    return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

/* From the init handler: ask the kernel for passthrough unless wanted is 0.
 * stack_depth: how many stacked filesystems lie under the backing files;
 * dev_fd: the session's /dev/fuse descriptor. */
void pt_init(struct fuse_conn_info *conn, int wanted, unsigned stack_depth,
             int dev_fd);
/* "on", "off (reason)": for the log. */
const char *pt_state(void);

/* Open of a real file of inode i: fd is the daemon's descriptor of the
 * backing file.  Chooses the inode's mode: sets fi->backing_id
 * (passthrough) or fi->keep_cache (page cache).  1: counted (pt_release()
 * on release), 0: passthrough is off (the caller page-caches), -ETXTBSY: a
 * write to an inode still passed through to the firmware's copy. */
int pt_open(struct inode *i, int fd, struct fuse_file_info *fi);
void pt_release(struct inode *i);
/* Is i open in passthrough mode (so its backing file must not change)?
 * Waits a little for late RELEASEs first. */
int pt_busy(struct inode *i);
/* Log why a change to path is refused; returns -ETXTBSY. */
int pt_refuse(const char *path);
/* i is being freed (inode table lock held): drop its registration. */
void pt_forget(struct inode *i);
/* The session is over: registrations die with the connection. */
void pt_shutdown(void);

#endif
