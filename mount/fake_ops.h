/*
 * The mount's side of the fake-resource seam (fakefs/call.h): every
 * operation on a fake resource, whoever asks (the FUSE front end, the ring
 * server for a qemu running on the mount), is one struct fakefs_call handed
 * to fake_call().  This file is also the only place that converts between
 * the mount's paths (inodes, "a/b") and guest paths ("/a/b").
 */
#ifndef SFEMU_FAKE_OPS_H
#define SFEMU_FAKE_OPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include "call.h"
#include "fakefs.h"
#include "inode.h"
#include "overlay.h"

struct sfemu;

/* Run one operation: >= 0 (bytes, ioctl result) or -errno. */
long fake_call(struct sfemu *s, struct fakefs_call *c);

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
