/*
 * The qemu side of the fakefile engine (fakefs/).  With an sfemu-mount on
 * the guest root, the daemon's engine serves fake resources: the guest's
 * files are the mount's, and what FUSE cannot carry (fakefile.init, an
 * ioctl qemu does not know, connect) goes over the shared-memory ring
 * (fakefile/ring.h).  Without a mount, an engine inside qemu serves them:
 * a fake fd is a real host fd on /dev/null, and read/write/lseek/ioctl/
 * close on it go to the state machine.  A fake socket is a real socket
 * whose peer a pump serves (sock.h), mounted or not.  Everything returns
 * >= 0 or -errno (host errno).
 */
#ifndef SFEMU_FAKE_H
#define SFEMU_FAKE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "call.h"

int sfemu_fake_mounted(void);
/* A guest process of this qemu as a caller of the engine (ctx.pid, ctx.fd,
 * ctx.byteorder). */
struct fakefs_caller sfemu_fake_caller(int pid, int fd);
/* Run c where fake resources are served: over the ring to the mount's
 * daemon, else (or when it does not answer) in the engine inside qemu. */
long sfemu_fake_dispatch(struct fakefs_call *c);
int sfemu_fake_init(const char *path, const char *kind);
int sfemu_fake_open(const char *path, int guest_flags);
/* The fake resource behind a guest fd, or NULL. */
const char *sfemu_fake_fd_path(int fd);
/* in/inlen: the bytes in the guest's buffer before the read (ctx.data). */
ssize_t sfemu_fake_read(int fd, void *buf, const void *in, size_t inlen,
                        size_t n);
ssize_t sfemu_fake_write(int fd, const void *buf, size_t n);
int64_t sfemu_fake_lseek(int fd, int64_t off, int whence);
/* An ioctl on a fake fd: c's cmd, flags, offset (the argument as passed),
 * in and out are the caller's (fakefs/call.h: FAKEFS_IOCTL_RAW and the
 * FAKEFS_IOCTL_NEED answer); the rest is filled here. */
int sfemu_fake_ioctl(int fd, struct fakefs_call *c);
/* Which call on a fake fd the fake layer answers (the others run for
 * real: a file of the mount serves its own read, write and lseek). */
enum sfemu_fake_use {
    SFEMU_FAKE_USE_IO,    /* read, write, lseek, _llseek */
    SFEMU_FAKE_USE_IOCTL, /* on a mounted root, an unknown fd is looked
                             at once (by either use): is it a fake of the
                             mount, a file or a device? */
    SFEMU_FAKE_USE_CLOSE, /* also drops what an ioctl learnt of the fd */
    SFEMU_FAKE_USE_MAP,   /* mmap, mmap2: emulated (fakefile/map.c); on a
                             mounted root an unknown fd is looked at once */
};
int sfemu_fake_fd_serves(int fd, enum sfemu_fake_use use);
/* Run c on the engine that serves fake resources (the daemon's over the
 * ring for a mounted root, else the one inside qemu): >= 0 or -errno. */
long sfemu_fake_dispatch(struct fakefs_call *c);
/* The fd is closing: forget it (the caller closes the host fd). */
void sfemu_fake_forget_fd(int fd);
/* newfd becomes a copy of oldfd (dup2/dup3, before the real call): newfd
 * is forgotten, and is a fake if oldfd is one. */
void sfemu_fake_dup_fd(int oldfd, int newfd);
/* AF_UNIX connect of fd to a fake socket: *action 0 = taken over (fd is
 * now a managed fake socket, sock.h), 1 = connect for real to the
 * abstract address in addr. */
int sfemu_fake_connect(int fd, const char *path, int *action, char *addr,
                       size_t cap);

/* The fake resources this process created (fd -1) and the fake fds open
 * now, for reports; skipped if the table is busy (a report from a crash). */
void sfemu_fake_each(void (*cb)(void *opaque, const char *path, int fd),
                     void *opaque);

/* Logs, once per path, a failing mmap of a fake resource and ENODEV/ENXIO
 * on one (an observer; notice.c). */
void sfemu_fake_notice_init(void);

#endif
