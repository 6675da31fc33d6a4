/*
 * The overlay: a read-only lower tree (the firmware) and a persistent upper
 * tree, merged into one namespace.  It owns every namespace operation
 * (create, mkdir, mknod, symlink, link, unlink, rmdir, rename), copy-up,
 * whiteouts and opaque markers, and keeps the metadata journal and the
 * inode table's names in step with them.
 *
 * Operations on inodes are fd-based: a directory inode holds O_PATH fds of
 * its upper and lower directories, and a name is only ever resolved one
 * component at a time below one of them (openat with O_NOFOLLOW), so nothing
 * leads outside a layer.  What is path based (the fake engine's store,
 * symlink containment) resolves from the layer roots with openat2
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS.
 *
 * Upper layout (<ROOTFS>.sfemu/):  tree/   the upper tree
 *                                  work/   copy-up staging (same filesystem)
 *                                  meta.db ownership/mode/device journal
 *                                  lock    one daemon per upper directory
 * Whiteouts: ".wh.<name>" beside the hidden name (aufs style, any fs, no
 * privileges), ".wh.#<64-bit hash>" for names longer than NAME_MAX - 4; an
 * opaque directory holds ".wh..wh..opq".
 */
#ifndef SFEMU_OVERLAY_H
#define SFEMU_OVERLAY_H

#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include "inode.h"
#include "meta.h"

#define WH_PREFIX ".wh."
#define WH_PREFIX_LEN 4
#define WH_OPAQUE ".wh..wh..opq"

/* The open(2) flags a backing file may be opened with.  The kernel's OPEN
 * request carries f_flags, which hold internal bits too (__FMODE_EXEC, 0x20,
 * for execve); openat2 rejects unknown bits with EINVAL. */
#define OVL_OPEN_FLAGS                                                       \
    (O_ACCMODE | O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC | O_DIRECT |       \
     O_NOATIME | O_LARGEFILE | O_TRUNC | O_DIRECTORY | O_NOFOLLOW | O_PATH | \
     O_CLOEXEC)

enum ovl_layer { OVL_NONE = 0, OVL_UPPER = 1, OVL_LOWER = 2 };

struct ovl {
    int lower_fd, upper_fd, work_fd; /* O_PATH|O_DIRECTORY (work: O_RDONLY) */
    struct meta *meta;
    pthread_mutex_t lock; /* namespace changes, copy-up, whiteouts */
    unsigned upper_gen;   /* bumped when upper directories appear by path */
    /* names appeared or vanished behind the kernel's back (a copy-up of a
     * hard-linked firmware file): drop its cached dentries */
    void (*names_changed)(void);
};

static inline unsigned ovl_upper_gen(struct ovl *o)
{
    return __atomic_load_n(&o->upper_gen, __ATOMIC_ACQUIRE);
}

/* A name as the overlay sees it. */
struct ovl_ent {
    enum ovl_layer layer; /* topmost layer holding the entry */
    struct stat st;       /* its backing stat (lstat semantics) */
    int lower_visible;    /* the lower tree has a visible entry at this name */
    int opaque;           /* an upper directory hiding the lower one */
    int ufd, lfd;         /* a directory's O_PATH fds (ovl_lookup), or -1 */
};

/* Who creates (fuse_req_ctx): the owner of what is made. */
struct ovl_owner {
    uid_t uid;
    gid_t gid;
};

int ovl_is_hidden_name(const char *name);
/* Unlink the (non-directory) entries of directory dfd that which() picks. */
void ovl_unlink_entries(int dfd, int (*which)(const char *name));

/* ------------------------------------------------------ inode-based (ops) */

/* The key of the inode for entry e, name in dir (fake: a fake resource). */
struct ino_key ovl_key(const struct ovl_ent *e, struct inode *dir,
                       const char *name, int fake);
/* Look name up in directory dir; with fds, a directory's e->ufd/lfd are
 * opened (the caller owns them).  0 or -errno. */
int ovl_lookup(struct ovl *o, struct inode *dir, const char *name,
               struct ovl_ent *e, int fds);
/* An inode's object (by its name below its parent's directory, or by its
 * own descriptor once it has none): stat, open(2), readlink, utimensat. */
int ovl_fstat(struct inode *i, struct stat *st);
int ovl_open(struct inode *i, int flags);
ssize_t ovl_readlink(struct inode *i, char *buf, size_t cap);
int ovl_utimens(struct inode *i, const struct timespec tv[2]);
/* What the mount shows for inode i (fd: an open descriptor of it, or -1):
 * the backing stat with owner, mode and device from the metadata record
 * (owner 0:0 unless recorded). */
int ovl_getattr(struct ovl *o, struct inode *i, int fd, struct stat *st);
/* Apply the metadata record r to a backing stat. */
void ovl_present(const struct meta_rec *r, struct stat *st);
/* Load i's metadata record into i->meta (once). */
void ovl_meta_load(struct ovl *o, struct inode *i);
/* Change i's owner/mode (uid/gid/mode -1: unchanged); recorded in the
 * journal before it shows.  0 or -errno. */
int ovl_chmeta(struct ovl *o, struct inode *i, long uid, long gid, long mode);
/* Make i exist in the upper tree (data, mode, times), with its parents. */
int ovl_copy_up(struct ovl *o, struct inode *i);
/* Reopen an inode's object with open(2) flags. */
int ovl_reopen(int opath_fd, int flags);

/* Creates: the new entry is returned in *e (with an upper O_PATH fd) for
 * the caller to turn into an inode.  create also returns an open fd. */
int ovl_create(struct ovl *o, struct inode *dir, const char *name, mode_t mode,
               int flags, const struct ovl_owner *who, struct ovl_ent *e,
               int *fd);
int ovl_mknod(struct ovl *o, struct inode *dir, const char *name, mode_t mode,
              dev_t rdev, const struct ovl_owner *who, struct ovl_ent *e);
int ovl_mkdir(struct ovl *o, struct inode *dir, const char *name, mode_t mode,
              const struct ovl_owner *who, struct ovl_ent *e);
int ovl_symlink(struct ovl *o, struct inode *dir, const char *name,
                const char *target, const struct ovl_owner *who,
                struct ovl_ent *e);
int ovl_link(struct ovl *o, struct inode *src, struct inode *dir,
             const char *name, struct ovl_ent *e);
/* Remove a name (its upper entry, and a whiteout for the lower one). */
int ovl_unlink(struct ovl *o, struct inode *dir, const char *name);
int ovl_rmdir(struct ovl *o, struct inode *dir, const char *name);
int ovl_rename(struct ovl *o, struct inode *dir, const char *name,
               struct inode *ndir, const char *nname, unsigned flags);

/* The merged listing of directory inode dir (whiteouts and hidden names
 * left out; d_type of device placeholders as the mount shows them). */
struct ovl_dirent {
    char *name;
    unsigned char type;
    ino_t ino;
};
struct ovl_dir {
    struct ovl_dirent *v;
    size_t n, cap;
};
int ovl_list(struct ovl *o, struct inode *dir, struct ovl_dir *out);
int ovl_dir_add(struct ovl_dir *d, const char *name, unsigned char type,
                ino_t ino);
int ovl_dir_has(const struct ovl_dir *d, const char *name);
void ovl_dir_free(struct ovl_dir *d);

/* ------------------------------------------- path-based (fakes, symlinks) */

/* Open rel in a layer (O_NOFOLLOW semantics for the last component). */
int ovl_layer_open(int layer_fd, const char *rel, int flags, mode_t mode);
/* Open the parent directory of rel in a layer; *name points into rel. */
int ovl_parent_fd(int layer_fd, const char *rel, const char **name);
int ovl_layer_fd(const struct ovl *o, enum ovl_layer l);
/* Resolve rel ("." for the root) from the layer roots (no fds). */
int ovl_resolve(struct ovl *o, const char *rel, struct ovl_ent *e);
/* rel with the symlinks among its directories followed in the merged tree,
 * inside the root (an absolute target starts at the top), the last name
 * kept: the fake store's guest paths reach files as the guest's calls do,
 * and a record under "/var -> /tmp/var" lands beside the link's target
 * instead of shadowing the link with an upper directory. */
int ovl_follow_dirs(struct ovl *o, const char *rel, char *out, size_t cap);
/* Read/write a whole regular file through the overlay (fake records).
 * write: 0 rewritten in place, 1 a new upper file, -errno. */
int ovl_read_file(struct ovl *o, const char *rel, char **data, size_t *len);
int ovl_write_file(struct ovl *o, const char *rel, const char *data,
                   size_t len);

#endif
