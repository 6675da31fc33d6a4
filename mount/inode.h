/*
 * The inode table (libfuse's passthrough_hp model): every inode the kernel
 * knows is one struct inode, keyed by the (dev, ino) of the object that backs
 * it (the upper copy once there is one, else the lower one), so the names of
 * a hard-linked file are one inode.  The kernel's lookup count (nlookup) and
 * our own references (children's names, open handles, requests in flight)
 * keep it alive; FORGET drops it.  A directory inode holds O_PATH
 * descriptors of its upper and lower directories, so names are resolved one
 * component at a time below them; any other inode is reached by its name
 * below its parent's descriptor (no descriptor per file: a tree walk never
 * runs out of them), and only an inode that lost its last name while the
 * kernel still knows it (an unlinked open file) keeps a descriptor of its
 * own.
 *
 * The names an inode is known by (parent, name) are kept for what is path
 * based: the metadata journal, fake resources, containment.  A directory has
 * exactly one.
 */
#ifndef SFEMU_INODE_H
#define SFEMU_INODE_H

#include <stdint.h>
#include <sys/stat.h>
#include "meta.h"

struct inode;

/* What identifies an inode: the backing object, whether it is the object
 * itself or a fake resource over it, and for a name of a firmware hard link
 * a salt from that name (each lower name is its own inode until copied up,
 * as overlayfs without its index: a copy-up must copy the name it came
 * through). */
struct ino_key {
    dev_t dev;
    ino_t ino;
    uint64_t salt;
    unsigned char fake;
};

struct ilink {
    struct inode *parent; /* holds a reference */
    char *name;
    struct ilink *next;
};

/* Passthrough state of an inode (passthrough.c). */
struct pt_inode {
    int id;        /* backing id registered with the kernel, 0: none */
    int cached;    /* mode while open: page cache instead of backing */
    unsigned open; /* opens in the current mode */
    dev_t dev;     /* the file the backing id refers to */
    ino_t ino;
    struct inode *idle_prev, *idle_next; /* LRU of idle registrations */
};

struct inode {
    struct inode *hnext;
    /* key */
    dev_t dev;
    ino_t ino;
    uint64_t salt;
    unsigned char fake;   /* a fake resource (served by the engine) */
    unsigned char record; /* a "<x>.fakefile" record (rewritten by the
                             engine behind the kernel's back) */
    /* lifetime (table lock) */
    uint64_t nlookup;
    unsigned refs;
    struct ilink *links;
    /* the overlay: O_PATH descriptors, -1 when absent.  A directory's ufd
     * and lfd are its upper directory and the lower directory merged into
     * it (-1: none, or hidden); another inode has them only once it lost
     * its last name ("pinned"). */
    int ufd, lfd;
    unsigned char upper;  /* the upper tree has the object (copied up) */
    mode_t type;          /* S_IFMT of the backing object */
    unsigned upper_gen;   /* ufd < 0: ovl_upper_gen() when last checked */
    signed char records;  /* directory: has "*.fakefile" names (-1 unknown) */
    unsigned records_gen; /* fake_records_gen() when records was found */
    /* the metadata record, cached (all changes go through the daemon) */
    struct meta_rec meta;
    unsigned char meta_ok;
    /* passthrough */
    struct pt_inode pt;
};

#define INODE_ROOT 1 /* FUSE_ROOT_ID */

/* The root inode (the layers' roots); fds borrowed from the overlay. */
void ino_init(int upper_fd, int lower_fd);
struct inode *ino_root(void);
/* The inode behind a FUSE node id (the kernel only sends ids we gave it). */
struct inode *ino_of(uint64_t nodeid);
uint64_t ino_id(const struct inode *i);

/* The inode for a backing object: found by key, or made (upper: the object
 * is in the upper tree; ufd/lfd: a directory's descriptors, taken over and
 * closed when an existing inode is returned).  Counts one kernel lookup and
 * remembers (parent, name).  NULL: out of memory. */
struct inode *ino_learn(struct inode *parent, const char *name,
                        const struct ino_key *k, mode_t type, int upper,
                        int ufd, int lfd);
/* Find by key without counting (NULL if unknown); takes a reference. */
struct inode *ino_find(const struct ino_key *k);
void ino_forget(struct inode *i, uint64_t n);
void ino_ref(struct inode *i);
void ino_unref(struct inode *i);

/* Names. */
void ino_link_add(struct inode *i, struct inode *parent, const char *name);
void ino_link_drop(struct inode *i, struct inode *parent, const char *name);
void ino_link_move(struct inode *i, struct inode *oparent, const char *oname,
                   struct inode *nparent, const char *nname);
/* Does i (still) have a name?  An unlinked open file has none. */
int ino_has_link(struct inode *i);
/* The parent and name of i's first link (parent referenced), or -ENOENT. */
int ino_first_link(struct inode *i, struct inode **parent, char **name);
/* Path of i relative to the root ("." for the root), malloc'd; NULL when i
 * has no name or memory runs out. */
char *ino_path(struct inode *i);
/* Path of name in directory dir, malloc'd. */
char *ino_child_path(struct inode *dir, const char *name);

/* After a copy-up: i is now backed by the upper object (dev, ino), its
 * own key (no salt). */
void ino_rekey(struct inode *i, dev_t dev, ino_t ino);
/* A directory's upper descriptor, if it has none yet (a copy-up): 1 set,
 * 0 kept (the caller closes fd). */
int ino_set_ufd(struct inode *i, int fd);
static inline int ino_upper(struct inode *i)
{
    return __atomic_load_n(&i->upper, __ATOMIC_ACQUIRE);
}
static inline void ino_set_upper(struct inode *i)
{
    __atomic_store_n(&i->upper, 1, __ATOMIC_RELEASE);
}
/* Is (parent, name) the only name i is known by? */
int ino_last_link(struct inode *i, struct inode *parent, const char *name);
/* Keep a descriptor of i's object (it is losing its last name): ufd or
 * lfd as it is upper or not.  Taken over; closed if i has one. */
void ino_pin(struct inode *i, int fd);

/* Every inode (shutdown). */
void ino_free_all(void);

#endif
