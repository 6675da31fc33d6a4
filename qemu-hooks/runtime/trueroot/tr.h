/*
 * Internals shared by the true root's files (not an interface: see
 * trueroot.h).  The model:
 *
 *   locate.c   a guest path (dirfd, path) -> where it leads (struct tr_loc):
 *              inside the root, a host exception, a guest fd, the guest
 *              program; the /proc magic links mapped to the guest's own
 *   resolve.c  a location -> an fd, resolved once by the kernel
 *              (openat2 RESOLVE_IN_ROOT / RESOLVE_BENEATH), never a name
 *              the kernel would resolve a second time
 *   calls.c    the rewritten syscalls: each path argument becomes a fd
 *   exec.c     execve: the file opened in the root, never run on the host
 *   scratch.c  guest memory for rewritten arguments
 *   parents.c  the missing parent directories of a create, made in the root
 *   trueroot.c the root, the host exceptions, enter/leave
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SFEMU_TR_H
#define SFEMU_TR_H

#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "trueroot/trueroot.h"

/* Linux ABI constants that are the same on every guest architecture. */
#define G_AT_FDCWD (-100)
#define G_AT_SYMLINK_NOFOLLOW 0x100
#define G_AT_REMOVEDIR 0x200
#define G_AT_SYMLINK_FOLLOW 0x400
#define G_AT_EMPTY_PATH 0x1000
#define G_IN_DONT_FOLLOW 0x02000000
#define G_UMOUNT_NOFOLLOW 0x8
#define G_MS_REMOUNT 0x20
#define G_MS_BIND 0x1000
#define G_MS_MOVE 0x2000
#define G_AF_UNIX 1
#define G_SUN_PATH 108
#define G_O_ACCMODE 3

#define TR_MAGIC "/proc/self/fd/"
#define TR_MAX_HOPS 40 /* symlinks and /proc links, like the kernel */
#define TR_KEEP 1      /* "leave this argument as it is" */

/* What a call does with the final name of a path. */
enum tr_op {
    OP_FOLLOW = 1,  /* what the name leads to (stat, chmod, connect) */
    OP_INSPECT = 2, /* the entry itself, a symlink included (lstat) */
    OP_ENTRY = 3,   /* creates, removes or renames the entry (mkdir) */
    OP_KIND = 3,
    OPF_WRITE = 4,  /* changes the object: never a host exception's */
    OPF_CREATE = 8, /* creates the entry: its missing parents are made */
};

/* Where a guest path leads. */
enum tr_where {
    TW_ROOT, /* inside the root: path, resolved from the root fd */
    TW_HOST, /* a host exception: path relative to base, beneath it */
    TW_FD,   /* /proc/<pid>/fd/N with nothing after: a guest fd itself */
    TW_EXE,  /* /proc/self/exe: the guest program */
};

struct tr_loc {
    enum tr_where where;
    int base;        /* TW_HOST: the exception's fd (-1: not open yet) */
    bool proc;       /* TW_HOST: under /proc */
    bool own;        /* TW_HOST: /proc/<the guest's own pid>/... */
    bool readonly;   /* TW_HOST: /proc (not the guest's own) and /sys */
    bool fd_safe;    /* TW_FD: its object is in the root, a pipe, a socket or
                      a host exception: it may be reopened for writing */
    const char *exc; /* TW_HOST: the exception prefix */
    char fdlink[80]; /* TW_FD: /proc/self/fd/N or /proc/<pid>/fd/N */
    int fd;          /* TW_FD: N */
    int hops;        /* dangling links followed to get here */
    /* TW_ROOT: the guest path as the guest wrote it (absolute); the kernel
     * resolves it, ".." and symlinks included.  TW_HOST: the lexically
     * normal path relative to base ("" for base itself). */
    char path[PATH_MAX];
};

/* The root: replaced (never freed: other threads may read it) by chroot. */
struct tr_root {
    _Atomic int fd; /* O_PATH|O_DIRECTORY, reopened if the guest closes it */
    size_t len;
    struct tr_root *prev; /* keeps replaced roots reachable */
    char path[PATH_MAX];  /* canonical host path */
};

extern struct tr_root *_Atomic tr_root;
extern int tr_leader; /* the guest's first process: its world's root */

/* trueroot.c: fds held for the duration of one call, errno, exceptions. */
int tr_hold(struct sfemu_tr_call *c, int fd);
int tr_fd_high(int fd);
int tr_gerr(int host_errno);
const char *tr_host_prefix(const char *norm); /* the matching exception */
bool tr_proc_is_host(void);                   /* /proc is an exception */
int tr_proc_fd(void);                         /* the host's /proc, O_PATH */

/* locate.c: 0 with l set, or -host errno. */
int tr_locate(int dirfd, const char *path, int op, struct tr_loc *l);
int tr_relocate_dangling(struct tr_loc *l, int op);
/* If the last name of guest path g is a symlink: 1 with next the guest path
 * it leads to (its trailing "/" kept); 0 if not; -errno. */
int tr_last_link(const char *g, char *next, size_t cap);
int tr_strip(const char *host, char *out);
/* Split an absolute path in place: parent, last name, trailing slash;
 * false when the last name is ".", ".." or none ("/"). */
bool tr_split(char *buf, const char **parent, const char **name, bool *slash);
int tr_guest_cwd(char *out);
void tr_normalize(const char *in, char *out);
bool tr_under(const char *path, const char *prefix, size_t len);
/* The guest path of what a /proc link (fd/N, cwd) points to. */
int tr_fd_view(const char *link, char *out, bool cwd);

/* trueroot.c: openat2 with RESOLVE_* (EAGAIN retried), in the root. */
int tr_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve);
int tr_open_in_root(const char *path, int flags);
int tr_root_dirfd(void);
int tr_root_dirfd_again(void); /* after EBADF: the root fd reopened */
int tr_set_root(int fd);

/* resolve.c: fds on locations (held in c), -host errno on failure.  high:
 * the fds stay out of the guest's range (for calls that open an fd). */
#define TR_NAME (NAME_MAX + 2)
int tr_loc_base(struct sfemu_tr_call *c, struct tr_loc *l, bool high);
int tr_loc_fd(struct sfemu_tr_call *c, struct tr_loc *l, int flags, int op);
int tr_loc_parent(struct sfemu_tr_call *c, struct tr_loc *l, int *pfd,
                  char name[TR_NAME]);

/* scratch.c: guest memory. */
uint64_t tr_load(const uint8_t *p, size_t w);
void tr_store(uint8_t *p, size_t w, uint64_t v);
int tr_put(int64_t args[SFEMU_NARGS], int idx, size_t off, const void *data,
           size_t len);
int tr_put_str(int64_t args[SFEMU_NARGS], int idx, int slot, const char *s);
int tr_read_path(const int64_t args[SFEMU_NARGS], int idx, char *buf);
void tr_scratch_init(void);
#define TR_SLOT (PATH_MAX + 64)        /* one rewritten path string */
#define TR_OFF_SOCK (2 * TR_SLOT)      /* a rewritten sockaddr_un */
#define TR_OFF_ARR (TR_OFF_SOCK + 128) /* a rewritten socketcall array */
#define TR_OFF_MSG (TR_OFF_ARR + 64)   /* a rewritten msghdr array */
#define TR_MMSG_MAX 8                  /* ... of this many messages */
#define TR_OFF_MSGNAME (TR_OFF_MSG + TR_MMSG_MAX * 64) /* their addresses */
#define TR_SCRATCH (4 * 4096)

/* parents.c: make a directory (and its parents) inside the root, following
 * the root's symlinks; make the missing parents of a create that failed
 * with ENOENT (follow: also those of a dangling last link's target): 1 if
 * the create should be tried again, 0 if not (make-parents off), -errno. */
extern bool tr_make_parents_on;
int tr_mkdirs(const char *path, mode_t mode, const char *why);
int tr_make_parents(const char *path, bool follow);

/* exec.c */
int tr_exec(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS], bool at);

/* calls.c */
int tr_call_enter(int num, const char *name, int64_t args[SFEMU_NARGS],
                  struct sfemu_tr_call *c);
bool tr_call_takes(int num, const char *name);
void tr_call_leave(struct sfemu_tr_call *c, int64_t *ret);

#endif
