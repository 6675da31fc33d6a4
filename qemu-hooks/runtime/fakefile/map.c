/*
 * mmap of a fake resource (fakefile/map.h).  A fake has no pages of its
 * own (a /dev/null fd inside qemu, a direct-I/O file of the mount), so the
 * mapping is made anonymous with the real syscall, filled with what the
 * state machine serves for it, then given the guest's protection.  A
 * MAP_SHARED mapping the guest may write keeps a copy of the bytes served:
 * at msync and munmap only the bytes that differ from the copy are written
 * back, as FAKEFS_WRITE calls at their file offsets.  A MAP_SHARED mapping
 * the guest may only read is remembered too: it is served again after this
 * process writes to the resource, reads it or sends it an ioctl (any fd),
 * as a driver's shared page would show the new value (Broadcom's
 * /dev/nvram).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call.h"
#include "core/log.h"
#include "core/realcall.h"
#include "core/runtime.h"
#include "core/syscall_names.h"
#include "fakefile/fake.h"
#include "fakefile/map.h"

/* Guest values: the same on ARM and MIPS except MAP_ANONYMOUS. */
#define G_PROT_READ 1
#define G_PROT_WRITE 2
#define G_MAP_SHARED 1
#define G_MAP_PRIVATE 2
#define G_MAP_TYPE 0xf
#define G_MAP_FIXED 0x10
#define G_MAP_ANON_ARM 0x20
#define G_MAP_ANON_MIPS 0x800

/* The largest mapping served: the bytes are built in host memory first. */
#define MAP_MAX (256u << 20)

/* A shared mapping of a fake: writable (seen set), or read-only (seen
 * NULL: refilled after a write or ioctl on the resource). */
struct fake_map {
    uint64_t start, len; /* guest range */
    uint64_t off;        /* file offset of start */
    char *path;
    int fd;              /* the fd it was mapped from (ctx.fd) */
    unsigned char *seen; /* the bytes the resource has, as last known */
    int prot;            /* the guest's protection (read-only ones) */
};

static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fake_map *maps;
static int nmaps, capmaps;
static int live; /* nmaps, read without the lock */
static pthread_once_t nr_once = PTHREAD_ONCE_INIT;
static int nr_mmap2 = -1, nr_mprotect = -1, nr_munmap = -1;

static void nr_init(void)
{
    /* offset 0 only: mmap2 where there is one, else (64-bit) mmap */
    nr_mmap2 = sfemu_syscall_num("mmap2");
    if (nr_mmap2 < 0) {
        nr_mmap2 = sfemu_syscall_num("mmap");
    }
    nr_mprotect = sfemu_syscall_num("mprotect");
    nr_munmap = sfemu_syscall_num("munmap");
}

static int64_t guest_err(int host_errno)
{
    return -(int64_t)sfemu_rt.ops->errno_to_guest(host_errno);
}

static int is_err(int64_t r)
{
    return (uint64_t)sfemu_guest_addr(r) >=
           sfemu_guest_addr(-4096); /* qemu's is_error() */
}

static int64_t real(int num, int64_t a0, int64_t a1, int64_t a2, int64_t a3,
                    int64_t a4, int64_t a5)
{
    int64_t a[SFEMU_NARGS] = { a0, a1, a2, a3, a4, a5, 0, 0 };
    return sfemu_real_syscall(num, a);
}

int sfemu_fake_maps_live(void)
{
    return __atomic_load_n(&live, __ATOMIC_ACQUIRE) != 0;
}

/* The bytes the resource serves for [off, off + len) into buf: how many
 * (the rest of buf is zero), or -errno (host). */
static long serve(const char *path, int fd, uint64_t off, unsigned char *buf,
                  size_t len)
{
    struct fakefs_call c = { .op = FAKEFS_MMAP,
                             .path = path,
                             .offset = off,
                             .out = buf,
                             .outcap = len,
                             .who = sfemu_fake_caller(getpid(), fd) };
    long r = sfemu_fake_dispatch(&c);
    if (r < 0) {
        return r;
    }
    return (long)(c.outlen < len ? c.outlen : len);
}

static void remember(uint64_t start, uint64_t len, uint64_t off,
                     const char *path, int fd, unsigned char *seen, int prot)
{
    char *p = strdup(path);

    pthread_mutex_lock(&map_lock);
    if (p && nmaps == capmaps) {
        int nc = capmaps ? capmaps * 2 : 8;
        struct fake_map *nm = realloc(maps, nc * sizeof(*nm));
        if (nm) {
            maps = nm;
            capmaps = nc;
        }
    }
    if (p && nmaps < capmaps) {
        maps[nmaps++] = (struct fake_map){ start, len, off, p, fd, seen, prot };
        __atomic_store_n(&live, nmaps, __ATOMIC_RELEASE);
        p = NULL;
        seen = NULL;
    } else {
        sfemu_log("fakefile: out of memory: the shared mapping of %s is "
                  "not kept in step with it",
                  path);
    }
    pthread_mutex_unlock(&map_lock);
    free(p);
    free(seen);
}

int64_t sfemu_fake_mmap(int fd, uint64_t addr, uint64_t len, int prot,
                        int flags, uint64_t off)
{
    const char *p = sfemu_fake_fd_path(fd);
    char path[PATH_MAX];
    int anon =
        strncmp(sfemu_rt.t->arch, "mips", 4) ? G_MAP_ANON_ARM : G_MAP_ANON_MIPS;
    /* MAP_SHARED, or MAP_SHARED_VALIDATE (3) */
    int keep = (flags & G_MAP_SHARED) && (prot & G_PROT_WRITE);
    /* read-only and shared: refilled when the resource changes */
    int follow = (flags & G_MAP_SHARED) && !(prot & G_PROT_WRITE) &&
                 (prot & G_PROT_READ);
    uint64_t span =
        (len + SFEMU_MAP_PAGE - 1) & ~(uint64_t)(SFEMU_MAP_PAGE - 1);
    unsigned char *buf;
    int64_t r;
    long n;

    pthread_once(&nr_once, nr_init);
    if (!p) {
        return guest_err(EBADF);
    }
    snprintf(path, sizeof(path), "%s", p);
    if (!len || (off & (SFEMU_MAP_PAGE - 1))) {
        return guest_err(EINVAL);
    }
    if (len > MAP_MAX) {
        return guest_err(ENOMEM);
    }
    if (flags & G_MAP_FIXED) {
        sfemu_fake_map_sync(addr, span, 1);
    }
    buf = calloc(1, span);
    if (!buf) {
        return guest_err(ENOMEM);
    }
    n = serve(path, fd, off, buf, span);
    if (n < 0) {
        free(buf);
        return guest_err((int)-n);
    }
    /* writable while it is filled; the guest's protection after */
    r = real(nr_mmap2, (int64_t)addr, (int64_t)len,
             prot | G_PROT_READ | G_PROT_WRITE,
             (flags & ~(G_MAP_TYPE | anon)) | G_MAP_PRIVATE | anon, -1, 0);
    if (is_err(r)) {
        free(buf);
        return r;
    }
    uint64_t g = sfemu_guest_addr(r);
    if ((n && sfemu_rt.ops->write_mem(g, buf, (size_t)n) != 0) ||
        (prot != (prot | G_PROT_READ | G_PROT_WRITE) &&
         is_err(real(nr_mprotect, (int64_t)g, (int64_t)span, prot, 0, 0, 0)))) {
        real(nr_munmap, (int64_t)g, (int64_t)span, 0, 0, 0, 0);
        free(buf);
        return guest_err(EFAULT);
    }
    if (keep) {
        remember(g, span, off, path, fd, buf, prot);
    } else {
        free(buf);
        if (follow) {
            remember(g, span, off, path, fd, NULL, prot);
        }
    }
    return r;
}

/* Writes back the changed bytes of m in [lo, hi) (map_lock held).  Pages
 * the guest cannot read (unmapped meanwhile) are skipped. */
static void write_back(struct fake_map *m, uint64_t lo, uint64_t hi)
{
    unsigned char page[SFEMU_MAP_PAGE];

    if (!m->seen) {
        return; /* read-only: nothing to write back */
    }
    for (uint64_t pg = lo & ~(uint64_t)(SFEMU_MAP_PAGE - 1); pg < hi;
         pg += SFEMU_MAP_PAGE) {
        uint64_t a = pg < lo ? lo : pg;
        uint64_t b = pg + SFEMU_MAP_PAGE < hi ? pg + SFEMU_MAP_PAGE : hi;
        size_t i = 0, n = (size_t)(b - a);
        unsigned char *seen = m->seen + (a - m->start);

        if (sfemu_rt.ops->read_mem(a, page, n) != 0) {
            continue;
        }
        while (i < n) {
            size_t j;
            long w;
            if (page[i] == seen[i]) {
                i++;
                continue;
            }
            for (j = i; j < n && page[j] != seen[j]; j++) {
            }
            struct fakefs_call c = { .op = FAKEFS_WRITE,
                                     .path = m->path,
                                     .offset = m->off + (a - m->start) + i,
                                     .in = page + i,
                                     .inlen = j - i,
                                     .who =
                                         sfemu_fake_caller(getpid(), m->fd) };
            w = sfemu_fake_dispatch(&c);
            if (w < 0) {
                sfemu_log("fakefile: writing back %zu byte(s) of the shared "
                          "mapping of %s at offset %llu: %s",
                          j - i, m->path, (unsigned long long)c.offset,
                          strerror((int)-w));
            }
            memcpy(seen + i, page + i, j - i); /* not sent twice */
            i = j;
        }
    }
}

/* Drops [lo, hi) from maps[k] (map_lock held): shrinks, splits or
 * removes it. */
static void cut(int k, uint64_t lo, uint64_t hi)
{
    struct fake_map *m = &maps[k];
    uint64_t end = m->start + m->len;

    if (lo <= m->start && hi >= end) {
        free(m->path);
        free(m->seen);
        maps[k] = maps[--nmaps];
        return;
    }
    if (lo > m->start && hi < end && nmaps < capmaps) {
        /* a hole in the middle: the tail becomes a mapping of its own */
        struct fake_map t = { hi,
                              end - hi,
                              m->off + (hi - m->start),
                              strdup(m->path),
                              m->fd,
                              m->seen ? malloc(end - hi) : NULL,
                              m->prot };
        if (t.path && (t.seen || !m->seen)) {
            if (t.seen) {
                memcpy(t.seen, m->seen + (hi - m->start), end - hi);
            }
            maps[nmaps++] = t;
        } else {
            free(t.path);
            free(t.seen);
        }
        m = &maps[k];
        m->len = lo - m->start;
        return;
    }
    if (lo <= m->start) { /* the head goes */
        uint64_t d = hi - m->start;
        if (m->seen) {
            memmove(m->seen, m->seen + d, m->len - d);
        }
        m->start = hi;
        m->off += d;
        m->len -= d;
    } else { /* the tail goes (or the middle, out of room: all after lo) */
        m->len = lo - m->start;
    }
}

void sfemu_fake_map_sync(uint64_t addr, uint64_t len, int gone)
{
    uint64_t end = addr + len;

    if (!sfemu_fake_maps_live()) {
        return;
    }
    pthread_mutex_lock(&map_lock);
    if (gone && nmaps == capmaps) {
        /* room for a split, best effort */
        struct fake_map *nm = realloc(maps, (capmaps + 1) * sizeof(*nm));
        if (nm) {
            maps = nm;
            capmaps++;
        }
    }
    for (int k = nmaps - 1; k >= 0; k--) {
        struct fake_map *m = &maps[k];
        uint64_t lo = addr > m->start ? addr : m->start;
        uint64_t hi = end < m->start + m->len ? end : m->start + m->len;
        if (lo >= hi) {
            continue;
        }
        write_back(m, lo, hi);
        if (gone) {
            cut(k, lo, hi);
        }
    }
    __atomic_store_n(&live, nmaps, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&map_lock);
}

/* Serve m (read-only, map_lock held) again: the pages are made writable
 * for the copy, then get the guest's protection back. */
static void refill(struct fake_map *m)
{
    unsigned char *buf = calloc(1, m->len);
    long n = buf ? serve(m->path, m->fd, m->off, buf, m->len) : -ENOMEM;

    if (n >= 0 &&
        !is_err(real(nr_mprotect, (int64_t)m->start, (int64_t)m->len,
                     m->prot | G_PROT_READ | G_PROT_WRITE, 0, 0, 0))) {
        if (sfemu_rt.ops->write_mem(m->start, buf, m->len) != 0) {
            n = -EFAULT;
        }
        real(nr_mprotect, (int64_t)m->start, (int64_t)m->len, m->prot, 0, 0, 0);
    } else if (n >= 0) {
        n = -EFAULT;
    }
    if (n < 0) {
        sfemu_log("fakefile: cannot refill the shared mapping of %s at "
                  "0x%llx: %s",
                  m->path, (unsigned long long)m->start, strerror((int)-n));
    }
    free(buf);
}

void sfemu_fake_map_refresh(const char *path)
{
    if (!sfemu_fake_maps_live()) {
        return;
    }
    pthread_once(&nr_once, nr_init);
    pthread_mutex_lock(&map_lock);
    for (int k = 0; k < nmaps; k++) {
        if (!maps[k].seen && !strcmp(maps[k].path, path)) {
            refill(&maps[k]);
        }
    }
    pthread_mutex_unlock(&map_lock);
}
