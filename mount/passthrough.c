/*
 * FUSE passthrough (kernel 6.9+, libfuse 3.17): a real file's open registers
 * the daemon's fd as the backing file (FUSE_DEV_IOC_BACKING_OPEN) and the
 * kernel does the I/O.  The kernel refuses a second backing file for an
 * inode that is still open in passthrough mode (-EBUSY, seen by the caller
 * as EIO), so one backing id is shared by all opens of an inode: the
 * high-level API names inodes by path, hence a path-keyed table that follows
 * renames and unlinks.  Once passed through, an inode takes no other
 * backing file and no non-passthrough open until its last open is closed:
 * changing a firmware file that is open is refused with ETXTBSY, like
 * writing a running executable.  Without the capability (kernel too old, daemon
 * without CAP_SYS_ADMIN, --no-passthrough) files are page-cached as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include "passthrough.h"
#include <fuse_lowlevel.h>

/* <linux/fuse.h> of kernel 6.9; Debian 12's kernel headers predate it. */
struct pt_backing_map {
    int32_t fd;
    uint32_t flags;
    uint64_t padding;
};
#define PT_IOC_BACKING_OPEN _IOW(229, 1, struct pt_backing_map)
#define PT_IOC_BACKING_CLOSE _IOW(229, 2, uint32_t)

struct pt_backing {
    struct pt_backing *next;   /* hash chain; detached entries are off it */
    int attached;
    dev_t dev;
    ino_t ino;
    int id;
    unsigned refs;
    char *rel;
};

#define PT_BUCKETS 1024
static struct pt_backing *table[PT_BUCKETS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t released = PTHREAD_COND_INITIALIZER;
/* RELEASE is sent after close(2) returns: with several worker threads a
 * close-then-reopen can reach the daemon in the other order, so a change
 * first waits this long for the readers' RELEASEs. */
#define PT_RELEASE_WAIT_MS 200
static _Atomic int enabled;   /* read without the lock on every open */
static int dev_fd = -1, ever_ok;
static char state[96] = "off (not negotiated)";

static unsigned slot(const char *p)
{
    unsigned x = 2166136261u;
    for (; *p; p++)
        x = (x ^ (unsigned char)*p) * 16777619u;
    return x % PT_BUCKETS;
}

void pt_init(struct fuse_conn_info *conn, int wanted, unsigned stack_depth)
{
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
    dev_fd = fuse_session_fd(fuse_get_session(fuse_get_context()->fuse));
    enabled = 1;
    snprintf(state, sizeof state, "on");
}

const char *pt_state(void)
{
    return state;
}

static struct pt_backing **find(const char *rel)
{
    struct pt_backing **pp = &table[slot(rel)];
    while (*pp && strcmp((*pp)->rel, rel))
        pp = &(*pp)->next;
    return pp;
}

static void detach(struct pt_backing **pp)
{
    struct pt_backing *b = *pp;
    *pp = b->next;
    b->next = NULL;
    b->attached = 0;
}

static void put_locked(struct pt_backing *b)
{
    if (--b->refs)
        return;
    if (b->attached)
        detach(find(b->rel));
    uint32_t id = (uint32_t)b->id;
    if (ioctl(dev_fd, PT_IOC_BACKING_CLOSE, &id) < 0)
        log_msg("passthrough: closing backing id %d: %s", b->id, strerror(errno));
    free(b->rel);
    free(b);
    pthread_cond_broadcast(&released);
}

/* Under the lock: the attached entry for rel once it no longer blocks a
 * change to (dev, ino) (NULL or the same file), or the blocking one after
 * PT_RELEASE_WAIT_MS. */
static struct pt_backing **settled(const char *rel, const struct stat *st)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += PT_RELEASE_WAIT_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    for (;;) {
        struct pt_backing **pp = find(rel), *b = *pp;
        if (!b || (st && b->dev == st->st_dev && b->ino == st->st_ino))
            return pp;
        if (pthread_cond_timedwait(&released, &lock, &until))
            return find(rel);
    }
}

static int writes(int flags)
{
    return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

int pt_open(const char *rel, int fd, struct fuse_file_info *fi, struct pt_backing **out)
{
    *out = NULL;
    if (!enabled)
        return 0;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    pthread_mutex_lock(&lock);
    struct pt_backing **pp = writes(fi->flags) ? settled(rel, &st) : find(rel), *b = *pp;
    if (b && (b->dev != st.st_dev || b->ino != st.st_ino)) {
        /* The inode is passed through to the firmware's file, which has
         * been copied up since (rename or truncate while open).  The kernel
         * takes no other backing file and no non-passthrough open until
         * the last of those opens is closed: readers share the old backing
         * file (same data), writers must wait. */
        if (writes(fi->flags)) {
            pthread_mutex_unlock(&lock);
            return pt_refuse(rel);
        }
    }
    if (!b) {
        struct pt_backing_map map = { .fd = fd };
        int id = ioctl(dev_fd, PT_IOC_BACKING_OPEN, &map);
        if (id <= 0) {
            int err = id < 0 ? errno : EINVAL;
            if (!ever_ok) {
                /* EPERM: needs CAP_SYS_ADMIN; ELOOP: layers stacked too
                 * deep.  No inode is in passthrough mode yet, so every file
                 * can go back to page caching. */
                enabled = 0;
                snprintf(state, sizeof state, "off (registering a backing file: %s%s)",
                         strerror(err), err == EPERM ? "; needs CAP_SYS_ADMIN" : "");
                log_msg("passthrough %s", state);
                pthread_mutex_unlock(&lock);
                return 0;
            }
            pthread_mutex_unlock(&lock);
            log_msg("passthrough: registering /%s: %s", rel, strerror(err));
            return -err;
        }
        ever_ok = 1;
        b = calloc(1, sizeof *b);
        char *r = strdup(rel);
        if (!b || !r) {
            free(b);
            free(r);
            uint32_t u = (uint32_t)id;
            ioctl(dev_fd, PT_IOC_BACKING_CLOSE, &u);
            pthread_mutex_unlock(&lock);
            return -ENOMEM;
        }
        *b = (struct pt_backing){ .next = NULL, .attached = 1, .dev = st.st_dev,
                                  .ino = st.st_ino, .id = id, .rel = r };
        *pp = b;
    }
    b->refs++;
    pthread_mutex_unlock(&lock);
    fi->backing_id = b->id;
    *out = b;
    return 0;
}

int pt_refuse(const char *rel)
{
    log_msg("passthrough: /%s is open from the firmware tree; changing it waits until "
            "it is closed (ETXTBSY; --no-passthrough lifts this)", rel);
    return -ETXTBSY;
}

int pt_busy(const char *rel)
{
    if (!enabled)
        return 0;
    pthread_mutex_lock(&lock);
    int busy = *settled(rel, NULL) != NULL;
    pthread_mutex_unlock(&lock);
    return busy;
}

void pt_release(struct pt_backing *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&lock);
    put_locked(b);
    pthread_mutex_unlock(&lock);
}

/* Is rel dir itself or under it (n = strlen(dir))? */
static int under(const char *rel, const char *dir, size_t n)
{
    return !strncmp(rel, dir, n) && (rel[n] == '\0' || rel[n] == '/');
}

/* Move every attached entry at or under from to the same place under to
 * (to NULL: detach them, the inodes lost their names). */
static void move_tree(const char *from, const char *to, struct pt_backing **moved)
{
    size_t n = strlen(from);
    for (unsigned i = 0; i < PT_BUCKETS; i++) {
        struct pt_backing **pp = &table[i];
        while (*pp) {
            struct pt_backing *b = *pp;
            if (!under(b->rel, from, n)) {
                pp = &b->next;
                continue;
            }
            detach(pp);
            if (!to)
                continue;
            char *r = malloc(strlen(to) + strlen(b->rel + n) + 1);
            if (!r)
                continue;  /* stays detached: later opens get a new backing */
            strcpy(r, to);
            strcat(r, b->rel + n);
            free(b->rel);
            b->rel = r;
            b->next = *moved;
            *moved = b;
        }
    }
}

static void attach_all(struct pt_backing *list)
{
    while (list) {
        struct pt_backing *b = list, **pp;
        list = b->next;
        pp = find(b->rel);
        b->next = NULL;
        if (*pp)      /* cannot happen: the target names were cleared */
            continue;
        b->attached = 1;
        *pp = b;
    }
}

void pt_renamed(const char *from, const char *to)
{
    if (!enabled)
        return;
    struct pt_backing *moved = NULL;
    pthread_mutex_lock(&lock);
    move_tree(from, to, &moved);
    move_tree(to, NULL, NULL);   /* what to named before is unlinked */
    attach_all(moved);
    pthread_mutex_unlock(&lock);
}

void pt_removed(const char *rel)
{
    if (!enabled)
        return;
    pthread_mutex_lock(&lock);
    move_tree(rel, NULL, NULL);
    pthread_mutex_unlock(&lock);
}
