/* sfemu-mount: the daemon's shared state and the per-area entry points. */
#ifndef SFEMU_MOUNT_H
#define SFEMU_MOUNT_H

#define FUSE_USE_VERSION 317
#include <fuse.h>
#include <pthread.h>
#include "fakefs.h"
#include "overlay.h"

#define SFEMU_MOUNT_VERSION "0.1.0"

struct sfemu {
    struct ovl ovl;
    struct fakefs_engine *fake; /* NULL without --rules */
    int symlinks_contained;
    double cache_timeout;
    int passthrough;        /* wanted: FUSE passthrough for real files */
    unsigned backing_depth; /* stacked filesystems under the layers */
    struct fuse *fuse;
    /* asynchronous kernel-cache invalidation (never from a handler) */
    pthread_mutex_t inval_lock;
    pthread_cond_t inval_cond;
    char **inval_q;
    size_t inval_n;
    int inval_stop;
    pthread_t inval_thr;
    int inval_running;
    int epoch_ok; /* kernel has FUSE_NOTIFY_INC_EPOCH */
    /* directories known to hold (1) or not hold (0) "*.fakefile" records */
    pthread_mutex_t dirs_lock;
    struct fake_dir *dirs[1024];
};

extern struct sfemu *sfemu_g;

/* log.c */
void log_open(const char *path, int to_stderr);
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_line(const char *msg);

/* ops.c */
extern const struct fuse_operations sfemu_ops;
/* "/a/b" -> "a/b", "/" -> "." */
const char *rel_of(const char *path);
/* Free the handles of files still open when the session ended. */
void ops_free_handles(void);

/* fake_ops.c */
struct fakefs_store fake_store(struct sfemu *s);
void fake_invalidate(struct sfemu *s, const char *guest_path);
void fake_inval_start(struct sfemu *s);
void fake_inval_stop(struct sfemu *s);
/* Is rel a fake resource?  1 (st filled), 0, -errno.  ent may be NULL. */
int fake_getattr(struct sfemu *s, const char *rel, const struct ovl_ent *ent,
                 struct stat *st);
/* Forget whether rel's directory holds records (NULL: all directories). */
void fake_dir_forget(struct sfemu *s, const char *rel);
/* A record "<x>.fakefile" changed through the mount: x must be reloaded.
 * names: the record was created, removed or renamed (x appears/disappears). */
void fake_record_touched(struct sfemu *s, const char *rel, int names);
/* Names appeared or vanished behind the kernel's back: drop its dentries. */
void fake_names_changed(struct sfemu *s);

#endif
