/*
 * Fakefile bindings for the syscall rules (rules_examples/syscall/open.lua,
 * read.lua ...; docs/fakefile.md).  The fd functions return nil when the fd
 * is not a fake one, so a rule can be `return c_fake_read(fd, buf, count)`:
 * nil runs the real syscall.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <lauxlib.h>

#include "api/api.h"
#include "api/vsock.h"
#include "analysis/analysis.h"
#include "core/rulefn.h"
#include "core/syscall_names.h"
#include "call.h"
#include "fakefile/fake.h"
#include "fakefile/map.h"
#include "trueroot/guestfs.h"
#include "core/runtime.h"
#include "core/sandbox.h"

#define FAKE_IO_MAX (1u << 20)

static int push_rc(lua_State *L, int64_t rc)
{
    lua_pushinteger(L, rc < 0 ? sfemu_api_neg_errno((int)-rc) : rc);
    return 1;
}

/* The fd at idx if the fake layer answers use on it, else -1. */
static int fake_fd_arg(lua_State *L, int idx, enum sfemu_fake_use use)
{
    lua_Integer fd = luaL_checkinteger(L, idx);
    return fd >= 0 && fd <= 0x7fffffff && sfemu_fake_fd_serves((int)fd, use)
               ? (int)fd
               : -1;
}

static int c_fake_mounted(lua_State *L)
{
    lua_pushboolean(L, sfemu_fake_mounted());
    return 1;
}

/* c_fake_init(path[, kind]) -> 0 or -errno: the three pieces for path. */
static int c_fake_init(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *kind = luaL_optstring(L, 2, NULL);
    int rc = sfemu_fake_init(path, kind);

    if (rc >= 0) {
        sfemu_analysis_fake_made(path, kind); /* the run record's list */
    }
    return push_rc(L, rc);
}

/* c_fake_open(path, flags) -> guest fd or -errno (engine inside qemu). */
static int c_fake_open(lua_State *L)
{
    return push_rc(L, sfemu_fake_open(luaL_checkstring(L, 1),
                                      (int)luaL_checkinteger(L, 2)));
}

/* c_fd_path(fd) -> guest path of an fd, or nil, -errno */
static int c_fd_path(lua_State *L)
{
    char path[4096];
    int rc =
        sfemu_guestfs_fd_path((int)luaL_checkinteger(L, 1), path, sizeof(path));

    if (rc < 0) {
        return sfemu_api_push_fail(L, rc);
    }
    lua_pushstring(L, path);
    return 1;
}

/* c_fake_read/c_fake_write(fd, buf, count) -> nil (not fake) | bytes | -errno */
static int fake_io(lua_State *L, int is_write)
{
    int fd = fake_fd_arg(L, 1, SFEMU_FAKE_USE_IO);
    uint64_t buf = sfemu_guest_addr(luaL_checkinteger(L, 2));
    size_t n = (size_t)luaL_checkinteger(L, 3);
    char *tmp;
    ssize_t r;

    if (fd < 0) {
        return 0;
    }
    n = n > FAKE_IO_MAX ? FAKE_IO_MAX : n;
    tmp = malloc(n ? n : 1);
    if (!tmp) {
        return push_rc(L, -ENOMEM);
    }
    if (is_write) {
        r = sfemu_rt.ops->read_mem(buf, tmp, n) ? -EFAULT
                                                : sfemu_fake_write(fd, tmp, n);
    } else {
        /* the handler sees what the reader's buffer holds (ctx.data):
         * some drivers take a key in it and answer in place */
        int have = n && sfemu_rt.ops->read_mem(buf, tmp, n) == 0;
        r = sfemu_fake_read(fd, tmp, have ? tmp : NULL, have ? n : 0, n);
        if (r > 0 && sfemu_rt.ops->write_mem(buf, tmp, r) != 0) {
            r = -EFAULT;
        }
    }
    free(tmp);
    return push_rc(L, r);
}

static int c_fake_read(lua_State *L)
{
    return fake_io(L, 0);
}

static int c_fake_write(lua_State *L)
{
    return fake_io(L, 1);
}

/* c_fake_lseek(fd, off, whence) -> nil | new offset | -errno */
static int c_fake_lseek(lua_State *L)
{
    int fd = fake_fd_arg(L, 1, SFEMU_FAKE_USE_IO);

    if (fd < 0) {
        return 0;
    }
    return push_rc(L, sfemu_fake_lseek(fd, luaL_checkinteger(L, 2),
                                       (int)luaL_checkinteger(L, 3)));
}

/* c_fake_llseek(fd, hi, lo, result_ptr, whence) -> nil | 0 | -errno
 * (the 32-bit guests' _llseek: the 64-bit result goes to result_ptr) */
static int c_fake_llseek(lua_State *L)
{
    int fd = fake_fd_arg(L, 1, SFEMU_FAKE_USE_IO);
    uint64_t hi = (uint32_t)luaL_checkinteger(L, 2);
    uint64_t lo = (uint32_t)luaL_checkinteger(L, 3);
    uint64_t res = sfemu_guest_addr(luaL_checkinteger(L, 4));
    int64_t r;
    uint8_t b[8];

    if (fd < 0) {
        return 0;
    }
    r = sfemu_fake_lseek(fd, (int64_t)(hi << 32 | lo),
                         (int)luaL_checkinteger(L, 5));
    if (r < 0) {
        return push_rc(L, r);
    }
    for (int i = 0; i < 8; i++) {
        b[sfemu_rt.t->big_endian ? 7 - i : i] = (uint8_t)(r >> (8 * i));
    }
    return push_rc(L, sfemu_rt.ops->write_mem(res, b, 8) ? -EFAULT : 0);
}

/* _IOC_DIR/_IOC_SIZE of the guest's encoding (MIPS differs). */
static void ioc_decode(unsigned long cmd, int *rd, int *wr, size_t *size)
{
    if (!strncmp(sfemu_rt.t->arch, "mips", 4)) {
        unsigned dir = (cmd >> 29) & 7; /* 1 none, 2 read, 4 write */
        *size = (cmd >> 16) & 0x1fff;
        *rd = dir & 2;
        *wr = dir & 4;
    } else {
        unsigned dir = (cmd >> 30) & 3; /* 1 write, 2 read */
        *size = (cmd >> 16) & 0x3fff;
        *rd = dir & 2;
        *wr = dir & 1;
    }
}

/* c_fake_ioctl(fd, cmd, arg) -> nil | result | -errno (restricted ioctl).
 * The argument's size and direction come from cmd's _IOC bits, or, for a
 * number without a size (0x89f0, _IO), from the fakeconfig's `ioctls`
 * table: the engine answers FAKEFS_IOCTL_NEED and the call is made again
 * with those bytes. */
static int c_fake_ioctl(lua_State *L)
{
    int fd = fake_fd_arg(L, 1, SFEMU_FAKE_USE_IOCTL);
    unsigned long cmd = (unsigned long)(uint32_t)luaL_checkinteger(L, 2);
    lua_Integer argval = luaL_checkinteger(L, 3);
    uint64_t arg = sfemu_guest_addr(argval);
    unsigned char in[FAKEFS_IOCTL_MAX], out[FAKEFS_IOCTL_MAX];
    size_t size;
    int rd, wr, r;

    if (fd < 0) {
        return 0;
    }
    ioc_decode(cmd, &rd, &wr, &size);
    for (int raw = !size || !(rd || wr);; raw = 0) {
        struct fakefs_call c = { .cmd = cmd,
                                 .flags = raw ? FAKEFS_IOCTL_RAW : 0,
                                 .offset = (uint64_t)argval,
                                 .out = out,
                                 .outcap = rd ? size : 0 };
        if ((wr || rd) && size && sfemu_rt.ops->read_mem(arg, in, size) == 0) {
            /* in: what the guest passes (write); a read-only ioctl's old
             * buffer too (a driver may take a key in it).  An argument
             * that cannot be read (NULL, or a number whose bits only look
             * like _IOC: Broadcom's NVRAM_MAGIC) reaches the handler
             * without bytes, as a real driver would get the call. */
            c.in = in;
            c.inlen = size;
        }
        r = sfemu_fake_ioctl(fd, &c);
        if (raw && r == 0 && c.action == FAKEFS_IOCTL_NEED &&
            c.attr.size <= FAKEFS_IOCTL_MAX) {
            size = (size_t)c.attr.size;
            rd = c.attr.mode & FAKEFS_IOCTL_OUT;
            wr = c.attr.mode & FAKEFS_IOCTL_IN;
            continue;
        }
        if (r >= 0 && rd && c.outlen &&
            sfemu_rt.ops->write_mem(arg, out, c.outlen) != 0) {
            r = -EFAULT;
        }
        return push_rc(L, r);
    }
}

/* c_fake_close(fd) -> nil: forgets a fake fd; the real close then runs. */
static int c_fake_close(lua_State *L)
{
    int fd = fake_fd_arg(L, 1, SFEMU_FAKE_USE_CLOSE);

    if (fd >= 0) {
        sfemu_fake_forget_fd(fd);
    }
    return 0;
}

/* c_fake_connect(fd, path) -> 0 or -errno: connect fd to the fake socket at
 * path (taken over by the state machine, or connected for real to the
 * abstract server socket its fakeconfig set up). */
static int c_fake_connect(lua_State *L)
{
    int fd = (int)luaL_checkinteger(L, 1);
    const char *path = luaL_checkstring(L, 2);
    char addr[108];
    int action = 0, r;

    r = sfemu_fake_connect(fd, path, &action, addr, sizeof(addr));
    if (r == 0 && action == 1) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n = strnlen(addr, sizeof(sa.sun_path) - 1);
        memcpy(sa.sun_path + 1, addr, n); /* abstract name */
        r = connect(fd, (struct sockaddr *)&sa,
                    offsetof(struct sockaddr_un, sun_path) + 1 + n)
                ? -errno
                : 0;
    }
    return push_rc(L, r);
}

/* c_fake_dup(oldfd, newfd) -> nil: newfd is about to become a copy of
 * oldfd (dup2, dup3): what the fake layer knew of newfd is dropped (a fake
 * served here is closed) and oldfd's fake, if any, is newfd's too; the
 * real call then runs. */
static int c_fake_dup(lua_State *L)
{
    lua_Integer oldfd = luaL_checkinteger(L, 1),
                newfd = luaL_checkinteger(L, 2);

    if (oldfd >= 0 && oldfd <= 0x7fffffff && newfd >= 0 &&
        newfd <= 0x7fffffff) {
        sfemu_fake_dup_fd((int)oldfd, (int)newfd);
    }
    return 0;
}

/* mmap/mmap2(addr, len, prot, flags, fd, off) with off in units of unit
 * bytes -> nil | address | -errno: an mmap of a fake fd is emulated
 * (fakefile/map.c); another mmap with MAP_FIXED over a shared fake mapping
 * first writes that back. */
static int fake_mmap(lua_State *L, uint64_t unit)
{
    uint64_t addr = sfemu_guest_addr(luaL_checkinteger(L, 1));
    uint64_t len = sfemu_guest_addr(luaL_checkinteger(L, 2));
    int prot = (int)luaL_checkinteger(L, 3);
    int flags = (int)luaL_checkinteger(L, 4);
    uint64_t off = sfemu_guest_addr(luaL_optinteger(L, 6, 0)) * unit;
    int anon = strncmp(sfemu_rt.t->arch, "mips", 4) ? 0x20 : 0x800;
    int fd = flags & anon ? -1 : fake_fd_arg(L, 5, SFEMU_FAKE_USE_MAP);

    if (fd < 0) {
        if (flags & 0x10) { /* MAP_FIXED */
            sfemu_fake_map_sync(addr, len, 1);
        }
        return 0;
    }
    lua_pushinteger(L, sfemu_fake_mmap(fd, addr, len, prot, flags, off));
    return 1;
}

/* ARM's "mmap" takes one pointer to its six arguments: left alone */
static int mmap_struct;

static int c_fake_mmap(lua_State *L)
{
    return mmap_struct ? 0 : fake_mmap(L, 1);
}

static int c_fake_mmap2(lua_State *L)
{
    return fake_mmap(L, SFEMU_MAP_PAGE);
}

/* munmap/msync(addr, len[, flags]) -> nil: the changed bytes of shared fake
 * mappings in the range go back to their resources; the real call runs. */
static int fake_unmap(lua_State *L, int gone)
{
    sfemu_fake_map_sync(sfemu_guest_addr(luaL_checkinteger(L, 1)),
                        sfemu_guest_addr(luaL_checkinteger(L, 2)), gone);
    return 0;
}

static int c_fake_munmap(lua_State *L)
{
    return fake_unmap(L, 1);
}

static int c_fake_msync(lua_State *L)
{
    return fake_unmap(L, 0);
}

/* ---- c_fake_call: one operation of a fake's state machine, no fd */

/* The paths c_fake_call found fake (they have a record): the getattr, and
 * the fakefile.init of a missing one, are done once per process. */
#define CALL_KNOWN_MAX 64
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;
static char *known[CALL_KNOWN_MAX];
static int nknown;

static int call_known(const char *path)
{
    int yes = 0;

    pthread_mutex_lock(&known_lock);
    for (int i = 0; i < nknown && !yes; i++) {
        yes = !strcmp(known[i], path);
    }
    pthread_mutex_unlock(&known_lock);
    return yes;
}

static void call_learn(const char *path)
{
    pthread_mutex_lock(&known_lock);
    if (nknown < CALL_KNOWN_MAX && (known[nknown] = strdup(path))) {
        nknown++;
    }
    pthread_mutex_unlock(&known_lock);
}

/* path is a fake resource, made by fakefile.init (kind "dev" under /dev/,
 * else "text", a file) when it has no record: 0 or -errno. */
static int call_ensure(const char *path)
{
    struct fakefs_call c = { .op = FAKEFS_GETATTR,
                             .path = path,
                             .who = sfemu_fake_caller(getpid(), -1) };
    long r;

    if (call_known(path)) {
        return 0;
    }
    r = sfemu_fake_dispatch(&c);
    if (r == -ENOENT) {
        r = sfemu_fake_init(path, strncmp(path, "/dev/", 5) ? "text" : "dev");
    }
    if (r >= 0) {
        call_learn(path);
    }
    return r < 0 ? (int)r : 0;
}

static lua_Integer opt_field_int(lua_State *L, int t, const char *k,
                                 lua_Integer def)
{
    lua_Integer v = def;

    if (lua_getfield(L, t, k) != LUA_TNIL) {
        if (!lua_isinteger(L, -1)) {
            luaL_error(L, "c_fake_call: opts.%s must be an integer", k);
        }
        v = lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* The most a read or mmap asks (the reply buffer) and an ioctl carries. */
#define CALL_DEFAULT_COUNT 4096
#define CALL_WRITE_REPLY FAKEFS_IOCTL_MAX

/*
 * c_fake_call(path, op, opts) -> result, reply: one operation ("read",
 * "write", "ioctl", "mmap", "getattr") of the fake resource path's state
 * machine, on the engine a guest fd on path would reach (the mount's
 * daemon over the ring, else the one inside qemu).  opts: data, count,
 * offset, cmd, flags.  getattr also returns { type, size, mode }.
 */
static int c_fake_call(lua_State *L)
{
    static const char *const ops[] = { "read", "write",   "ioctl",
                                       "mmap", "getattr", NULL };
    static const enum fakefs_op op_of[] = { FAKEFS_READ, FAKEFS_WRITE,
                                            FAKEFS_IOCTL, FAKEFS_MMAP,
                                            FAKEFS_GETATTR };
    const char *path = luaL_checkstring(L, 1);
    const char *opname = luaL_checkstring(L, 2);
    int which = 0;
    size_t datalen = 0;
    const char *data = NULL;
    lua_Integer count, offset, cmd, flags;
    char *out = NULL;
    long r;

    while (ops[which] && strcmp(ops[which], opname)) {
        which++;
    }
    if (!ops[which]) {
        return luaL_error(L,
                          "c_fake_call: op '%s' is not read, write, ioctl, "
                          "mmap or getattr",
                          opname);
    }
    if (path[0] != '/') {
        return luaL_error(L,
                          "c_fake_call: path '%s' is not an absolute "
                          "guest path",
                          path);
    }
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        if (lua_getfield(L, 3, "data") != LUA_TNIL) {
            if (lua_type(L, -1) != LUA_TSTRING) {
                return luaL_error(L, "c_fake_call: opts.data must be a string");
            }
            data = lua_tolstring(L, -1, &datalen); /* kept by opts */
        }
        lua_pop(L, 1);
    } else {
        lua_settop(L, 2);
        lua_newtable(L); /* opts = {} at index 3 */
    }
    count = opt_field_int(L, 3, "count",
                          op_of[which] == FAKEFS_WRITE   ? (lua_Integer)datalen
                          : op_of[which] == FAKEFS_IOCTL ? FAKEFS_IOCTL_MAX
                          : op_of[which] == FAKEFS_READ && datalen
                              ? (lua_Integer)datalen
                              : CALL_DEFAULT_COUNT);
    offset = opt_field_int(L, 3, "offset", 0);
    cmd = opt_field_int(L, 3, "cmd", 0);
    flags = opt_field_int(L, 3, "flags", 0);
    if (count < 0 || offset < 0) {
        return luaL_error(L, "c_fake_call: opts.count and opts.offset must "
                             "not be negative");
    }
    if ((op_of[which] == FAKEFS_WRITE && (size_t)count > datalen) ||
        (op_of[which] == FAKEFS_IOCTL && count > FAKEFS_IOCTL_MAX)) {
        count = op_of[which] == FAKEFS_WRITE ? (lua_Integer)datalen
                                             : FAKEFS_IOCTL_MAX;
    }
    r = count > FAKE_IO_MAX ||
                (op_of[which] == FAKEFS_IOCTL && datalen > FAKEFS_IOCTL_MAX)
            ? -E2BIG
            : call_ensure(path);
    if (r < 0) {
        push_rc(L, r);
        lua_pushliteral(L, "");
        return 2;
    }

    struct fakefs_call c = { .op = op_of[which],
                             .path = path,
                             .offset = (uint64_t)offset,
                             .cmd = (unsigned long)(uint32_t)cmd,
                             .flags = (int)flags & ~FAKEFS_IOCTL_RAW,
                             .in = data,
                             .inlen = datalen,
                             .who = sfemu_fake_caller(getpid(), -1) };
    switch (c.op) {
    case FAKEFS_WRITE: /* count bytes of data; the reply is ctx.reply */
        c.inlen = (size_t)count;
        c.outcap = CALL_WRITE_REPLY;
        break;
    case FAKEFS_READ: /* data: the reader's buffer */
    case FAKEFS_IOCTL: c.outcap = (size_t)count; break;
    case FAKEFS_MMAP: /* no data */
        c.outcap = (size_t)count;
        c.in = NULL;
        c.inlen = 0;
        break;
    default: /* getattr */
        c.in = NULL;
        c.inlen = 0;
        break;
    }
    if (c.outcap && !(out = malloc(c.outcap))) {
        push_rc(L, -ENOMEM);
        lua_pushliteral(L, "");
        return 2;
    }
    c.out = out;
    r = sfemu_fake_dispatch(&c);
    if (r >= 0 && (c.op == FAKEFS_WRITE || c.op == FAKEFS_IOCTL)) {
        sfemu_fake_map_refresh(path); /* shared mappings show the change */
    }
    push_rc(L, r);
    lua_pushlstring(L, out ? out : "", out && r >= 0 ? c.outlen : 0);
    free(out);
    if (c.op != FAKEFS_GETATTR || r < 0) {
        return 2;
    }
    lua_createtable(L, 0, 3);
    lua_pushstring(L, c.attr.type == FAKEFS_DEV      ? "dev"
                      : c.attr.type == FAKEFS_SOCKET ? "socket"
                                                     : "text");
    lua_setfield(L, -2, "type");
    lua_pushinteger(L, (lua_Integer)c.attr.size);
    lua_setfield(L, -2, "size");
    lua_pushinteger(L, (lua_Integer)c.attr.mode);
    lua_setfield(L, -2, "mode");
    return 3;
}

/* The fd syscalls c_fake_syscall answers, by kind. */
enum {
    FD_READ,
    FD_WRITE,
    FD_LSEEK,
    FD_LLSEEK,
    FD_IOCTL,
    FD_CLOSE,
    FD_DUP2,
    FD_DUP3,
    FD_MMAP,
    FD_MMAP2,
    FD_MUNMAP,
    FD_MSYNC,
    FD_N
};
static const char *const fd_call_names[FD_N] = {
    "read", "write", "lseek", "_llseek", "ioctl",  "close",
    "dup2", "dup3",  "mmap",  "mmap2",   "munmap", "msync",
};
static int fd_call_num[FD_N];

static int fd_call_kind(int num)
{
    for (int k = 0; k < FD_N; k++) {
        if (fd_call_num[k] == num) {
            return k;
        }
    }
    return -1;
}

/*
 * c_fake_syscall(num, fd, ...): the whole fakefile rule of read, write,
 * lseek, _llseek, ioctl, close, dup2, dup3, mmap, mmap2, munmap and msync
 * (`do_syscall = c_fake_syscall`): the fake
 * answer for a fake fd, nil (the real syscall) for any other.  The runtime
 * asks fake_syscall_declines first, so a real fd costs no Lua call.
 */
static int c_fake_syscall(lua_State *L)
{
    static const lua_CFunction by_kind[FD_N] = {
        c_fake_read,  c_fake_write, c_fake_lseek,  c_fake_llseek,
        c_fake_ioctl, c_fake_close, c_fake_dup,    c_fake_dup,
        c_fake_mmap,  c_fake_mmap2, c_fake_munmap, c_fake_msync,
    };
    int num = (int)luaL_checkinteger(L, 1);
    int k = fd_call_kind(num);

    if (k < 0) {
        const char *name = sfemu_syscall_name(num);
        return luaL_error(L, "c_fake_syscall: no fake %s",
                          name ? name : "syscall");
    }
    lua_remove(L, 1);
    return by_kind[k](L);
}

static int fake_syscall_declines(int num, const int64_t a[SFEMU_NARGS])
{
    int k = fd_call_kind(num);
    enum sfemu_fake_use use;

    if (k == FD_DUP2 || k == FD_DUP3) {
        /* the fd table follows the dup; the real call always runs */
        if (a[0] >= 0 && a[0] <= 0x7fffffff && a[1] >= 0 &&
            a[1] <= 0x7fffffff) {
            sfemu_vsock_forget((int)a[1]);
            sfemu_fake_dup_fd((int)a[0], (int)a[1]);
        }
        return 1;
    }
    if (k == FD_MMAP && mmap_struct) {
        return 1;
    }
    if (k >= FD_MUNMAP) { /* only with a shared fake mapping */
        return !sfemu_fake_maps_live();
    }
    if (k >= FD_MMAP) { /* of a fake fd, or MAP_FIXED over a shared one */
        return !((sfemu_fake_maps_live() && (a[3] & 0x10)) ||
                 (a[4] >= 0 && a[4] <= 0x7fffffff &&
                  sfemu_fake_fd_serves((int)a[4], SFEMU_FAKE_USE_MAP)));
    }
    if (k == FD_CLOSE && a[0] >= 0 && a[0] <= 0x7fffffff) {
        sfemu_vsock_forget((int)a[0]); /* a virtual socket's peer goes too */
    }
    use = k == FD_IOCTL   ? SFEMU_FAKE_USE_IOCTL
          : k == FD_CLOSE ? SFEMU_FAKE_USE_CLOSE
                          : SFEMU_FAKE_USE_IO;

    return k >= 0 && !(a[0] >= 0 && a[0] <= 0x7fffffff &&
                       sfemu_fake_fd_serves((int)a[0], use));
}

static const luaL_Reg fakefile_fns[] = {
    { "c_fake_mounted", c_fake_mounted },
    { "c_fake_init", c_fake_init },
    { "c_fake_open", c_fake_open },
    { "c_fd_path", c_fd_path },
    { "c_fake_read", c_fake_read },
    { "c_fake_write", c_fake_write },
    { "c_fake_lseek", c_fake_lseek },
    { "c_fake_llseek", c_fake_llseek },
    { "c_fake_ioctl", c_fake_ioctl },
    { "c_fake_close", c_fake_close },
    { "c_fake_connect", c_fake_connect },
    { "c_fake_dup", c_fake_dup },
    { "c_fake_syscall", c_fake_syscall },
    { "c_fake_call", c_fake_call },
    { NULL, NULL },
};

static void fake_syscall_init(void)
{
    for (int k = 0; k < FD_N; k++) {
        fd_call_num[k] = sfemu_syscall_num(fd_call_names[k]);
    }
    /* ARM's "mmap" is the old one-struct call: not served (mmap2 is) */
    mmap_struct = sfemu_rt.t && !strncmp(sfemu_rt.t->arch, "arm", 3);
    sfemu_rulefn_register(c_fake_syscall, fake_syscall_declines);
}

void sfemu_api_fakefile_open(lua_State *L)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, fake_syscall_init);
    sfemu_sandbox_register(L, fakefile_fns);
}
