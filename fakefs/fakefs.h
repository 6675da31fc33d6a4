/*
 * fakefs: the fakefile engine (seed "fakefile-framework").
 *
 * One engine holds one state machine per fake resource.  Both sides call the
 * same functions: the FUSE daemon (mount/fake_ops.c) and the qemu hook
 * runtime (qemu-hooks/runtime/fakefile/fake.c), each with its own engine.
 * Paths are guest paths ("/dev/nvram"), absolute, inside the device tree.  Every function returns a value >= 0 or -errno.
 *
 * The engine never touches the device tree itself: it reads and writes the
 * "<path>.fakefile" records through a store the host supplies (the daemon's
 * overlay, or the runtime's true-root accessors).  Fakeconfigs and
 * fakecontent live in the rules tree, "<rules>/plugins/fakefile/".
 */
#ifndef SFEMU_FAKEFS_H
#define SFEMU_FAKEFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FAKEFS_SUFFIX ".fakefile"
#define FAKEFS_SUFFIX_LEN 9

/* How the engine reaches the device tree (all paths are guest paths). */
struct fakefs_store {
    void *ud;
    /* Whole file into *data (malloc'd, NUL-terminated); 0 or -errno. */
    int (*read)(void *ud, const char *path, char **data, size_t *len);
    /* Create or replace a regular file; 0 or -errno. */
    int (*write)(void *ud, const char *path, const char *data, size_t len);
    /* 1 if a regular file exists at path, 0 if not. */
    int (*exists)(void *ud, const char *path);
    /* Something visible at path changed (size, content, state): drop caches.
     * May be NULL.  Called from an operation on a resource (that resource's
     * lock may be held, never the engine's); must not call back into the
     * engine. */
    void (*changed)(void *ud, const char *path);
};

/* st_blksize of a fake resource on the mount: qemu's first, cheap look at
 * an fd of the mount (an fstat the kernel answers from its cache) before
 * it asks the mount itself (an extended attribute: a FUSE round trip). */
#define FAKEFS_MOUNT_BLKSIZE 1024

/* Type of a resource, from the record's "type=" line. */
enum fakefs_type { FAKEFS_TEXT = 0, FAKEFS_DEV = 1, FAKEFS_SOCKET = 2 };

/* What getattr reports for a fake resource. */
struct fakefs_attr {
    enum fakefs_type type;
    uint64_t size;
    unsigned mode; /* permission bits, 0 = caller's default */
};

/* The caller's byte order (ctx.byteorder): a guest's, known to qemu. */
enum fakefs_order {
    FAKEFS_ORDER_UNKNOWN = 0, /* the shell through FUSE */
    FAKEFS_ORDER_LITTLE = 1,
    FAKEFS_ORDER_BIG = 2,
};

/* Who is calling: pid and fd of the opener (fd -1 when unknown, e.g. FUSE). */
struct fakefs_caller {
    int pid;
    int fd;
    const char *side; /* "fuse" or "qemu" */
    enum fakefs_order order;
    /* Where the handlers' notes (fakefile.note) go, for the caller's run
     * record: one line each ("text\n"), appended to note (NUL-terminated,
     * notecap bytes with the NUL; a note that does not fit is dropped).
     * NULL: the engine logs each distinct note once (the shell, FUSE). */
    char *note;
    size_t notecap;
};

/* Bytes of notes one call carries back (the ring slot's room). */
#define FAKEFS_NOTE_MAX 1024
/* Bytes of one note's text (longer ones are cut). */
#define FAKEFS_NOTE_TEXT 256

struct fakefs_engine;

/* rules_dir: the rules tree (contains plugins/fakefile); log: NULL = stderr.
 * Every function is thread safe: each resource has its own Lua state and
 * lock, so resources are served concurrently, one operation at a time
 * each. */
struct fakefs_engine *fakefs_new(const char *rules_dir,
                                 const struct fakefs_store *store,
                                 void (*log)(const char *msg));
void fakefs_free(struct fakefs_engine *e);

/* Start watching the rules tree with inotify (a thread).  0 or -errno. */
int fakefs_watch_start(struct fakefs_engine *e);

/* Is path a fake resource?  1 yes (attr filled), 0 no, -errno on error.
 * implicit_dev: the host found a device node at path (served as "dev"). */
int fakefs_lookup(struct fakefs_engine *e, const char *path, int implicit_dev,
                  struct fakefs_attr *attr);
int fakefs_open(struct fakefs_engine *e, const char *path, int flags,
                const struct fakefs_caller *c);
/* in/inlen: the bytes already in the caller's buffer (ctx.data), or NULL
 * when the caller has none to give (FUSE: its buffer is not the reader's). */
ssize_t fakefs_read(struct fakefs_engine *e, const char *path, void *buf,
                    size_t count, off_t off, const void *in, size_t inlen,
                    const struct fakefs_caller *c);
/* reply/replycap/replylen (may be NULL, 0, NULL): what the handler put in
 * ctx.reply (a socket's answer to a message), cut to replycap with a log
 * line. */
ssize_t fakefs_write(struct fakefs_engine *e, const char *path, const void *buf,
                     size_t count, off_t off, void *reply, size_t replycap,
                     size_t *replylen, const struct fakefs_caller *c);
int fakefs_truncate(struct fakefs_engine *e, const char *path, off_t size,
                    const struct fakefs_caller *c);
/* Restricted ioctl: in/inlen are the argument bytes, the reply (if any) is
 * copied to out (at most outcap bytes, *outlen set).  Returns the ioctl result. */
int fakefs_ioctl(struct fakefs_engine *e, const char *path, unsigned long cmd,
                 const void *in, size_t inlen, void *out, size_t outcap,
                 size_t *outlen, const struct fakefs_caller *c);
/* AF_UNIX connect to a fake socket.  Returns 0 and sets *action:
 * 0 = the fd is taken over (the guest's messages go to the write handler,
 *     the read handler's answers back: qemu's fakefile/sock.c),
 * 1 = connect for real to the abstract socket name copied to addr (without
 *     the leading NUL), as fakefile.default_connect_socket_server() sets up. */
int fakefs_connect(struct fakefs_engine *e, const char *path, int *action,
                   char *addr, size_t addrcap, const struct fakefs_caller *c);
/* The bytes a mapping of path shows at offset (at most len, copied to out,
 * at most cap; *outlen set): the state's "mmap" handler, else its "read"
 * handler at that offset and count.  Bytes served, or -errno. */
long fakefs_mmap(struct fakefs_engine *e, const char *path, uint64_t offset,
                 size_t len, void *out, size_t cap, size_t *outlen,
                 const struct fakefs_caller *c);
int fakefs_close(struct fakefs_engine *e, const char *path,
                 const struct fakefs_caller *c);
/* c holds path open (told after the open): record it as the last opener
 * without running a handler.  0 or -errno. */
int fakefs_opened(struct fakefs_engine *e, const char *path,
                  const struct fakefs_caller *c);

/* The record "<path>.fakefile" was written/removed through the host: reload. */
void fakefs_forget(struct fakefs_engine *e, const char *path);

/* Call fakefile.init(path, kind) from the plugin (creates the three pieces). */
int fakefs_init_resource(struct fakefs_engine *e, const char *path,
                         const char *kind);

/* Path helpers. */
int fakefs_is_record_name(const char *name); /* ends with ".fakefile" */

/* Limits of the fakeconfig code (0: keep the current value), for the Lua
 * states opened from then on: VM instructions per run (a handler, a config
 * load, fakefile.init) and milliseconds of CPU time per run (pattern
 * matching included), both checked once the run has lasted 10 ms
 * (common/lua_budget.h); bytes per resource's Lua state, bytes of all
 * states.  A run that exceeds them fails (-EIO, a log line with file:line). */
#define FAKEFS_BUDGET_DEFAULT 100000000L /* ~0.1-1 s */
#define FAKEFS_TIME_DEFAULT 5000L
#define FAKEFS_VM_MEM_DEFAULT (64UL << 20)
#define FAKEFS_MEM_DEFAULT (256UL << 20)
void fakefs_set_limits(struct fakefs_engine *e, long budget, long ms,
                       size_t vm_cap, size_t mem_cap);

#endif
