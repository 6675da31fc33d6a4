/*
 * The ring client of this qemu process (fakefile/transport.h): finds the
 * daemon's control socket from the mount (the FAKEFS_RING_XATTR attribute
 * of the guest root), connects once per process, and says once per process
 * when the fake resources stop (or start again) being served by the
 * daemon.  The syscall fast path never comes here: only operations on fake
 * resources do.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"
#include "trueroot/guestfs.h"
#include "fakefile/transport.h"
#include "core/log.h"
#include "core/options.h"
#include "core/runtime.h"

static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fakefs_ring_client *ring;
static pid_t ring_owner; /* the process the state below belongs to */
/* Connections in use by a call (ring_get to ring_put): a dropped one is
 * closed (unmapped) when its last call is done. */
#define RING_HELD_MAX 8
static struct held {
    struct fakefs_ring_client *c;
    int users, dropped;
} held[RING_HELD_MAX];
static time_t retry_at; /* no connection before this time */
static int said_down;   /* the fallback was logged */
static int said_rules;  /* the rules tree was compared */

static time_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static struct held *held_of(struct fakefs_ring_client *c)
{
    for (int i = 0; i < RING_HELD_MAX; i++) {
        if (held[i].c == c) {
            return &held[i];
        }
    }
    return NULL;
}

/* Stop handing out the current connection (ring_lock held); it is closed
 * now, or by the last call still using it. */
static void ring_drop(void)
{
    struct held *h = ring ? held_of(ring) : NULL;

    if (h && h->users) {
        h->dropped = 1;
    } else if (ring) {
        fakefs_ring_close(ring);
        if (h) {
            h->c = NULL;
        }
    }
    ring = NULL;
}

/* Give the ring up for a while; say so once per process. */
static void ring_down(const char *why)
{
    ring_drop();
    retry_at = now_s() + SFEMU_RING_RETRY_S;
    if (!said_down) {
        said_down = 1;
        sfemu_log("fakefile: %s: fake resources are served inside this qemu "
                  "(pid %d) from now on, a second copy of their state "
                  "(docs/ring.md)",
                  why, (int)getpid());
    }
}

/* The daemon's host paths as this process reaches them: as they are, or,
 * under chroot(8), through the daemon's /proc/PID/root ("" or that). */
static char daemon_root[64];

/* Same tree: by identity, so a chroot's bind of the daemon's rules tree
 * (another path for the same directory) counts as the same. */
static int same_rules(const char *mine, const char *theirs)
{
    char path[PATH_MAX + 64];
    struct stat a, b;

    snprintf(path, sizeof(path), "%s%s", daemon_root, theirs);
    return mine && theirs[0] && stat(mine, &a) == 0 && stat(path, &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void compare_rules(void)
{
    const char *mine = sfemu_opt_str(SFEMU_OPT_rules);
    const char *theirs = fakefs_ring_rules(ring);

    said_rules = 1;
    if (!same_rules(mine, theirs)) {
        sfemu_log("fakefile: fake resources are served by the sfemu-mount "
                  "daemon from the rules tree %s, not from -rules %s",
                  theirs[0] ? theirs : "(none)", mine ? mine : "(none)");
    }
}

/* Connect to the socket at its host path or, when this process runs in a
 * chroot that hides that path, through the daemon's root (needs root). */
static int ring_connect(const char *root, const char *sock, char *err,
                        size_t cap)
{
    char pid[16], alt[PATH_MAX + 64];
    ssize_t n;

    daemon_root[0] = '\0';
    if (fakefs_ring_connect(sock, &ring, err, cap) == 0) {
        return 0;
    }
    n = getxattr(root, FAKEFS_RING_PID_XATTR, pid, sizeof(pid) - 1);
    if (n <= 0 || access(sock, F_OK) == 0) {
        return -1; /* the socket is here: its own error stands */
    }
    pid[n] = '\0';
    snprintf(daemon_root, sizeof(daemon_root), "/proc/%d/root", atoi(pid));
    snprintf(alt, sizeof(alt), "%s%s", daemon_root, sock);
    if (fakefs_ring_connect(alt, &ring, err, cap) == 0) {
        return 0;
    }
    daemon_root[0] = '\0';
    return -1;
}

static void ring_up(void)
{
    char *root = sfemu_guestfs_root_path();
    char sock[PATH_MAX], err[256], why[PATH_MAX + 300];
    ssize_t n =
        root ? getxattr(root, FAKEFS_RING_XATTR, sock, sizeof(sock) - 1) : -1;
    int e = errno, rc;

    if (n <= 0) {
        free(root);
        snprintf(why, sizeof(why),
                 "the sfemu-mount on the guest root offers no ring (%s)",
                 n < 0 && e == ENODATA ? "started without a rules tree?"
                                       : strerror(n < 0 ? e : ENODATA));
        ring_down(why);
        return;
    }
    sock[n] = '\0';
    rc = ring_connect(root, sock, err, sizeof(err));
    free(root);
    if (rc < 0) {
        snprintf(why, sizeof(why), "cannot use the sfemu-mount ring (%s)", err);
        ring_down(why);
        return;
    }
    if (said_down) {
        sfemu_log("fakefile: the sfemu-mount ring %s answers again: fake "
                  "resources are served by the daemon (pid %d)",
                  sock, (int)getpid());
    }
    if (!said_rules) {
        compare_rules();
    }
}

static struct fakefs_ring_client *ring_get(void)
{
    pid_t pid = getpid();
    struct fakefs_ring_client *r;

    pthread_mutex_lock(&ring_lock);
    if (ring_owner != pid) {
        /* a forked child: its parent's slot and connection are not its
         * own (only this thread exists here) */
        if (ring_owner && ring && !held_of(ring)) {
            fakefs_ring_close(ring);
        }
        for (int i = 0; i < RING_HELD_MAX; i++) {
            if (held[i].c) {
                fakefs_ring_close(held[i].c);
            }
            held[i] = (struct held){ 0 };
        }
        ring = NULL;
        ring_owner = pid;
        retry_at = 0;
        said_down = 0;
    }
    if (!ring && now_s() >= retry_at) {
        ring_up();
    }
    r = ring;
    if (r) {
        struct held *h = held_of(r);
        if (!h && (h = held_of(NULL))) {
            h->c = r;
        }
        if (h) {
            h->users++;
        }
        /* (no free entry: more than RING_HELD_MAX dropped connections
         * still in use; this one is then never unmapped) */
    }
    pthread_mutex_unlock(&ring_lock);
    return r;
}

/* A call on r is done: close r if it was dropped meanwhile. */
static void ring_put(struct fakefs_ring_client *r)
{
    struct held *h;

    pthread_mutex_lock(&ring_lock);
    h = held_of(r);
    if (h && --h->users == 0 && h->dropped) {
        fakefs_ring_close(r);
        *h = (struct held){ 0 };
    } else if (h && !h->users && r != ring) {
        *h = (struct held){ 0 };
    }
    pthread_mutex_unlock(&ring_lock);
}

int sfemu_fake_ring_call(struct fakefs_call *c, long *result)
{
    struct fakefs_ring_client *r = ring_get();
    char why[128];
    int e;

    if (!r) {
        return -ENOTCONN;
    }
    e = fakefs_ring_call(r, c, (int)sfemu_opt_long(SFEMU_OPT_ring_timeout_ms),
                         result);
    if (e == -EPERM) {
        /* refused, not run: the daemon lost our control connection (a
         * guest that closes every fd it did not open).  Connect again
         * and retry once; the old mapping stays (other threads may be
         * in it). */
        pthread_mutex_lock(&ring_lock);
        if (ring == r) {
            ring_drop();
        }
        pthread_mutex_unlock(&ring_lock);
        ring_put(r);
        r = ring_get();
        if (!r) {
            return -ENOTCONN;
        }
        e = fakefs_ring_call(
            r, c, (int)sfemu_opt_long(SFEMU_OPT_ring_timeout_ms), result);
    }
    if (e == 0 || e == -E2BIG) {
        *result = e ? e : *result; /* too big for a slot: the guest's error */
        ring_put(r);
        return 0;
    }
    snprintf(why, sizeof(why), "the sfemu-mount daemon did not answer (%s)",
             e == -EPIPE       ? "it is gone"
             : e == -ETIMEDOUT ? "timed out"
             : e == -EPERM     ? "it refused this process"
                               : strerror(-e));
    pthread_mutex_lock(&ring_lock);
    if (ring == r) {
        ring_down(why);
    }
    pthread_mutex_unlock(&ring_lock);
    ring_put(r);
    return e;
}
