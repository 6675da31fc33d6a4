/*
 * True root for -L: every guest path resolves inside the rootfs, like chroot
 * (user guide and guarantees: docs/true-root.md).
 */
#ifndef SFEMU_TRUEROOT_H
#define SFEMU_TRUEROOT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/realcall.h"
#include "sfemu/host.h"

#define SFEMU_TR_MAX_FDS 12

/* Per-call bookkeeping between enter and leave (on the caller's stack). */
struct sfemu_tr_call {
    int num;  /* the syscall to run: enter may substitute one */
    int done; /* enter ran the call itself: ret is its result */
    int64_t ret;
    int nfds;
    int fds[SFEMU_TR_MAX_FDS]; /* temporary fds to close on leave */
    int kind;                  /* what leave() must fix up (e.g. getcwd) */
    int64_t args[SFEMU_NARGS]; /* the guest's original arguments */
};

extern int sfemu_trueroot_active;

/*
 * root: the rootfs directory (the -L argument).  host_paths: colon-separated
 * guest path prefixes that stay on the host (NULL: the documented default,
 * /proc /sys /dev/null ...).  0 or -errno.
 */
int sfemu_trueroot_init(const char *root, const char *host_paths);

/*
 * Before the real syscall: rewrite path arguments in args[] (and maybe
 * c->num) so the real syscall acts inside the root, or run the call here
 * (c->done, c->ret).  0 to go on, or a negative guest errno that becomes
 * the syscall's result without running it.
 */
int sfemu_trueroot_enter(int num, const char *name, int64_t args[SFEMU_NARGS],
                         struct sfemu_tr_call *c);

/* The guest path of a host path inside the root: 0, or -1 outside it. */
int sfemu_trueroot_guest_path(const char *host, char out[PATH_MAX]);

/* Whether a syscall takes paths (and so must pass through enter/leave). */
int sfemu_trueroot_takes_paths(int num, const char *name);

/* After the real syscall: release temporaries, fix results (getcwd). */
void sfemu_trueroot_leave(struct sfemu_tr_call *c, int64_t *ret);

/*
 * Missing parents: a create (open O_CREAT, mkdir, mknod, bind, symlink,
 * link, rename into) that fails with ENOENT because a parent directory is
 * missing makes it inside the root and runs once more.  on: -make-parents.
 */
void sfemu_trueroot_make_parents(int on);
/* mkdir -p of a guest path inside the root, following the root's symlinks
 * (a dangling one gets its target made).  0 or -errno. */
int sfemu_trueroot_mkdir_p(const char *gpath, mode_t mode);
/* The directories made so far (guest paths, in order; at most 64). */
void sfemu_trueroot_dirs_made(void (*cb)(void *opaque, const char *gpath),
                              void *opaque);

/* The three above as the runtime's syscall rewriter (core/realcall.h). */
extern const struct sfemu_rewriter sfemu_trueroot_rewriter;

/*
 * execve under the true root never reaches the host kernel's execve: the
 * file is opened inside the root and handed, as an fd, to the exec runner.
 * The default runner refuses every file with ENOEXEC; a guest-exec runner
 * (the same patched qemu on the fd) plugs in here.
 */
enum sfemu_exec_kind {
    SFEMU_EXEC_GUEST_ELF, /* an ELF of the guest's architecture */
    SFEMU_EXEC_SCRIPT,    /* "#!": interp is the rest of that line */
    SFEMU_EXEC_FOREIGN,   /* anything else (the host's ELF, data ...) */
};

struct sfemu_exec_file {
    int fd; /* O_RDONLY|O_CLOEXEC on the file, regular, executable */
    enum sfemu_exec_kind kind;
    const char *guest_path; /* the name the guest gave ("" for an fd) */
    const char *interp;     /* SCRIPT: "/bin/sh -e" (trimmed), else NULL */
    const uint8_t *head;    /* the file's first bytes */
    size_t head_len;
    /* The guest's argv and envp (guest addresses). */
    uint64_t argv, envp;
};

/* Runs the file (does not return on success) or returns a -host errno. */
typedef int (*sfemu_exec_runner)(const struct sfemu_exec_file *f);

/* NULL: the default runner. */
void sfemu_trueroot_set_exec_runner(sfemu_exec_runner run);

/* The checks of an exec (a regular file, executable), the file's kind, then
 * the runner: for a file opened some other way (-root-mode prefix).  path:
 * the guest's name of it; argv, envp: guest addresses.  -host errno. */
int sfemu_exec_fd(int fd, const char *path, uint64_t argv, uint64_t envp);

#endif
