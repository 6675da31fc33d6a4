/* sfemu-mount: the daemon's shared state and the per-area entry points. */
#ifndef SFEMU_MOUNT_H
#define SFEMU_MOUNT_H

#define FUSE_USE_VERSION 317
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <limits.h>
#include "fakefs.h"
#include "ring.h"
#include "overlay.h"

#define SFEMU_MOUNT_VERSION "0.2.0"

struct sfemu {
    struct ovl ovl;
    struct fakefs_engine *fake;      /* NULL without --rules */
    struct fakefs_ring_server *ring; /* serves qemu (NULL without fake) */
    char ring_path[PATH_MAX];        /* its control socket */
    int symlinks_contained;
    double cache_timeout;
    int passthrough;        /* wanted: FUSE passthrough for real files */
    unsigned backing_depth; /* stacked filesystems under the layers */
    unsigned fake_workers;  /* threads serving fake resources */
    dev_t lower_dev;        /* lower inode numbers are marked when the
                               layers are different filesystems */
    int split_devs;
    struct fuse_session *se;
    int epoch_ok; /* kernel has FUSE_NOTIFY_INC_EPOCH, and it is used */
    int no_negative_cache; /* --no-negative-cache: never bump the epoch
                              (it detaches mounts made inside the mount) */
    /* asynchronous kernel-cache invalidation (never from a handler) */
    pthread_mutex_t inval_lock;
    pthread_cond_t inval_cond;
    char **inval_q;
    size_t inval_n;
    int inval_stop;
    pthread_t inval_thr;
    int inval_running;
};

extern struct sfemu *sfemu_g;

/* log.c */
void log_open(const char *path, int to_stderr);
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_line(const char *msg);

/* default_rules.c: without --rules, "<upper>/rules" (made on first use
 * from the shipped rules_examples) into out; 0 or -errno (logged). */
int default_rules(const char *upper, char *out, size_t cap);
/* An installed sfemu-mount's PREFIX/share/sfemu/rules_examples (it may not
 * exist: a build tree's daemon). */
const char *rules_beside_self(void);

/* ring.c: serve the shared-memory ring beside the upper tree. */
void ring_start(struct sfemu *s, const char *upper, const char *rules,
                int allow_other);

/* ops.c: the FUSE front end */
extern const struct fuse_lowlevel_ops sfemu_ops;
/* Free the handles of files still open when the session ended. */
void ops_free_handles(void);

/* workers.c: requests that may take long (fake resources) run here, off
 * the FUSE loop.  Jobs with the same key run one at a time, in order,
 * without holding a worker while they wait. */
int workers_start(unsigned n);
void workers_stop(void);
/* fn(arg, 0) on a worker; fn(arg, 1) if the pool stops first. */
int workers_run(const char *key, void (*fn)(void *arg, int cancelled),
                void *arg);

#endif
