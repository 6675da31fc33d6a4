/*
 * The fake-resource seam: every operation on a fake resource, whoever asks
 * (the FUSE front end today, the qemu side over the shared-memory ring
 * later), is one struct fake_call handed to fake_call().  No FUSE types:
 * a guest path, an operation, flags, an offset, bytes in and out, the
 * caller.  This file is also the only place that converts between the
 * mount's paths (inodes, "a/b") and guest paths ("/a/b").
 */
#ifndef SFEMU_FAKE_OPS_H
#define SFEMU_FAKE_OPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include "fakefs.h"
#include "inode.h"
#include "overlay.h"

struct sfemu;

enum fake_op {
    FAKE_GETATTR,
    FAKE_OPEN,
    FAKE_READ,
    FAKE_WRITE,
    FAKE_TRUNCATE,
    FAKE_IOCTL,
    FAKE_CONNECT,
    FAKE_CLOSE,
};

struct fake_call {
    enum fake_op op;
    const char *path;  /* guest path of the resource ("/dev/nvram") */
    int flags;         /* open flags */
    uint64_t offset;   /* read/write offset; truncate: the new size */
    unsigned long cmd; /* ioctl number */
    const void *in;    /* write: the data; ioctl: the argument bytes */
    size_t inlen;
    void *out; /* read: the buffer; ioctl: the reply; connect: the
                           abstract socket name */
    size_t outcap;
    size_t outlen; /* out: bytes placed in out */
    struct fakefs_caller who;
    struct fakefs_attr attr; /* out (getattr) */
    int action;              /* out (connect): 0 taken over, 1 connect */
};

/* Run one operation: >= 0 (bytes, ioctl result) or -errno. */
long fake_call(struct sfemu *s, struct fake_call *c);

/* ------------------------------------------------------- paths */

/* Guest path of an inode / of name in directory dir (malloc'd, or NULL). */
char *fake_guest_path(struct inode *i);
char *fake_guest_child(struct inode *dir, const char *name);

/* ------------------------------------------------------- names */

/* Is name in dir a fake resource ("<name>.fakefile" exists)?  real: the
 * name's own entry, or NULL.  1 with rec (no fds) filled, 0, or -errno. */
int fake_name(struct sfemu *s, struct inode *dir, const char *name,
              const struct ovl_ent *real, struct ovl_ent *rec);
/* The attributes of fake resource i: its record's or real entry's stat
 * with type, size and mode from the engine, owner and mode from the
 * journal.  Runs the engine (never on the FUSE loop). */
int fake_stat(struct sfemu *s, struct inode *i, struct stat *st);
/* "<x>.fakefile" in a listing makes "<x>" appear. */
int fake_list(struct ovl_dir *d);

/* ------------------------------------------------------- kernel caches */

/* The engine's store: records are read and written through the overlay. */
struct fakefs_store fake_store(struct sfemu *s);
/* Remember that guest path names inode i (for invalidations). */
void fake_track(struct sfemu *s, const char *guest, struct inode *i);
/* Drop the kernel's cached attributes/data of guest path (queued). */
void fake_invalidate(struct sfemu *s, const char *guest);
void fake_inval_start(struct sfemu *s);
void fake_inval_stop(struct sfemu *s);
/* A record "<x>.fakefile" (name in dir) changed through the mount: x must
 * be reloaded.  names: created, removed or renamed (x appears/vanishes). */
void fake_record_touched(struct sfemu *s, struct inode *dir, const char *name,
                         int names);
/* Names appeared or vanished behind the kernel's back: every dentry is
 * revalidated on its next use (FUSE_NOTIFY_INC_EPOCH). */
void fake_names_changed(void);
/* Which directories hold records changed: bumped on every record change. */
unsigned fake_records_gen(void);

#endif
