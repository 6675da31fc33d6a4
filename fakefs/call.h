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
    FAKEFS_INIT = 8, /* fakefile.init(path, kind): kind in in/inlen */
    FAKEFS_IOCTL_INFO = 9,
    FAKEFS_MMAP = 10, /* the bytes a mapping shows: offset, outcap bytes */
    FAKEFS_OP_COUNT
};

struct fakefs_call {
    enum fakefs_op op;
    const char *path;  /* guest path of the resource ("/dev/nvram") */
    int flags;         /* open flags */
    uint64_t offset;   /* read/write/mmap offset; truncate: the new size */
    unsigned long cmd; /* ioctl number */
    const void *in;    /* write: the data; ioctl: the argument bytes;
                          init: the kind (no NUL, inlen 0: the default) */
    size_t inlen;
    void *out; /* read, mmap: the buffer; ioctl: the reply; connect: the
                  abstract socket name (NUL-terminated) */
    size_t outcap;
    size_t outlen; /* out: bytes placed in out */
    struct fakefs_caller who;
    struct fakefs_attr attr; /* out (getattr) */
    int action;              /* out (connect): 0 taken over, 1 connect */
};

/* Run one operation on engine e: >= 0 (bytes, ioctl result) or -errno. */
long fakefs_call(struct fakefs_engine *e, struct fakefs_call *c);

/* "open", "read", ... or NULL for a value out of range. */
const char *fakefs_op_name(unsigned op);

#endif
