/*
 * FUSE passthrough (kernel 6.9+, libfuse 3.17): a real file's open registers
 * the daemon's fd as the backing file (FUSE_DEV_IOC_BACKING_OPEN) and the
 * kernel does the I/O.
 *
 * The kernel takes one backing file per inode while any open of it is passed
 * through, and refuses other opens of that inode meanwhile (EIO to the
 * caller).  So one backing id serves all opens of an inode: the high-level
 * API names inodes by path, hence a path-keyed table that follows renames
 * and unlinks.  Changing a firmware file that is open would need a second
 * backing file (the copy-up): it is refused with ETXTBSY, like writing a
 * running executable.
 *
 * Each open of a passed-through file costs the kernel an open of the
 * backing file (~2.4 us here, about what a whole FUSE open costs
 * otherwise), which small files read again and again do not win back: a
 * read-only open of a file under PT_SMALL whose inode is not open in
 * passthrough mode uses the FUSE page cache instead.  The mode is per
 * inode and only changes while nothing has it open.
 *
 * Cached opens keep the page cache: a passthrough open (never with
 * FOPEN_KEEP_CACHE) drops the inode's pages, and none can be cached while
 * passthrough opens exist, so no page predates a passthrough write.
 *
 * An entry stays after its last close (up to PT_IDLE_MAX, least recently
 * used dropped first): reopening a passed-through file then costs no ioctl.
 * A registration pins the file, so its (dev, ino) cannot be reused by
 * another file while cached; a path now naming another file just gets a
 * new entry.
 *
 * Without the capability (kernel too old, daemon without CAP_SYS_ADMIN,
 * --no-passthrough) files are page-cached as before.
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
#include "str_hash.h"
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
    struct pt_backing *next; /* hash chain (attached entries) */
    struct pt_backing *idle_prev,
        *idle_next; /* LRU of entries with refs == 0 */
    int attached;
    int cached;   /* page-cache mode: no backing id */
    unsigned gen; /* ovl_gen() when dev/ino were checked */
    dev_t dev;
    ino_t ino;
    int id;
    unsigned refs;
    char *rel;
};

#define PT_BUCKETS 1024
#define PT_IDLE_MAX 256
#define PT_SMALL (64 * 1024)
/* RELEASE is sent after close(2) returns: with several worker threads a
 * close-then-reopen can reach the daemon in the other order, so a change
 * first waits this long for the readers' RELEASEs. */
#define PT_RELEASE_WAIT_MS 200

static struct pt_backing *table[PT_BUCKETS];
static struct pt_backing idle = { .idle_prev = &idle, .idle_next = &idle };
static unsigned idle_n;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t released = PTHREAD_COND_INITIALIZER;
static _Atomic int enabled; /* read without the lock on every open */
static int dev_fd = -1, ever_ok;
static char state[96] = "off (not negotiated)";

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
    struct pt_backing **pp = &table[sfemu_str_hash(rel) % PT_BUCKETS];
    while (*pp && strcmp((*pp)->rel, rel)) {
        pp = &(*pp)->next;
    }
    return pp;
}

static void idle_unlink(struct pt_backing *b)
{
    b->idle_prev->idle_next = b->idle_next;
    b->idle_next->idle_prev = b->idle_prev;
    b->idle_prev = b->idle_next = NULL;
    idle_n--;
}

/* Unregister and free an entry nobody has open (off the hash chain). */
static void destroy(struct pt_backing *b)
{
    if (b->idle_next) {
        idle_unlink(b);
    }
    uint32_t id = (uint32_t)b->id;
    if (!b->cached && dev_fd >= 0 &&
        ioctl(dev_fd, PT_IOC_BACKING_CLOSE, &id) < 0) {
        log_msg("passthrough: closing backing id %d: %s", b->id,
                strerror(errno));
    }
    free(b->rel);
    free(b);
}

/* Take *pp off its hash chain; an idle entry has nothing left and goes. */
static void detach(struct pt_backing **pp)
{
    struct pt_backing *b = *pp;
    *pp = b->next;
    b->next = NULL;
    b->attached = 0;
    if (!b->refs) {
        destroy(b);
    }
}

static void put_locked(struct pt_backing *b)
{
    if (--b->refs) {
        return;
    }
    pthread_cond_broadcast(&released);
    if (!b->attached || dev_fd < 0) { /* (dev_fd < 0: shutting down) */
        if (b->attached) {
            detach(find(b->rel));
        } else {
            destroy(b);
        }
        return;
    }
    b->idle_next = &idle; /* most recently used at the tail */
    b->idle_prev = idle.idle_prev;
    idle.idle_prev->idle_next = b;
    idle.idle_prev = b;
    if (++idle_n > PT_IDLE_MAX) {
        detach(find(idle.idle_next->rel));
    }
}

/* Under the lock: the entry for rel once no passthrough open of it blocks a
 * change to st's file (st NULL: to any file), or the blocking one after
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
        if (!b || !b->refs || b->cached ||
            (st && b->dev == st->st_dev && b->ino == st->st_ino)) {
            return pp;
        }
        if (pthread_cond_timedwait(&released, &lock, &until)) {
            return find(rel);
        }
    }
}

/* Register fd as a backing file.  0: passthrough turned out to be
 * unavailable (page caching from now on); -errno. */
static int register_fd(const char *rel, int fd)
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
    log_msg("passthrough: registering /%s: %s", rel, strerror(err));
    return -err;
}

/* The open takes b (already counted): tell the kernel the inode's mode. */
static int hand_out(struct pt_backing *b, struct fuse_file_info *fi,
                    struct pt_backing **out)
{
    if (b->cached) {
        fi->keep_cache = 1;
    } else {
        fi->backing_id = b->id;
    }
    *out = b;
    return 0;
}

int pt_open(const char *rel, int fd, unsigned gen, struct fuse_file_info *fi,
            struct pt_backing **out)
{
    *out = NULL;
    if (!enabled) {
        return 0;
    }
    int w = pt_open_writes(fi->flags);
    /* Fast path for readers: no namespace change since rel's entry was
     * checked, so rel still names that file; its mode stays (no fstat).
     * Never for writers: the open that brought gen may itself have copied
     * a firmware file up, and the entry would then hand the writer the
     * lower file's backing (writes landing in the firmware tree). */
    pthread_mutex_lock(&lock);
    struct pt_backing *b = *find(rel);
    if (b && b->gen == gen && !w) {
        if (!b->refs) {
            idle_unlink(b);
        }
        b->refs++;
        pthread_mutex_unlock(&lock);
        return hand_out(b, fi, out);
    }
    pthread_mutex_unlock(&lock);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        return 0;
    }
    pthread_mutex_lock(&lock);
    struct pt_backing **pp = w ? settled(rel, &st) : find(rel);
    b = *pp;
    int same = b && b->dev == st.st_dev && b->ino == st.st_ino;
    if (b && b->refs) {
        /* Open already: the inode's mode stays.  A passed-through inode
         * whose firmware file was copied up since (rename or truncate while
         * open) takes readers on the old backing file (same data); writers
         * must wait. */
        if (!b->cached && !same && w) {
            pthread_mutex_unlock(&lock);
            return pt_refuse(rel);
        }
    } else {
        int cached = !w && st.st_size < PT_SMALL;
        if (b && (b->cached != cached || !same)) {
            detach(pp);
            b = NULL;
        }
        if (!b) {
            int id = 0;
            if (!cached) {
                id = register_fd(rel, fd);
                if (id <= 0) {
                    pthread_mutex_unlock(&lock);
                    return id;
                }
            }
            b = calloc(1, sizeof *b);
            char *r = strdup(rel);
            if (!b || !r) {
                free(b);
                free(r);
                uint32_t u = (uint32_t)id;
                if (id) {
                    ioctl(dev_fd, PT_IOC_BACKING_CLOSE, &u);
                }
                pthread_mutex_unlock(&lock);
                return -ENOMEM;
            }
            *b = (struct pt_backing){ .attached = 1,
                                      .cached = cached,
                                      .gen = gen,
                                      .dev = st.st_dev,
                                      .ino = st.st_ino,
                                      .id = id,
                                      .rel = r };
            pp = find(rel);
            b->next = *pp;
            *pp = b;
        } else {
            idle_unlink(b);
            b->gen = gen;
        }
    }
    b->refs++;
    pthread_mutex_unlock(&lock);
    return hand_out(b, fi, out);
}

int pt_refuse(const char *rel)
{
    log_msg(
        "passthrough: /%s is open from the firmware tree; changing it waits until "
        "it is closed (ETXTBSY; --no-passthrough lifts this)",
        rel);
    return -ETXTBSY;
}

int pt_busy(const char *rel)
{
    if (!enabled) {
        return 0;
    }
    pthread_mutex_lock(&lock);
    struct pt_backing *b = *settled(rel, NULL);
    int busy = b && b->refs && !b->cached;
    pthread_mutex_unlock(&lock);
    return busy;
}

void pt_release(struct pt_backing *b)
{
    if (!b) {
        return;
    }
    pthread_mutex_lock(&lock);
    put_locked(b);
    pthread_mutex_unlock(&lock);
}

/* Is rel dir itself or under it (n = strlen(dir))? */
static int under(const char *rel, const char *dir, size_t n)
{
    return !strncmp(rel, dir, n) && (rel[n] == '\0' || rel[n] == '/');
}

/* Take every entry at or under from off the table; with to, rename them to
 * the same place under to and collect them on *moved (else they are gone
 * with their names: idle ones are dropped, open ones when closed). */
static void move_tree(const char *from, const char *to,
                      struct pt_backing **moved)
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
            char *r = to ? malloc(strlen(to) + strlen(b->rel + n) + 1) : NULL;
            if (!r) {
                detach(pp);
                continue;
            }
            *pp = b->next;
            strcpy(r, to);
            strcat(r, b->rel + n);
            free(b->rel);
            b->rel = r;
            b->next = *moved;
            *moved = b;
        }
    }
}

void pt_renamed(const char *from, const char *to)
{
    if (!enabled) {
        return;
    }
    struct pt_backing *moved = NULL;
    pthread_mutex_lock(&lock);
    move_tree(from, to, &moved);
    move_tree(to, NULL, NULL); /* what to named before is unlinked */
    while (moved) {
        struct pt_backing *b = moved, **pp = find(b->rel);
        moved = b->next;
        b->next = *pp; /* the target names were cleared above */
        *pp = b;
    }
    pthread_mutex_unlock(&lock);
}

void pt_removed(const char *rel)
{
    if (!enabled) {
        return;
    }
    pthread_mutex_lock(&lock);
    move_tree(rel, NULL, NULL);
    pthread_mutex_unlock(&lock);
}

void pt_shutdown(void)
{
    pthread_mutex_lock(&lock);
    dev_fd = -1; /* the kernel drops the registrations with the connection */
    while (idle.idle_next != &idle) {
        detach(find(idle.idle_next->rel));
    }
    pthread_mutex_unlock(&lock);
}
