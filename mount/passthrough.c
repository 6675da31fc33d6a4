/*
 * FUSE passthrough (kernel 6.9+, libfuse 3.17): a real file's open registers
 * the daemon's fd as the backing file (FUSE_DEV_IOC_BACKING_OPEN) and the
 * kernel does the I/O.
 *
 * The kernel takes one backing file per inode while any open of it is passed
 * through, and refuses other opens of that inode meanwhile (EIO to the
 * caller).  So one backing id serves all opens of an inode (struct
 * pt_inode).  Changing a firmware file that is open would need a second
 * backing file (the copy-up): it is refused with ETXTBSY, like writing a
 * running executable.
 *
 * Each open of a passed-through file costs the kernel an open of the
 * backing file (~2.4 us here, about what a whole FUSE open costs
 * otherwise), which small files read again and again do not win back: a
 * read-only open of a file under PT_SMALL whose inode is not open in
 * passthrough mode uses the FUSE page cache instead.  The mode is per
 * inode and only changes while nothing has it open.  A passthrough open
 * (never with FOPEN_KEEP_CACHE) drops the inode's pages, and none can be
 * cached while passthrough opens exist, so no page predates a passthrough
 * write.
 *
 * A registration stays after the last close (up to PT_IDLE_MAX, least
 * recently used dropped first), so reopening costs no ioctl; it goes with
 * the inode.
 *
 * Without the capability (kernel too old, daemon without CAP_SYS_ADMIN,
 * --no-passthrough) files are page-cached.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include "passthrough.h"
#include "sfemu_mount.h"

/* <linux/fuse.h> of kernel 6.9; Debian 12's kernel headers predate it. */
struct pt_backing_map {
    int32_t fd;
    uint32_t flags;
    uint64_t padding;
};
#define PT_IOC_BACKING_OPEN _IOW(229, 1, struct pt_backing_map)
#define PT_IOC_BACKING_CLOSE _IOW(229, 2, uint32_t)

#define PT_IDLE_MAX 256
#define PT_SMALL (64 * 1024)
/* RELEASE is sent after close(2) returns: with several worker threads a
 * close-then-reopen can reach the daemon in the other order, so a change
 * first waits this long for the readers' RELEASEs. */
#define PT_RELEASE_WAIT_MS 200

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t released = PTHREAD_COND_INITIALIZER;
static struct inode idle; /* LRU sentinel (idle_next: oldest) */
static unsigned idle_n;
static _Atomic int enabled; /* read without the lock on every open */
static int dev_fd = -1, ever_ok;
static char state[96] = "off (not negotiated)";

void pt_init(struct fuse_conn_info *conn, int wanted, unsigned stack_depth,
             int fd)
{
    idle.pt.idle_next = idle.pt.idle_prev = &idle;
    if (!wanted) {
        snprintf(state, sizeof state, "off (--no-passthrough)");
        return;
    }
    conn->max_backing_stack_depth = stack_depth;
    if (!fuse_set_feature_flag(conn, FUSE_CAP_PASSTHROUGH)) {
        snprintf(state, sizeof state, "off (the kernel does not offer it)");
        return;
    }
    /* Writeback caching and passthrough exclude each other. */
    fuse_unset_feature_flag(conn, FUSE_CAP_WRITEBACK_CACHE);
    dev_fd = fd;
    enabled = 1;
    snprintf(state, sizeof state, "on");
}

const char *pt_state(void)
{
    return state;
}

static void idle_unlink(struct inode *i)
{
    if (!i->pt.idle_next) {
        return;
    }
    i->pt.idle_prev->pt.idle_next = i->pt.idle_next;
    i->pt.idle_next->pt.idle_prev = i->pt.idle_prev;
    i->pt.idle_prev = i->pt.idle_next = NULL;
    idle_n--;
}

static void unregister(struct inode *i)
{
    idle_unlink(i);
    if (i->pt.id > 0 && dev_fd >= 0) {
        uint32_t id = (uint32_t)i->pt.id;
        if (ioctl(dev_fd, PT_IOC_BACKING_CLOSE, &id) < 0) {
            log_msg("passthrough: closing backing id %d: %s", i->pt.id,
                    strerror(errno));
        }
    }
    i->pt.id = 0;
}

/* Register fd as i's backing file.  0: passthrough turned out to be
 * unavailable (page caching from now on); -errno. */
static int register_fd(int fd)
{
    struct pt_backing_map map = { .fd = fd };
    int id = ioctl(dev_fd, PT_IOC_BACKING_OPEN, &map);
    if (id > 0) {
        ever_ok = 1;
        return id;
    }
    int err = id < 0 ? errno : EINVAL;
    if (!ever_ok) {
        /* EPERM: needs CAP_SYS_ADMIN; ELOOP: layers stacked too deep.  No
         * inode is in passthrough mode yet, so every file can go back to
         * page caching. */
        enabled = 0;
        snprintf(state, sizeof state, "off (registering a backing file: %s%s)",
                 strerror(err), err == EPERM ? "; needs CAP_SYS_ADMIN" : "");
        log_msg("passthrough %s", state);
        return 0;
    }
    log_msg("passthrough: registering a backing file: %s", strerror(err));
    return -err;
}

/* Wait (lock held) until no passthrough open of i pins a backing file
 * other than (dev, ino) (ino 0: any), at most PT_RELEASE_WAIT_MS.
 * 1: still pinned. */
static int pinned(struct inode *i, dev_t dev, ino_t ino)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += PT_RELEASE_WAIT_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    for (;;) {
        if (!i->pt.open || i->pt.cached ||
            (ino && i->pt.dev == dev && i->pt.ino == ino)) {
            return 0;
        }
        if (pthread_cond_timedwait(&released, &lock, &until)) {
            return 1;
        }
    }
}

int pt_open(struct inode *i, int fd, struct fuse_file_info *fi)
{
    if (!enabled) {
        return 0;
    }
    int w = pt_open_writes(fi->flags);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        return 0;
    }
    pthread_mutex_lock(&lock);
    int same = i->pt.id && i->pt.dev == st.st_dev && i->pt.ino == st.st_ino;
    if (i->pt.open && w && !i->pt.cached && !same) {
        /* passed through to the firmware's copy, which was copied up since
         * (a rename or truncate while open): readers share the old
         * backing file (same data), writers must wait */
        if (pinned(i, st.st_dev, st.st_ino)) {
            pthread_mutex_unlock(&lock);
            return -ETXTBSY;
        }
    }
    if (!i->pt.open) {
        int cached = !w && st.st_size < PT_SMALL;
        i->pt.cached = cached;
        if (!cached && !same) {
            unregister(i);
            int id = register_fd(fd);
            if (id <= 0) {
                pthread_mutex_unlock(&lock);
                return id;
            }
            i->pt.id = id;
            i->pt.dev = st.st_dev;
            i->pt.ino = st.st_ino;
        }
        idle_unlink(i);
    }
    i->pt.open++;
    if (i->pt.cached) {
        fi->keep_cache = 1;
    } else {
        fi->backing_id = i->pt.id;
        fi->keep_cache = 0;
    }
    pthread_mutex_unlock(&lock);
    return 1;
}

void pt_release(struct inode *i)
{
    pthread_mutex_lock(&lock);
    if (i->pt.open && --i->pt.open == 0) {
        pthread_cond_broadcast(&released);
        if (i->pt.id && dev_fd >= 0) {
            /* most recently used at the tail */
            i->pt.idle_next = &idle;
            i->pt.idle_prev = idle.pt.idle_prev;
            idle.pt.idle_prev->pt.idle_next = i;
            idle.pt.idle_prev = i;
            if (++idle_n > PT_IDLE_MAX) {
                unregister(idle.pt.idle_next);
            }
        }
    }
    pthread_mutex_unlock(&lock);
}

int pt_busy(struct inode *i)
{
    if (!enabled) {
        return 0;
    }
    pthread_mutex_lock(&lock);
    int busy = pinned(i, 0, 0);
    pthread_mutex_unlock(&lock);
    return busy;
}

int pt_refuse(const char *path)
{
    log_msg(
        "passthrough: /%s is open from the firmware tree; changing it waits until "
        "it is closed (ETXTBSY; --no-passthrough lifts this)",
        path ? path : "(unnamed)");
    return -ETXTBSY;
}

void pt_forget(struct inode *i)
{
    pthread_mutex_lock(&lock);
    unregister(i);
    pthread_mutex_unlock(&lock);
}

void pt_shutdown(void)
{
    pthread_mutex_lock(&lock);
    dev_fd = -1; /* the kernel drops the registrations with the connection */
    while (idle.pt.idle_next && idle.pt.idle_next != &idle) {
        struct inode *i = idle.pt.idle_next;
        idle_unlink(i);
        i->pt.id = 0;
    }
    pthread_mutex_unlock(&lock);
}
