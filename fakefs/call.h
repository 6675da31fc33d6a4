/*
 * The fake-resource seam: every operation on a fake resource, whoever asks
 * (the FUSE front end, the ring server for a qemu on the mount, the engine
 * inside qemu without a mount), is one struct fakefs_call handed to
 * fakefs_call().  No FUSE or qemu types: a guest path, an operation,
 * flags, an offset, bytes in and out, the caller.  The ring (ring.h)
 * carries exactly these fields.
 */
#ifndef SFEMU_FAKEFS_CALL_H
#define SFEMU_FAKEFS_CALL_H

#include <stddef.h>
#include <stdint.h>
#include "fakefs.h"

/* Values are the ring's wire format: append only. */
enum fakefs_op {
    FAKEFS_GETATTR = 0,
    FAKEFS_OPEN = 1,
    FAKEFS_READ = 2,
    FAKEFS_WRITE = 3,
    FAKEFS_TRUNCATE = 4,
    FAKEFS_IOCTL = 5,
    FAKEFS_CONNECT = 6,
    FAKEFS_CLOSE = 7,
    FAKEFS_INIT = 8,   /* fakefile.init(path, kind): kind in in/inlen */
    FAKEFS_OPENED = 9, /* the caller holds path open as who.fd (learnt after
                          the open, e.g. by qemu on a mount): the record's
                          last opener; no handler runs */
    FAKEFS_MMAP = 10,  /* the bytes a mapping shows: offset, outcap bytes */
    FAKEFS_OP_COUNT
};

/* ioctl (c->flags): cmd carries no size (_IOC size 0: a raw number like
 * 0x89f0, or _IO): the fakeconfig's `ioctls` table may give one. */
#define FAKEFS_IOCTL_RAW 1
/* ioctl reply (c->action): the `ioctls` table gives cmd attr.size argument
 * bytes going attr.mode's way (FAKEFS_IOCTL_IN | FAKEFS_IOCTL_OUT); the
 * handler did not run: ask again with those bytes, without _RAW. */
#define FAKEFS_IOCTL_NEED 2
#define FAKEFS_IOCTL_IN 1       /* _IOC_WRITE: the caller passes the bytes */
#define FAKEFS_IOCTL_OUT 2      /* _IOC_READ: the reply goes back to it */
#define FAKEFS_IOCTL_MAX 0x4000 /* argument bytes at most (_IOC_SIZE) */

struct fakefs_call {
    enum fakefs_op op;
    const char *path;  /* guest path of the resource ("/dev/nvram") */
    int flags;         /* open flags; ioctl: FAKEFS_IOCTL_RAW */
    uint64_t offset;   /* read/write/mmap offset; truncate: the new size;
                          ioctl: the third argument as passed (ctx.argval) */
    unsigned long cmd; /* ioctl number */
    const void *in;    /* write: the data; ioctl: the argument bytes;
                          read: the bytes already in the reader's buffer
                          (ctx.data), NULL when it has none to give;
                          init: the kind (no NUL, inlen 0: the default) */
    size_t inlen;
    void *out; /* read, mmap: the buffer; ioctl: the reply; write: the
                  handler's ctx.reply (may be NULL); connect: the
                  abstract socket name (NUL-terminated) */
    size_t outcap;
    size_t outlen; /* out: bytes placed in out */
    struct fakefs_caller who;
    struct fakefs_attr attr; /* out (getattr) */
    int action;              /* out (connect): 0 taken over, 1 connect;
                   (ioctl): FAKEFS_IOCTL_NEED */
};

/* Run one operation on engine e: >= 0 (bytes, ioctl result) or -errno. */
long fakefs_call(struct fakefs_engine *e, struct fakefs_call *c);

/* The engine's getattr for c's caller: 0 (c->attr set), -ENOENT (not a
 * fake) or -errno. */
long fakefs_getattr_call(struct fakefs_engine *e, struct fakefs_call *c);

/* The engine's ioctl with the seam's fields (raw sizes, argval). */
long fakefs_ioctl_call(struct fakefs_engine *e, struct fakefs_call *c);

/* Append the note lines text[0..len) ("a\nb\n") to who's sink, whole
 * lines while they fit (fakefs.h, struct fakefs_caller). */
void fakefs_note_append(const struct fakefs_caller *who, const char *text,
                        size_t len);

/* "open", "read", ... or NULL for a value out of range. */
const char *fakefs_op_name(unsigned op);

#endif
