/*
 * FAKEFILE_HOST: the C functions the daemon gives the plugin.  rules_* touch
 * only the rules tree (openat2 RESOLVE_BENEATH on the rules fd, no ".."),
 * tree_* go through the engine's store (the daemon's upper tree).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <lauxlib.h>
#include "dirfd.h"
#include "fakefs_internal.h"
#include "path.h"

static struct fakefs_engine *engine_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* The rules tree's confinement: symlinks are followed if they stay in it. */
#define RULES_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

/* Map a Lua path to a path relative to the rules tree; NULL if outside. */
static const char *rules_rel(struct fakefs_engine *e, const char *p)
{
    const char *rel = p;
    if ((p[0] == '/' && !fakefs_path_in_rules(e, p, &rel)) ||
        path_has_dotdot(rel)) {
        return NULL;
    }
    return *rel ? rel : ".";
}

static int push_err(lua_State *L, int err, const char *what)
{
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", what, strerror(err));
    return 2;
}

static int l_rules_read(lua_State *L)
{
    struct fakefs_engine *e = engine_of(L);
    const char *p = luaL_checkstring(L, 1);
    const char *rel = rules_rel(e, p);
    if (!rel) {
        return push_err(L, EPERM, p);
    }
    int fd = dirfd_open(e->rules_fd, rel, O_RDONLY, 0, RULES_RESOLVE);
    if (fd < 0) {
        return push_err(L, -fd, p);
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        luaL_addlstring(&b, buf, (size_t)n);
    }
    int err = n < 0 ? errno : 0;
    close(fd);
    if (err) {
        return push_err(L, err, p);
    }
    luaL_pushresult(&b);
    return 1;
}

static int l_rules_mkdir_p(lua_State *L)
{
    struct fakefs_engine *e = engine_of(L);
    const char *p = luaL_checkstring(L, 1);
    const char *rel = rules_rel(e, p);
    if (!rel) {
        return push_err(L, EPERM, p);
    }
    const struct dirfd_mkdir how = { .resolve = RULES_RESOLVE, .mode = 0755 };
    int r = dirfd_mkdir_p(e->rules_fd, rel, &how);
    if (r < 0) {
        return push_err(L, -r, p);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_rules_write(lua_State *L)
{
    struct fakefs_engine *e = engine_of(L);
    const char *p = luaL_checkstring(L, 1);
    size_t len;
    const char *d = luaL_checklstring(L, 2, &len);
    const char *rel = rules_rel(e, p);
    if (!rel) {
        return push_err(L, EPERM, p);
    }
    char dir[4096], tmp[4200];
    const char *name;
    int dfd = path_split(rel, dir, sizeof dir, &name);
    if (dfd == 0) {
        dfd = dirfd_open(e->rules_fd, dir, O_PATH | O_DIRECTORY, 0,
                         RULES_RESOLVE);
    }
    if (dfd < 0) {
        return push_err(L, -dfd, p);
    }
    snprintf(tmp, sizeof tmp, ".%s.tmp%d", name, (int)getpid());
    int fd = openat(
        dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    int err = 0;
    if (fd < 0) {
        err = errno;
    } else {
        size_t off = 0;
        while (off < len) {
            ssize_t n = write(fd, d + off, len - off);
            if (n < 0) {
                err = errno;
                break;
            }
            off += (size_t)n;
        }
        close(fd);
        if (!err && renameat(dfd, tmp, dfd, name) < 0) {
            err = errno;
        }
        if (err) {
            unlinkat(dfd, tmp, 0);
        }
    }
    close(dfd);
    if (err) {
        return push_err(L, err, p);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_rules_exists(lua_State *L)
{
    struct fakefs_engine *e = engine_of(L);
    const char *rel = rules_rel(e, luaL_checkstring(L, 1));
    int ok = 0;
    if (rel) {
        int fd = dirfd_open(e->rules_fd, rel, O_PATH, 0, RULES_RESOLVE);
        if (fd >= 0) {
            ok = 1;
            close(fd);
        }
    }
    lua_pushboolean(L, ok);
    return 1;
}

static int check_tree_path(const char *p)
{
    return p[0] == '/' && !path_has_dotdot(p);
}

static int l_tree_read(lua_State *L)
{
    struct fakefs_engine *e = engine_of(L);
    const char *p = luaL_checkstring(L, 1);
    if (!check_tree_path(p) || !e->store.read) {
        return push_err(L, EPERM, p);
    }
    char *data;
    size_t len;
    int r = e->store.read(e->store.ud, p, &data, &len);
    if (r < 0) {
        return push_err(L, -r, p);
    }
    lua_pushlstring(L, data, len);
    free(data);
    return 1;
}

static int l_tree_write(lua_State *L)
{
    struct fakefs_engine *e = engine_of(L);
    const char *p = luaL_checkstring(L, 1);
    size_t len;
    const char *d = luaL_checklstring(L, 2, &len);
    if (!check_tree_path(p) || !e->store.write) {
        return push_err(L, EPERM, p);
    }
    int r = e->store.write(e->store.ud, p, d, len);
    if (r < 0) {
        return push_err(L, -r, p);
    }
    /* a record written through the host is picked up by the engine */
    size_t n = strlen(p);
    if (n > FAKEFS_SUFFIX_LEN &&
        strcmp(p + n - FAKEFS_SUFFIX_LEN, FAKEFS_SUFFIX) == 0) {
        char *res = strndup(p, n - FAKEFS_SUFFIX_LEN);
        if (res) {
            fakefs_forget(e, res);
            free(res);
        }
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_tree_exists(lua_State *L)
{
    struct fakefs_engine *e = engine_of(L);
    const char *p = luaL_checkstring(L, 1);
    lua_pushboolean(L, check_tree_path(p) && e->store.exists &&
                           e->store.exists(e->store.ud, p) == 1);
    return 1;
}

static int l_log(lua_State *L)
{
    fakefs_logf(engine_of(L), "fakefile: %s", luaL_checkstring(L, 1));
    return 0;
}

/* A real listening server on an abstract unix name, draining its clients. */
static void *server_thread(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            continue;
        }
        char buf[4096];
        while (read(c, buf, sizeof buf) > 0) {
            ;
        }
        close(c);
    }
    return NULL;
}

static int l_socket_server(lua_State *L)
{
    struct fakefs_engine *e = engine_of(L);
    const char *p = luaL_checkstring(L, 1);
    unsigned h = 2166136261u;
    for (const char *s = p; *s; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    char name[64];
    int n = snprintf(name, sizeof name, "sfemu-fake-%d-%08x", (int)getpid(), h);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return push_err(L, errno, "socket");
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    memcpy(sa.sun_path + 1, name, (size_t)n);
    socklen_t sl =
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    if (bind(fd, (struct sockaddr *)&sa, sl) < 0) {
        int err = errno;
        close(fd);
        if (err == EADDRINUSE) { /* already serving this path */
            lua_pushstring(L, name);
            return 1;
        }
        return push_err(L, err, "bind");
    }
    if (listen(fd, 16) < 0) {
        int err = errno;
        close(fd);
        return push_err(L, err, "listen");
    }
    pthread_t t;
    if (pthread_create(&t, NULL, server_thread, (void *)(intptr_t)fd) != 0) {
        close(fd);
        return push_err(L, EAGAIN, "thread");
    }
    pthread_detach(t);
    fakefs_logf(e, "fakefile: socket server @%s for %s", name, p);
    lua_pushstring(L, name);
    return 1;
}

void fakefs_hostfn_register(struct fakefs_engine *e, lua_State *L, int t)
{
    static const luaL_Reg fns[] = { { "rules_read", l_rules_read },
                                    { "rules_write", l_rules_write },
                                    { "rules_exists", l_rules_exists },
                                    { "rules_mkdir_p", l_rules_mkdir_p },
                                    { "tree_read", l_tree_read },
                                    { "tree_write", l_tree_write },
                                    { "tree_exists", l_tree_exists },
                                    { "log", l_log },
                                    { "socket_server", l_socket_server },
                                    { NULL, NULL } };
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushlightuserdata(L, e);
        lua_pushcclosure(L, f->func, 1);
        lua_setfield(L, t, f->name);
    }
}
