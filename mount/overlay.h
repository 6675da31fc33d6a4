/*
 * The overlay: a read-only lower tree (the firmware) and a persistent upper
 * tree.  Paths are relative to the tree root ("." for the root, "etc/passwd").
 * Every access goes through *at calls on the layer fds with openat2
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, so nothing resolves outside a layer and
 * the daemon never walks its own mount.
 *
 * Upper layout (<ROOTFS>.sfemu/):  tree/  the upper tree
 *                                  work/  copy-up staging (same filesystem)
 *                                  meta.db ownership/mode/device journal
 * Whiteouts: ".wh.<name>" beside the hidden name (aufs style, any fs, no
 * privileges); an opaque directory holds ".wh..wh..opq".
 */
#ifndef SFEMU_OVERLAY_H
#define SFEMU_OVERLAY_H

#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/stat.h>
#include "meta.h"

#define WH_PREFIX ".wh."
#define WH_PREFIX_LEN 4
#define WH_OPAQUE ".wh..wh..opq"

enum ovl_layer { OVL_NONE = 0, OVL_UPPER = 1, OVL_LOWER = 2 };

struct ovl {
    int lower_fd, upper_fd, work_fd; /* O_PATH|O_DIRECTORY */
    struct meta *meta;
    pthread_mutex_t copy_lock; /* copy-up and whiteout changes */
    unsigned gen;              /* bumped after every change of the namespace */
};

/* Something in the trees changed (a name, a layer, a record): cached
 * resolutions made before are void. */
static inline void ovl_changed(struct ovl *o)
{
    __atomic_add_fetch(&o->gen, 1, __ATOMIC_RELEASE);
}
static inline unsigned ovl_gen(struct ovl *o)
{
    return __atomic_load_n(&o->gen, __ATOMIC_ACQUIRE);
}

struct ovl_ent {
    enum ovl_layer layer; /* topmost layer holding the entry */
    struct stat st;       /* backing stat (lstat semantics) */
    int lower_visible;    /* the lower tree has a visible entry at this path */
    int opaque;           /* upper directory hides the lower one */
};

/* The open(2) flags a backing file may be opened with.  The kernel's OPEN
 * request carries f_flags, which hold internal bits too (__FMODE_EXEC, 0x20,
 * for execve); openat2 rejects unknown bits with EINVAL. */
#define OVL_OPEN_FLAGS                                                       \
    (O_ACCMODE | O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC | O_DIRECT |       \
     O_NOATIME | O_LARGEFILE | O_TRUNC | O_DIRECTORY | O_NOFOLLOW | O_PATH | \
     O_CLOEXEC)

/* Open rel in a layer (O_NOFOLLOW semantics for the last component). */
int ovl_layer_open(int layer_fd, const char *rel, int flags, mode_t mode);
/* Open the parent directory of rel in a layer; *name points into rel. */
int ovl_parent_fd(int layer_fd, const char *rel, const char **name);
int ovl_layer_fd(const struct ovl *o, enum ovl_layer l);

int ovl_resolve(struct ovl *o, const char *rel, struct ovl_ent *e);
/* Make rel (a file, symlink or directory) exist in the upper tree. */
int ovl_copy_up(struct ovl *o, const char *rel, const struct ovl_ent *e);
/* Make the parent directory chain of rel exist in the upper tree; returns an
 * fd of the upper parent (caller closes) and *name. */
int ovl_upper_parent(struct ovl *o, const char *rel, const char **name);
/* Hide the lower entry at rel / remove the whiteout for rel. */
int ovl_whiteout(struct ovl *o, const char *rel);
int ovl_clear_whiteout(int upper_parent_fd, const char *name);
int ovl_is_hidden_name(const char *name);

/* The merged directory listing of rel. */
struct ovl_dirent {
    char *name;
    unsigned char type;
};
struct ovl_dir {
    struct ovl_dirent *v;
    size_t n, cap;
};
int ovl_list(struct ovl *o, const char *rel, const struct ovl_ent *e,
             struct ovl_dir *out);
void ovl_dir_free(struct ovl_dir *d);
/* Is the merged directory rel empty (ignoring whiteouts)? 1/0/-errno */
int ovl_dir_empty(struct ovl *o, const char *rel, const struct ovl_ent *e);
/* Remove an upper directory that holds only whiteouts. */
int ovl_remove_upper_dir(struct ovl *o, const char *rel);

/* Read/write a whole regular file through the overlay (fake records). */
int ovl_read_file(struct ovl *o, const char *rel, char **data, size_t *len);
int ovl_write_file(struct ovl *o, const char *rel, const char *data,
                   size_t len);

#endif
