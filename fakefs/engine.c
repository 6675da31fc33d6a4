/*
 * The engine: resources (the three-piece convention), fakeconfig loading and
 * hot reload, and the per-operation dispatch into the Lua state machines.
 * One mutex serialises everything that touches the Lua state.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lualib.h>
#include "fakefs_internal.h"
#include "path.h"
#include "str_hash.h"

static const char *const type_names[] = { "text", "dev", "socket" };

void fakefs_logf(struct fakefs_engine *e, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (e && e->log) {
        e->log(buf);
    } else {
        fprintf(stderr, "%s\n", buf);
    }
}

int fakefs_is_record_name(const char *name)
{
    size_t n = strlen(name);
    return n > FAKEFS_SUFFIX_LEN &&
           strcmp(name + n - FAKEFS_SUFFIX_LEN, FAKEFS_SUFFIX) == 0;
}

static enum fakefs_type type_from(const char *s)
{
    for (int i = 0; i < 3; i++) {
        if (s && strcmp(s, type_names[i]) == 0) {
            return (enum fakefs_type)i;
        }
    }
    return FAKEFS_TEXT;
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = v ? strdup(v) : NULL;
}

/* ------------------------------------------------------------------ records */

/* Parse "key=value" lines into r (fields left NULL when absent). */
static void parse_record(struct fakefs_res *r, char *text)
{
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t') {
            line++;
        }
        if (*line == '#') {
            continue;
        }
        char *eq = strchr(line, '=');
        if (!eq) {
            continue;
        }
        *eq = 0;
        char *k = line, *v = eq + 1;
        for (char *t = eq - 1; t >= k && (*t == ' ' || *t == '\t'); t--) {
            *t = 0;
        }
        while (*v == ' ' || *v == '\t') {
            v++;
        }
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\r')) {
            v[--vl] = 0;
        }
        if (!strcmp(k, "type")) {
            r->type = type_from(v);
        } else if (!strcmp(k, "state")) {
            set_str(&r->state, *v ? v : NULL);
        } else if (!strcmp(k, "fakeconfig")) {
            set_str(&r->config_rel, *v ? v : NULL);
        } else if (!strcmp(k, "fakecontent")) {
            set_str(&r->content_rel, *v ? v : NULL);
        } else if (!strcmp(k, "last_pid")) {
            r->last_pid = atoi(v);
        } else if (!strcmp(k, "last_fd")) {
            r->last_fd = atoi(v);
        }
    }
}

static int persist_record(struct fakefs_engine *e, struct fakefs_res *r)
{
    char rec[PATH_MAX + 16], buf[4 * PATH_MAX + 512];
    snprintf(rec, sizeof rec, "%s%s", r->path, FAKEFS_SUFFIX);
    int n = snprintf(
        buf, sizeof buf,
        "# sfemu fakefile record: <path> is served by the fakeconfig state machine\n"
        "type=%s\nstate=%s\npath=%s\nfakeconfig=%s\nfakecontent=%s\n"
        "last_pid=%d\nlast_fd=%d\n",
        type_names[r->type], r->state ? r->state : "", r->path,
        r->config_rel ? r->config_rel : "",
        r->content_rel ? r->content_rel : "", r->last_pid, r->last_fd);
    if (!e->store.write) {
        return -ENOSYS;
    }
    int ret = e->store.write(e->store.ud, rec, buf, (size_t)n);
    if (ret < 0) {
        fakefs_logf(e, "fakefs: cannot write %s: %s", rec, strerror(-ret));
    } else {
        r->implicit = 0;
    }
    if (e->store.changed) {
        e->store.changed(e->store.ud, rec);
    }
    return ret;
}

/* Resolve a rules-relative (or absolute) file; NULL if missing/outside. */
static char *rules_file(struct fakefs_engine *e, const char *p)
{
    char tmp[PATH_MAX * 2], out[PATH_MAX];
    if (!p || !*p) {
        return NULL;
    }
    if (p[0] == '/') {
        snprintf(tmp, sizeof tmp, "%s", p);
    } else {
        snprintf(tmp, sizeof tmp, "%s%s", e->rules_dir, p);
    }
    if (!realpath(tmp, out) || !fakefs_path_in_rules(e, out, NULL)) {
        return NULL;
    }
    return strdup(out);
}

/* Fill config_abs / content_abs from the record and the naming convention. */
static void resolve_pieces(struct fakefs_engine *e, struct fakefs_res *r)
{
    char tmp[PATH_MAX * 2];
    const char *base = path_base(r->path);
    free(r->config_abs);
    r->config_abs = rules_file(e, r->config_rel);
    if (!r->config_abs) {
        snprintf(tmp, sizeof tmp, "%sconfig/%s.fakeconfig.lua", e->plugin_dir,
                 base);
        r->config_abs = rules_file(e, tmp);
    }
    if (!r->config_abs) {
        snprintf(tmp, sizeof tmp, "%sdefault/%s.fakeconfig.lua", e->plugin_dir,
                 type_names[r->type]);
        r->config_abs = rules_file(e, tmp);
    }
    free(r->content_abs);
    r->content_abs = NULL;
    if (r->content_rel && *r->content_rel) {
        if (r->content_rel[0] == '/') {
            snprintf(tmp, sizeof tmp, "%s", r->content_rel);
        } else {
            snprintf(tmp, sizeof tmp, "%s%s", e->rules_dir, r->content_rel);
        }
    } else {
        snprintf(tmp, sizeof tmp, "%sdata/%s.fakecontent", e->plugin_dir, base);
    }
    if (!path_has_dotdot(tmp) && fakefs_path_in_rules(e, tmp, NULL)) {
        r->content_abs = strdup(tmp);
    }
}

static void res_clear(struct fakefs_res *r)
{
    free(r->state);
    free(r->config_rel);
    free(r->content_rel);
    free(r->config_abs);
    free(r->content_abs);
    r->state = r->config_rel = r->content_rel = r->config_abs = r->content_abs =
        NULL;
    r->type = FAKEFS_TEXT;
    r->last_pid = r->last_fd = -1;
}

/* (Re)load the record of r; 0, or -ENOENT if there is none. */
static int load_record(struct fakefs_engine *e, struct fakefs_res *r,
                       int implicit_dev)
{
    char rec[PATH_MAX + 16];
    snprintf(rec, sizeof rec, "%s%s", r->path, FAKEFS_SUFFIX);
    char *data = NULL;
    size_t len = 0;
    int ret =
        e->store.read ? e->store.read(e->store.ud, rec, &data, &len) : -ENOSYS;
    res_clear(r);
    r->stale = 0;
    if (ret < 0) {
        if (!implicit_dev) {
            return -ENOENT;
        }
        r->implicit = 1;
        r->type = FAKEFS_DEV;
    } else {
        r->implicit = 0;
        parse_record(r, data);
        free(data);
    }
    resolve_pieces(e, r);
    return 0;
}

static struct fakefs_res *find_res(struct fakefs_engine *e, const char *path)
{
    for (struct fakefs_res *r = e->res[sfemu_str_hash(path) % FAKEFS_HASH]; r;
         r = r->next) {
        if (strcmp(r->path, path) == 0) {
            return r;
        }
    }
    return NULL;
}

/* The resource at path, loading its record; NULL if path is not fake. */
static struct fakefs_res *get_res(struct fakefs_engine *e, const char *path,
                                  int implicit_dev)
{
    struct fakefs_res *r = find_res(e, path);
    if (r && !r->stale) {
        return r;
    }
    if (r) {
        if (load_record(e, r, implicit_dev) < 0) {
            r->stale = 1; /* keep the struct (and ctx.store) for later */
            return NULL;
        }
        return r;
    }
    r = calloc(1, sizeof *r);
    if (!r) {
        return NULL;
    }
    r->path = strdup(path);
    r->store_ref = LUA_NOREF;
    if (!r->path || load_record(e, r, implicit_dev) < 0) {
        res_clear(r);
        free(r->path);
        free(r);
        return NULL;
    }
    unsigned h = sfemu_str_hash(path) % FAKEFS_HASH;
    r->next = e->res[h];
    e->res[h] = r;
    return r;
}

void fakefs_forget_locked(struct fakefs_engine *e, const char *path)
{
    struct fakefs_res *r = find_res(e, path);
    if (r) {
        r->stale = 1;
    }
}

void fakefs_forget(struct fakefs_engine *e, const char *path)
{
    pthread_mutex_lock(&e->lock);
    fakefs_forget_locked(e, path);
    pthread_mutex_unlock(&e->lock);
}

/* ------------------------------------------------------------------ configs */

static unsigned cur_gen(struct fakefs_engine *e)
{
    return __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE);
}

/* Push the config table for r (last good version), or return -1 (nothing
 * pushed) when no config can be loaded at all. */
static int push_config(struct fakefs_engine *e, struct fakefs_res *r)
{
    lua_State *L = e->L;
    unsigned gen = cur_gen(e);
    if (e->mod_gen != gen) {
        fakefs_sandbox_reset_modules(e);
        e->mod_gen = gen;
        /* a custom config may have appeared or vanished: re-resolve all */
        for (int i = 0; i < FAKEFS_HASH; i++) {
            for (struct fakefs_res *x = e->res[i]; x; x = x->next) {
                if (!x->stale) {
                    resolve_pieces(e, x);
                }
            }
        }
    }
    if (!r->config_abs) {
        return -1;
    }
    struct fakefs_cfg *c;
    for (c = e->cfgs; c; c = c->next) {
        if (strcmp(c->abs, r->config_abs) == 0) {
            break;
        }
    }
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c || !(c->abs = strdup(r->config_abs))) {
            free(c);
            return -1;
        }
        c->ref = LUA_NOREF;
        c->gen = gen - 1;
        c->next = e->cfgs;
        e->cfgs = c;
    }
    if (c->gen != gen) {
        c->gen = gen;
        int top = lua_gettop(L);
        if (fakefs_sandbox_dofile(e, c->abs) != 0) {
            char buf[64];
            fakefs_logf(e,
                        "fakeconfig error (keeping the last good version): %s",
                        lsb_error_text(L, -1, buf, sizeof buf));
        } else if (!lua_istable(L, -1) ||
                   lua_getfield(L, -1, "states") != LUA_TTABLE) {
            fakefs_logf(e,
                        "fakeconfig error (keeping the last good version): %s: "
                        "must return a table with `states`",
                        c->abs);
        } else {
            lua_pop(L, 1);
            luaL_unref(L, LUA_REGISTRYINDEX, c->ref);
            c->ref = luaL_ref(L, LUA_REGISTRYINDEX);
            fakefs_logf(e, "fakeconfig loaded: %s", c->abs);
        }
        lua_settop(L, top);
    }
    if (c->ref == LUA_NOREF) {
        return -1;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->ref);
    return 0;
}

/* ------------------------------------------------------------------ dispatch */

struct call {
    const char *op;
    const struct fakefs_caller *who;
    int flags;
    size_t count;
    off_t offset;
    const void *data;
    size_t datalen;
    unsigned long cmd;
    /* out */
    char *reply;
    size_t replylen;
    char action[16];
    int have_attr;
    struct fakefs_attr attr;
};

static void push_ctx(struct fakefs_engine *e, struct fakefs_res *r,
                     struct call *c)
{
    lua_State *L = e->L;
    lua_newtable(L);
    lua_pushstring(L, c->op);
    lua_setfield(L, -2, "op");
    lua_pushstring(L, r->path);
    lua_setfield(L, -2, "path");
    lua_pushinteger(L, c->who ? c->who->pid : -1);
    lua_setfield(L, -2, "pid");
    lua_pushinteger(L, c->who ? c->who->fd : -1);
    lua_setfield(L, -2, "fd");
    lua_pushstring(L, c->who && c->who->side ? c->who->side : "fuse");
    lua_setfield(L, -2, "side");
    lua_pushinteger(L, c->flags);
    lua_setfield(L, -2, "flags");
    lua_pushinteger(L, (lua_Integer)c->count);
    lua_setfield(L, -2, "count");
    lua_pushinteger(L, (lua_Integer)c->offset);
    lua_setfield(L, -2, "offset");
    if (c->data) {
        lua_pushlstring(L, c->data, c->datalen);
        lua_setfield(L, -2, !strcmp(c->op, "ioctl") ? "arg" : "data");
    }
    if (!strcmp(c->op, "ioctl")) {
        lua_pushinteger(L, (lua_Integer)c->cmd);
        lua_setfield(L, -2, "cmd");
    }
    lua_newtable(L);
    lua_pushstring(L, r->path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, type_names[r->type]);
    lua_setfield(L, -2, "type");
    lua_pushstring(L, r->state ? r->state : "");
    lua_setfield(L, -2, "state");
    lua_pushfstring(L, "%s%s", r->path, FAKEFS_SUFFIX);
    lua_setfield(L, -2, "fakefile_path");
    lua_pushstring(L, r->config_abs ? r->config_abs : "");
    lua_setfield(L, -2, "config_path");
    lua_pushstring(L, r->content_abs ? r->content_abs : "");
    lua_setfield(L, -2, "content_path");
    lua_pushinteger(L, r->last_pid);
    lua_setfield(L, -2, "last_pid");
    lua_pushinteger(L, r->last_fd);
    lua_setfield(L, -2, "last_fd");
    lua_setfield(L, -2, "record");
    if (r->store_ref == LUA_NOREF) {
        lua_newtable(L);
        r->store_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->store_ref);
    lua_setfield(L, -2, "store");
}

/* Built-in behaviour when a config has no handler for op (the seed's text
 * defaults): open ok, read EOF, write discarded, ioctl ENOTTY, connect takes
 * the fd over. */
static long builtin(struct call *c)
{
    if (!strcmp(c->op, "write")) {
        return (long)c->datalen;
    }
    if (!strcmp(c->op, "ioctl")) {
        return -ENOTTY;
    }
    if (!strcmp(c->op, "connect")) {
        strcpy(c->action, "takeover");
    }
    return 0;
}

/* Run r's handler for c->op in the resource's current state. */
static long dispatch(struct fakefs_engine *e, struct fakefs_res *r,
                     struct call *c)
{
    lua_State *L = e->L;
    int top = lua_gettop(L);
    long ret;
    if (push_config(e, r) < 0) {
        ret = builtin(c);
        goto out;
    }
    int cfg = lua_gettop(L);
    lua_getfield(L, cfg, "states");
    int states = lua_gettop(L);
    if (!r->state || lua_getfield(L, states, r->state) != LUA_TTABLE) {
        lua_settop(L, states);
        lua_getfield(L, cfg, "default_state");
        const char *ds = lua_tostring(L, -1);
        if (ds && lua_getfield(L, states, ds) == LUA_TTABLE) {
            if (r->state && *r->state) {
                fakefs_logf(
                    e,
                    "fakefs: %s: unknown state '%s', using default_state '%s'",
                    r->path, r->state, ds);
            }
            set_str(&r->state, ds);
        } else {
            ret = builtin(c);
            goto out;
        }
    }
    int st = lua_gettop(L);
    if (lua_getfield(L, st, c->op) != LUA_TFUNCTION) {
        ret = builtin(c);
        goto out;
    }
    int h = lua_gettop(L);
    push_ctx(e, r, c);
    int ctx = h + 1;
    lua_pushvalue(L, h);
    lua_pushvalue(L, ctx);
    lua_budget_enter(&e->budget);
    int rc = lua_pcall(L, 1, 1, 0);
    lua_budget_leave(&e->budget);
    if (rc != LUA_OK) {
        char buf[64];
        fakefs_logf(e, "fakeconfig %s: %s handler failed: %s", r->config_abs,
                    c->op, lsb_error_text(L, -1, buf, sizeof buf));
        ret = -EIO;
        goto out;
    }
    if (!strcmp(c->op, "getattr")) {
        if (lua_istable(L, -1)) {
            c->have_attr = 1;
            if (lua_getfield(L, -1, "size") == LUA_TNUMBER) {
                c->attr.size = (uint64_t)lua_tointeger(L, -1);
            } else {
                c->have_attr = 2; /* size from content */
            }
            lua_pop(L, 1);
            if (lua_getfield(L, -1, "mode") == LUA_TNUMBER) {
                c->attr.mode = (unsigned)lua_tointeger(L, -1) & 07777;
            }
            lua_pop(L, 1);
        }
        ret = 0;
    } else if (lua_isinteger(L, -1) || lua_isnumber(L, -1)) {
        ret = (long)lua_tointeger(L, -1);
    } else if (lua_isnil(L, -1)) {
        ret = builtin(c);
    } else {
        fakefs_logf(
            e, "fakeconfig %s: %s handler returned a %s, expected an integer",
            r->config_abs, c->op, luaL_typename(L, -1));
        ret = -EIO;
    }
    /* replies and state change */
    if (lua_getfield(L, ctx, "reply") == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        c->reply = malloc(n + 1);
        if (c->reply) {
            memcpy(c->reply, s, n);
            c->reply[n] = 0;
            c->replylen = n;
        }
    }
    lua_pop(L, 1);
    if (lua_getfield(L, ctx, "action") == LUA_TSTRING) {
        snprintf(c->action, sizeof c->action, "%s", lua_tostring(L, -1));
    }
    lua_pop(L, 1);
    lua_getfield(L, ctx, "record");
    if (lua_getfield(L, -1, "state") == LUA_TSTRING) {
        const char *ns = lua_tostring(L, -1);
        if (!r->state || strcmp(ns, r->state) != 0) {
            if (lua_getfield(L, states, ns) == LUA_TTABLE) {
                fakefs_logf(e, "fakefs: %s: state %s -> %s (%s)", r->path,
                            r->state ? r->state : "", ns, c->op);
                set_str(&r->state, ns);
                persist_record(e, r);
                if (e->store.changed) {
                    e->store.changed(e->store.ud, r->path);
                }
            } else {
                fakefs_logf(
                    e,
                    "fakeconfig %s: %s handler set unknown state '%s' (ignored)",
                    r->config_abs, c->op, ns);
            }
        }
    }
out:
    lua_settop(L, top);
    return ret;
}

/* Run one operation: lock, find the resource, dispatch. */
static long run(struct fakefs_engine *e, const char *path, int implicit,
                struct call *c, struct fakefs_res **out)
{
    struct fakefs_res *r = get_res(e, path, implicit);
    if (out) {
        *out = r;
    }
    if (!r) {
        return -ENOENT;
    }
    return dispatch(e, r, c);
}

/* ------------------------------------------------------------------ public */

int fakefs_lookup(struct fakefs_engine *e, const char *path, int implicit_dev,
                  struct fakefs_attr *attr)
{
    struct call c = { .op = "getattr" };
    struct fakefs_res *r;
    pthread_mutex_lock(&e->lock);
    long ret = run(e, path, implicit_dev, &c, &r);
    if (ret >= 0 && attr) {
        memset(attr, 0, sizeof *attr);
        attr->type = r->type;
        attr->mode = c.attr.mode;
        if (c.have_attr == 1) {
            attr->size = c.attr.size;
        } else {
            struct stat st;
            attr->size = (r->content_abs && stat(r->content_abs, &st) == 0)
                             ? (uint64_t)st.st_size
                             : 0;
        }
    }
    pthread_mutex_unlock(&e->lock);
    free(c.reply);
    if (ret == -ENOENT) {
        return 0;
    }
    return ret < 0 ? (int)ret : 1;
}

int fakefs_open(struct fakefs_engine *e, const char *path, int flags,
                const struct fakefs_caller *who)
{
    struct call c = { .op = "open", .who = who, .flags = flags };
    struct fakefs_res *r;
    pthread_mutex_lock(&e->lock);
    long ret = run(e, path, 0, &c, &r);
    if (ret >= 0 && r) {
        r->last_pid = who ? who->pid : -1;
        r->last_fd = who ? who->fd : -1;
        persist_record(e, r);
    }
    pthread_mutex_unlock(&e->lock);
    free(c.reply);
    return (int)(ret < 0 ? ret : 0);
}

ssize_t fakefs_read(struct fakefs_engine *e, const char *path, void *buf,
                    size_t count, off_t off, const struct fakefs_caller *who)
{
    struct call c = { .op = "read", .who = who, .count = count, .offset = off };
    pthread_mutex_lock(&e->lock);
    long ret = run(e, path, 0, &c, NULL);
    pthread_mutex_unlock(&e->lock);
    if (ret > 0) {
        size_t n = c.replylen < count ? c.replylen : count;
        if ((size_t)ret > n) {
            ret = (long)n; /* never claim bytes that were not supplied */
        }
        memcpy(buf, c.reply, (size_t)ret);
    }
    free(c.reply);
    return ret;
}

ssize_t fakefs_write(struct fakefs_engine *e, const char *path, const void *buf,
                     size_t count, off_t off, const struct fakefs_caller *who)
{
    struct call c = { .op = "write",
                      .who = who,
                      .count = count,
                      .offset = off,
                      .data = buf,
                      .datalen = count };
    pthread_mutex_lock(&e->lock);
    long ret = run(e, path, 0, &c, NULL);
    pthread_mutex_unlock(&e->lock);
    free(c.reply);
    if (ret > (long)count) {
        ret = (long)count;
    }
    return ret;
}

int fakefs_truncate(struct fakefs_engine *e, const char *path, off_t size,
                    const struct fakefs_caller *who)
{
    struct call c = { .op = "truncate", .who = who, .offset = size };
    pthread_mutex_lock(&e->lock);
    long ret = run(e, path, 0, &c, NULL);
    pthread_mutex_unlock(&e->lock);
    free(c.reply);
    return (int)(ret < 0 ? ret : 0);
}

int fakefs_ioctl(struct fakefs_engine *e, const char *path, unsigned long cmd,
                 const void *in, size_t inlen, void *out, size_t outcap,
                 size_t *outlen, const struct fakefs_caller *who)
{
    struct call c = { .op = "ioctl",
                      .who = who,
                      .cmd = cmd,
                      .data = in ? in : "",
                      .datalen = in ? inlen : 0,
                      .count = outcap };
    pthread_mutex_lock(&e->lock);
    long ret = run(e, path, 0, &c, NULL);
    pthread_mutex_unlock(&e->lock);
    size_t n = 0;
    if (c.reply && out) {
        n = c.replylen < outcap ? c.replylen : outcap;
        memcpy(out, c.reply, n);
    }
    if (outlen) {
        *outlen = n;
    }
    free(c.reply);
    return (int)ret;
}

int fakefs_connect(struct fakefs_engine *e, const char *path, int *action,
                   char *addr, size_t addrcap, const struct fakefs_caller *who)
{
    struct call c = { .op = "connect", .who = who };
    pthread_mutex_lock(&e->lock);
    long ret = run(e, path, 0, &c, NULL);
    pthread_mutex_unlock(&e->lock);
    *action = 0;
    if (ret >= 0 && !strcmp(c.action, "connect")) {
        *action = 1;
        if (addr && addrcap) {
            snprintf(addr, addrcap, "%s", c.reply ? c.reply : "");
        }
    }
    free(c.reply);
    return (int)ret;
}

int fakefs_close(struct fakefs_engine *e, const char *path,
                 const struct fakefs_caller *who)
{
    struct call c = { .op = "close", .who = who };
    pthread_mutex_lock(&e->lock);
    long ret = run(e, path, 0, &c, NULL);
    pthread_mutex_unlock(&e->lock);
    free(c.reply);
    return (int)(ret < 0 ? ret : 0);
}

int fakefs_init_resource(struct fakefs_engine *e, const char *path,
                         const char *kind)
{
    lua_State *L = e->L;
    pthread_mutex_lock(&e->lock);
    int top = lua_gettop(L);
    int ret = 0;
    char mod[PATH_MAX + 32];
    snprintf(mod, sizeof mod, "%splugins/fakefile", e->rules_dir);
    lsb_push_base(L);
    lua_getfield(L, -1, "require");
    lua_pushstring(L, mod);
    if (lua_budget_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
        fakefs_logf(e, "fakefs: cannot load the fakefile plugin: %s",
                    lua_isstring(L, -1) ? lua_tostring(L, -1) : "not a table");
        ret = -ENOENT;
        goto out;
    }
    lua_getfield(L, -1, "init");
    lua_pushstring(L, path);
    if (kind) {
        lua_pushstring(L, kind);
    } else {
        lua_pushnil(L);
    }
    if (lua_budget_pcall(L, 2, 2, 0) != LUA_OK) {
        char buf[64];
        fakefs_logf(e, "fakefile.init(%s): %s", path,
                    lsb_error_text(L, -1, buf, sizeof buf));
        ret = -EIO;
    } else if (lua_isnil(L, -2)) {
        fakefs_logf(e, "fakefile.init(%s): %s", path, lua_tostring(L, -1));
        ret = -EINVAL;
    }
    fakefs_forget_locked(e, path);
out:
    lua_settop(L, top);
    pthread_mutex_unlock(&e->lock);
    return ret;
}

void fakefs_content_changed(struct fakefs_engine *e, const char *abs)
{
    pthread_mutex_lock(&e->lock);
    for (int i = 0; i < FAKEFS_HASH; i++) {
        for (struct fakefs_res *r = e->res[i]; r; r = r->next) {
            if (r->content_abs && strcmp(r->content_abs, abs) == 0 &&
                e->store.changed) {
                e->store.changed(e->store.ud, r->path);
            }
        }
    }
    pthread_mutex_unlock(&e->lock);
}

void fakefs_all_changed(struct fakefs_engine *e)
{
    pthread_mutex_lock(&e->lock);
    for (int i = 0; i < FAKEFS_HASH; i++) {
        for (struct fakefs_res *r = e->res[i]; r; r = r->next) {
            if (e->store.changed) {
                e->store.changed(e->store.ud, r->path);
            }
        }
    }
    pthread_mutex_unlock(&e->lock);
}

struct fakefs_engine *fakefs_new(const char *rules_dir,
                                 const struct fakefs_store *store,
                                 void (*log)(const char *msg))
{
    char real[PATH_MAX];
    if (!realpath(rules_dir, real)) {
        return NULL;
    }
    struct fakefs_engine *e = calloc(1, sizeof *e);
    if (!e) {
        return NULL;
    }
    pthread_mutex_init(&e->lock, NULL);
    e->log = log;
    e->store = *store;
    size_t n = strlen(real);
    e->rules_dir = malloc(n + 2);
    e->plugin_dir = malloc(n + 32);
    if (!e->rules_dir || !e->plugin_dir) {
        goto fail;
    }
    snprintf(e->rules_dir, n + 2, "%s%s", real,
             (n && real[n - 1] == '/') ? "" : "/");
    snprintf(e->plugin_dir, n + 32, "%splugins/fakefile/", e->rules_dir);
    e->rules_fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (e->rules_fd < 0) {
        goto fail;
    }
    if (fakefs_sandbox_init(e) != 0) {
        goto fail;
    }
    /* What a handler call may use once it has run 10 ms. */
    static const struct lua_budget_limits handler_limits = {
        .max_insns = 100000000, .max_ms = 5000, .who = "handler"
    };
    lua_budget_register(&e->budget, e->L, &handler_limits, 0);
    e->gen = 1;
    return e;
fail:
    fakefs_free(e);
    return NULL;
}

void fakefs_free(struct fakefs_engine *e)
{
    if (!e) {
        return;
    }
    fakefs_watch_stop(e);
    for (int i = 0; i < FAKEFS_HASH; i++) {
        struct fakefs_res *r = e->res[i];
        while (r) {
            struct fakefs_res *n = r->next;
            res_clear(r);
            free(r->path);
            free(r);
            r = n;
        }
    }
    while (e->cfgs) {
        struct fakefs_cfg *n = e->cfgs->next;
        free(e->cfgs->abs);
        free(e->cfgs);
        e->cfgs = n;
    }
    if (e->L) {
        lua_budget_unregister(&e->budget);
        lua_close(e->L);
    }
    if (e->rules_fd > 0) {
        close(e->rules_fd);
    }
    free(e->rules_dir);
    free(e->plugin_dir);
    pthread_mutex_destroy(&e->lock);
    free(e);
}
