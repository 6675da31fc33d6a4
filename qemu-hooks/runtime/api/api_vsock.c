/*
 * Virtual sockets and routed rules, for sockets the host kernel cannot give
 * (a firmware's private netlink protocol) and ioctls a rule answers for
 * (interface ioctls).  docs/firmware-pack.md, "Netlink".
 *
 * c_vsock_new(nonblock, cloexec, portid) -> guest fd or -errno
 *   One end of a host AF_UNIX datagram socketpair, for the guest; the other
 *   end (the peer) stays with the runtime, at a high fd number, close-on-exec.
 *   Reads, recv, poll and select on the guest's end are the kernel's own.
 * c_vsock_portid(fd[, portid]) -> the fd's recorded port id (set it with
 *   the second argument), or nil if fd is no virtual socket.
 * c_vsock_reply(fd, bytes) -> bytes queued or -errno: one datagram the
 *   guest's end will read (never blocks: -EAGAIN when its buffer is full).
 * c_vsock_rule(handler[, fallback]) -> a rule (`do_syscall =
 *   c_vsock_rule(fn)`) that calls fn only when its first argument is a
 *   virtual socket: for any other fd the runtime runs the real syscall
 *   without entering Lua.  With fallback (a C rule such as c_fake_syscall:
 *   write.lua), any other fd calls fallback, whose own C check still runs
 *   first (one fallback per process).
 * c_ioctl_route(ranges, handler, fallback) -> an ioctl rule: a command in
 *   one of ranges ({{lo, hi}, ...}, inclusive) calls handler, and fallback
 *   when handler returns nil; any other command calls fallback (a C rule
 *   such as c_fake_syscall keeps its own check in C: a real fd with another
 *   command costs no Lua call).  One route per process: the last made wins.
 *
 * The table of virtual sockets is the process's (threads share it, a forked
 * child inherits it with the fds); close and dup2/dup3 onto a number forget
 * it (sfemu_vsock_forget, from the fd rules).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "api/api.h"
#include "api/vsock.h"
#include "core/rulefn.h"
#include "core/sandbox.h"
#include "core/syscall_names.h"

#define VSOCK_FD_MAX 4096
#define VSOCK_PEER_MIN 900 /* above the fds a daemon usually closes */
#define ROUTE_MAX 8

struct vsock {
    int peer_plus1; /* 0: not a virtual socket */
    uint32_t portid;
    ino_t ino;      /* the guest's end: a reused number is another file */
    ino_t peer_ino; /* the peer, closed only if it is still ours */
};
static struct vsock vsocks[VSOCK_FD_MAX];
static int vsock_live;

static int ioctl_num = -1;
static struct {
    uint32_t lo, hi;
} routes[ROUTE_MAX];
static int n_routes;
static sfemu_rule_declines route_fallback_declines;
static sfemu_rule_declines vroute_fallback_declines;

/* The virtual socket fd is, or NULL.  A number closed without the close
 * rule (a rules tree without it) and reused is seen by its inode. */
static struct vsock *vsock_of(int64_t fd)
{
    struct stat st;

    if (fd < 0 || fd >= VSOCK_FD_MAX ||
        !__atomic_load_n(&vsocks[fd].peer_plus1, __ATOMIC_ACQUIRE)) {
        return NULL;
    }
    if (fstat((int)fd, &st) || st.st_ino != vsocks[fd].ino) {
        sfemu_vsock_forget((int)fd);
        return NULL;
    }
    return &vsocks[fd];
}

void sfemu_vsock_forget(int fd)
{
    struct stat st;
    int peer;

    if (!__atomic_load_n(&vsock_live, __ATOMIC_RELAXED) || fd < 0 ||
        fd >= VSOCK_FD_MAX) {
        return;
    }
    peer = __atomic_exchange_n(&vsocks[fd].peer_plus1, 0, __ATOMIC_ACQ_REL);
    /* a guest that closed every fd may own that number now */
    if (peer && !fstat(peer - 1, &st) && st.st_ino == vsocks[fd].peer_ino) {
        close(peer - 1);
    }
}

static int c_vsock_new(lua_State *L)
{
    int nonblock = lua_toboolean(L, 1), cloexec = lua_toboolean(L, 2);
    lua_Integer portid = luaL_optinteger(L, 3, 0);
    int sv[2], peer, type = SOCK_DGRAM | SOCK_CLOEXEC;

    if (nonblock) {
        type |= SOCK_NONBLOCK;
    }
    if (socketpair(AF_UNIX, type, 0, sv)) {
        lua_pushinteger(L, sfemu_api_neg_errno(errno));
        return 1;
    }
    peer = fcntl(sv[1], F_DUPFD_CLOEXEC, VSOCK_PEER_MIN);
    close(sv[1]);
    if (!cloexec) {
        fcntl(sv[0], F_SETFD, 0);
    }
    if (peer < 0 || sv[0] >= VSOCK_FD_MAX) {
        int err = peer < 0 ? errno : EMFILE;
        close(sv[0]);
        if (peer >= 0) {
            close(peer);
        }
        lua_pushinteger(L, sfemu_api_neg_errno(err));
        return 1;
    }
    /* the peer sends without blocking whatever the guest's end does */
    fcntl(peer, F_SETFL, fcntl(peer, F_GETFL) | O_NONBLOCK);
    sfemu_vsock_forget(sv[0]); /* its number's old socket, closed unseen */
    {
        struct stat st;
        vsocks[sv[0]].ino = fstat(sv[0], &st) ? 0 : st.st_ino;
        vsocks[sv[0]].peer_ino = fstat(peer, &st) ? 0 : st.st_ino;
    }
    vsocks[sv[0]].portid = (uint32_t)portid;
    __atomic_store_n(&vsocks[sv[0]].peer_plus1, peer + 1, __ATOMIC_RELEASE);
    __atomic_store_n(&vsock_live, 1, __ATOMIC_RELAXED);
    lua_pushinteger(L, sv[0]);
    return 1;
}

static int c_vsock_portid(lua_State *L)
{
    struct vsock *v = vsock_of(luaL_checkinteger(L, 1));

    if (!v) {
        lua_pushnil(L);
        return 1;
    }
    if (!lua_isnoneornil(L, 2)) {
        v->portid = (uint32_t)luaL_checkinteger(L, 2);
    }
    lua_pushinteger(L, v->portid);
    return 1;
}

static int c_vsock_reply(lua_State *L)
{
    struct vsock *v = vsock_of(luaL_checkinteger(L, 1));
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    ssize_t n;

    if (!v) {
        lua_pushinteger(L, sfemu_api_neg_errno(EBADF));
        return 1;
    }
    n = send(v->peer_plus1 - 1, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    lua_pushinteger(L, n < 0 ? sfemu_api_neg_errno(errno) : n);
    return 1;
}

/* Calls the upvalue rule function with this call's arguments. */
static int pass_to(lua_State *L, int upvalue)
{
    int n = lua_gettop(L);

    lua_pushvalue(L, lua_upvalueindex(upvalue));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

static int vsock_rule(lua_State *L)
{
    return pass_to(L, 1);
}

static int vsock_rule_declines(int num, const int64_t a[SFEMU_NARGS])
{
    (void)num;
    return !__atomic_load_n(&vsock_live, __ATOMIC_RELAXED) || !vsock_of(a[0]);
}

/* upvalues: handler, fallback: the handler for a virtual socket */
static int vsock_route(lua_State *L)
{
    int64_t fd = lua_gettop(L) >= 2 ? lua_tointeger(L, 2) : -1;

    return pass_to(
        L,
        __atomic_load_n(&vsock_live, __ATOMIC_RELAXED) && vsock_of(fd) ? 1 : 2);
}

static int vsock_route_declines(int num, const int64_t a[SFEMU_NARGS])
{
    if (!vsock_rule_declines(num, a)) {
        return 0;
    }
    return vroute_fallback_declines && vroute_fallback_declines(num, a);
}

static int c_vsock_rule(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    if (lua_isnoneornil(L, 2)) {
        lua_settop(L, 1);
        lua_pushcclosure(L, vsock_rule, 1);
        return 1;
    }
    luaL_checktype(L, 2, LUA_TFUNCTION);
    vroute_fallback_declines = sfemu_rulefn_declines_of(lua_tocfunction(L, 2));
    lua_settop(L, 2);
    lua_pushcclosure(L, vsock_route, 2);
    return 1;
}

static int routed(int64_t cmd)
{
    uint32_t c = (uint32_t)cmd;

    for (int i = 0; i < n_routes; i++) {
        if (c >= routes[i].lo && c <= routes[i].hi) {
            return 1;
        }
    }
    return 0;
}

/* upvalues: handler, fallback */
static int ioctl_route(lua_State *L)
{
    int n = lua_gettop(L);

    if (n >= 3 && lua_tointeger(L, 1) == ioctl_num &&
        routed(lua_tointeger(L, 3))) {
        lua_pushvalue(L, lua_upvalueindex(1));
        for (int i = 1; i <= n; i++) {
            lua_pushvalue(L, i);
        }
        lua_call(L, n, LUA_MULTRET);
        if (lua_gettop(L) > n && !lua_isnil(L, n + 1)) {
            return lua_gettop(L) - n;
        }
        lua_settop(L, n);
    }
    return pass_to(L, 2);
}

static int ioctl_route_declines(int num, const int64_t a[SFEMU_NARGS])
{
    if (num == ioctl_num && routed(a[1])) {
        return 0;
    }
    return route_fallback_declines && route_fallback_declines(num, a);
}

static int c_ioctl_route(lua_State *L)
{
    int n = 0;

    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    for (lua_Integer i = 1; lua_geti(L, 1, i) == LUA_TTABLE; i++) {
        lua_Integer lo, hi;
        if (n == ROUTE_MAX) {
            return luaL_error(L, "c_ioctl_route: more than %d ranges",
                              ROUTE_MAX);
        }
        lua_geti(L, -1, 1);
        lua_geti(L, -2, 2);
        lo = luaL_checkinteger(L, -2);
        hi = luaL_checkinteger(L, -1);
        lua_pop(L, 3);
        routes[n].lo = (uint32_t)lo;
        routes[n++].hi = (uint32_t)hi;
    }
    lua_pop(L, 1);
    n_routes = n;
    route_fallback_declines = sfemu_rulefn_declines_of(lua_tocfunction(L, 3));
    lua_settop(L, 3);
    lua_remove(L, 1);
    lua_pushcclosure(L, ioctl_route, 2);
    return 1;
}

static const luaL_Reg vsock_fns[] = {
    { "c_vsock_new", c_vsock_new },     { "c_vsock_portid", c_vsock_portid },
    { "c_vsock_reply", c_vsock_reply }, { "c_vsock_rule", c_vsock_rule },
    { "c_ioctl_route", c_ioctl_route }, { NULL, NULL },
};

static void vsock_init(void)
{
    ioctl_num = sfemu_syscall_num("ioctl");
    sfemu_rulefn_register(vsock_rule, vsock_rule_declines);
    sfemu_rulefn_register(vsock_route, vsock_route_declines);
    sfemu_rulefn_register(ioctl_route, ioctl_route_declines);
}

void sfemu_api_vsock_open(lua_State *L)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, vsock_init);
    sfemu_sandbox_register(L, vsock_fns);
}
