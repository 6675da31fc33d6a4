/*
 * The engine: resources (the three-piece convention), fakeconfig loading and
 * hot reload, and the per-operation dispatch into the Lua state machines.
 *
 * Every resource has its own Lua state (its config and ctx.store) and its
 * own lock: one operation at a time per resource, while other resources are
 * served meanwhile; the engine's lock only guards the resource table.  Every
 * run (config load and handler) is one protected call under the budget
 * (common/lua_budget.c) and the memory cap (memcap.c), so a runaway fakeconfig ends with -EIO and a
 * log line, and never stops the daemon.
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
#include "call.h"
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

/* ------------------------------------------------------------ resources */

static unsigned cur_gen(struct fakefs_engine *e)
{
    return __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE);
}

/* The resource struct of path, made if needed (no I/O; engine lock).
 * Resources live until fakefs_free(). */
static struct fakefs_res *res_get(struct fakefs_engine *e, const char *path)
{
    unsigned h = sfemu_str_hash(path) % FAKEFS_HASH;
    pthread_mutex_lock(&e->lock);
    struct fakefs_res *r = e->res[h];
    while (r && strcmp(r->path, path)) {
        r = r->next;
    }
    if (!r && (r = calloc(1, sizeof *r))) {
        if (!(r->path = strdup(path))) {
            free(r);
            r = NULL;
        } else {
            pthread_mutex_init(&r->lock, NULL);
            r->last_pid = r->last_fd = -1;
            r->next = e->res[h];
            e->res[h] = r;
        }
    }
    pthread_mutex_unlock(&e->lock);
    return r;
}

/* Lock r with its record current; -ENOENT (unlocked) when path is not
 * fake. */
static int res_enter(struct fakefs_engine *e, struct fakefs_res *r,
                     int implicit_dev)
{
    pthread_mutex_lock(&r->lock);
    if (!r->loaded || __atomic_exchange_n(&r->stale, 0, __ATOMIC_ACQ_REL)) {
        r->loaded = load_record(e, r, implicit_dev) == 0;
        r->pieces_gen = cur_gen(e);
        if (!r->loaded) {
            pthread_mutex_unlock(&r->lock);
            return -ENOENT;
        }
    } else if (r->pieces_gen != cur_gen(e)) {
        /* a custom config may have appeared or vanished */
        r->pieces_gen = cur_gen(e);
        resolve_pieces(e, r);
    }
    return 0;
}

void fakefs_forget(struct fakefs_engine *e, const char *path)
{
    unsigned h = sfemu_str_hash(path) % FAKEFS_HASH;
    pthread_mutex_lock(&e->lock);
    for (struct fakefs_res *r = e->res[h]; r; r = r->next) {
        if (!strcmp(r->path, path)) {
            __atomic_store_n(&r->stale, 1, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&e->lock);
}

/* ------------------------------------------------------------ configs */

/* Push the config table of r (its last good version): 0, or -1 with
 * nothing pushed: 1 when r has no config file at all (the built-in
 * behaviour serves), -EIO when it has one that never loaded. */
static int push_config(struct fakefs_engine *e, struct fakefs_res *r)
{
    struct fakefs_vm *vm = &r->vm;
    lua_State *L = vm->L;
    unsigned gen = cur_gen(e);
    if (vm->mod_gen != gen) {
        lsb_forget_modules(L);
        vm->mod_gen = gen;
    }
    if (!r->config_abs) {
        return 1;
    }
    if (!vm->cfg_abs || strcmp(vm->cfg_abs, r->config_abs)) {
        /* another file: its last good version is not this one's */
        free(vm->cfg_abs);
        vm->cfg_abs = strdup(r->config_abs);
        luaL_unref(L, LUA_REGISTRYINDEX, vm->cfg_ref);
        vm->cfg_ref = LUA_NOREF;
        vm->cfg_gen = gen - 1;
    }
    if (vm->cfg_gen != gen) {
        vm->cfg_gen = gen;
        int top = lua_gettop(L);
        if (fakefs_sandbox_dofile(e, L, r->config_abs) != 0) {
            char buf[64];
            fakefs_logf(e,
                        "fakeconfig error (keeping the last good version): %s",
                        lsb_error_text(L, -1, buf, sizeof buf));
            if (lua_budget_stopped(L)) {
                vm->cfg_gen = gen - 1; /* try again next time */
                lua_error(L);          /* and this call fails */
            }
        } else if (!lua_istable(L, -1) ||
                   lua_getfield(L, -1, "states") != LUA_TTABLE) {
            fakefs_logf(e,
                        "fakeconfig error (keeping the last good version): %s: "
                        "must return a table with `states`",
                        r->config_abs);
        } else {
            lua_pop(L, 1);
            luaL_unref(L, LUA_REGISTRYINDEX, vm->cfg_ref);
            vm->cfg_ref = luaL_ref(L, LUA_REGISTRYINDEX);
            fakefs_logf(e, "fakeconfig loaded: %s", r->config_abs);
        }
        lua_settop(L, top);
    }
    if (vm->cfg_ref == LUA_NOREF) {
        return -EIO;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->cfg_ref);
    return 0;
}

/* ------------------------------------------------------------ dispatch */

struct call {
    const char *op;
    const char *alt_op; /* run instead when the state has no op handler */
    const struct fakefs_caller *who;
    int flags;
    size_t count;
    off_t offset;
    const void *data;
    size_t datalen;
    unsigned long cmd;
    uint64_t argval; /* ioctl: the third argument as passed */
    int raw;         /* ioctl: no size in cmd, ask the `ioctls` table */
    /* out */
    size_t need; /* raw ioctl: argument bytes the `ioctls` table gives */
    int needdir; /* and their direction (FAKEFS_IOCTL_IN | _OUT) */
    char *reply;
    size_t replylen;
    char action[16];
    int have_attr;
    struct fakefs_attr attr;
};

static void push_ctx(struct fakefs_vm *vm, struct fakefs_res *r, struct call *c)
{
    lua_State *L = vm->L;
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
    if (c->who && c->who->order != FAKEFS_ORDER_UNKNOWN) {
        lua_pushstring(L, c->who->order == FAKEFS_ORDER_BIG ? "big" : "little");
        lua_setfield(L, -2, "byteorder");
    }
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
        lua_pushinteger(L, (lua_Integer)c->argval);
        lua_setfield(L, -2, "argval");
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
    if (vm->store_ref == LUA_NOREF) {
        lua_newtable(L);
        vm->store_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->store_ref);
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

/* One note's text: control characters become spaces, cut to
 * FAKEFS_NOTE_TEXT bytes with the NUL. */
static void note_text(char *out, const char *s, size_t n)
{
    if (n > FAKEFS_NOTE_TEXT - 1) {
        n = FAKEFS_NOTE_TEXT - 1;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    }
    out[n] = '\0';
}

/* The handler's notes (fakefile.note: the strings in ctx.notes): to the
 * caller's sink, else into the log, each distinct one once (r locked). */
static void take_notes(struct fakefs_engine *e, struct fakefs_res *r,
                       struct call *c, int ctx)
{
    lua_State *L = r->vm.L;
    char text[FAKEFS_NOTE_TEXT];

    if (lua_getfield(L, ctx, "notes") == LUA_TTABLE) {
        for (lua_Integer i = 1; lua_geti(L, -1, i) == LUA_TSTRING; i++) {
            size_t n;
            const char *s = lua_tolstring(L, -1, &n);
            note_text(text, s, n);
            lua_pop(L, 1);
            if (c->who && c->who->note) {
                fakefs_note_append(c->who, text, strlen(text));
                continue;
            }
            unsigned h = sfemu_str_hash(text), seen = 0;
            for (unsigned k = 0; k < r->nnoted && k < FAKEFS_NOTED; k++) {
                seen |= r->noted[k] == h;
            }
            if (!seen) {
                r->noted[r->nnoted++ % FAKEFS_NOTED] = h;
                fakefs_logf(e, "fakefs: %s: note: %s", r->path, text);
            }
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* The handler's results: reply, action, attributes, a state change. */
static long take_results(struct fakefs_engine *e, struct fakefs_res *r,
                         struct call *c, int states, int ctx)
{
    lua_State *L = r->vm.L;
    long ret;
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
    take_notes(e, r, c, ctx);
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
    return ret;
}

struct run {
    struct fakefs_engine *e;
    struct fakefs_res *r;
    struct call *c;
    long ret;
};

/* A raw ioctl (no _IOC size in its number): the fakeconfig's
 * `ioctls[cmd] = { size = N, dir = "r" | "w" | "rw" }` says how many
 * argument bytes it has and which way they go (docs/fakefile.md).  1 when
 * the caller must ask again with them (c->need, c->needdir set), 0 when
 * the table says nothing of cmd, -EINVAL for a bad entry (logged). */
static int raw_ioctl_size(struct fakefs_engine *e, struct fakefs_res *r,
                          struct call *c, int cfg)
{
    lua_State *L = r->vm.L;
    int top = lua_gettop(L), ret = 0;
    if (lua_getfield(L, cfg, "ioctls") == LUA_TTABLE &&
        lua_geti(L, -1, (lua_Integer)c->cmd) == LUA_TTABLE) {
        lua_Integer size = -1;
        const char *dir = NULL;
        if (lua_getfield(L, -1, "size") == LUA_TNUMBER) {
            size = lua_tointeger(L, -1);
        }
        if (lua_getfield(L, -2, "dir") == LUA_TSTRING) {
            dir = lua_tostring(L, -1);
        }
        int d = !dir                 ? 0
                : !strcmp(dir, "r")  ? FAKEFS_IOCTL_OUT
                : !strcmp(dir, "w")  ? FAKEFS_IOCTL_IN
                : !strcmp(dir, "rw") ? FAKEFS_IOCTL_IN | FAKEFS_IOCTL_OUT
                                     : -1;
        if (size < 0 || size > FAKEFS_IOCTL_MAX || d <= 0) {
            fakefs_logf(e,
                        "fakeconfig %s: ioctls[0x%lx] needs size = 0..%d and "
                        "dir = \"r\", \"w\" or \"rw\"",
                        r->config_abs, c->cmd, FAKEFS_IOCTL_MAX);
            ret = -EINVAL;
        } else if (size > 0) {
            c->need = (size_t)size;
            c->needdir = d;
            ret = 1;
        }
    }
    lua_settop(L, top);
    return ret;
}

/* r's handler for c->op in its current state; runs inside lua_pcall. */
static int run_handler(lua_State *L)
{
    struct run *x = lua_touserdata(L, 1);
    struct fakefs_engine *e = x->e;
    struct fakefs_res *r = x->r;
    struct call *c = x->c;
    int pc = push_config(e, r);
    if (pc) {
        x->ret = pc > 0 ? builtin(c) : pc;
        return 0;
    }
    int cfg = lua_gettop(L);
    if (c->raw) {
        int need = raw_ioctl_size(e, r, c, cfg);
        if (need != 0) {
            x->ret = need < 0 ? need : 0;
            return 0;
        }
    }
    lua_getfield(L, cfg, "states");
    int states = lua_gettop(L);
    if (!r->state || lua_getfield(L, states, r->state) != LUA_TTABLE) {
        lua_settop(L, states);
        lua_getfield(L, cfg, "default_state");
        const char *ds = lua_tostring(L, -1);
        if (!ds || lua_getfield(L, states, ds) != LUA_TTABLE) {
            x->ret = builtin(c);
            return 0;
        }
        if (r->state && *r->state) {
            fakefs_logf(
                e, "fakefs: %s: unknown state '%s', using default_state '%s'",
                r->path, r->state, ds);
        }
        set_str(&r->state, ds);
    }
    int st = lua_gettop(L);
    if (lua_getfield(L, st, c->op) != LUA_TFUNCTION && c->alt_op) {
        lua_pop(L, 1);
        c->op = c->alt_op; /* ctx.op says which handler runs */
        lua_getfield(L, st, c->op);
    }
    if (!lua_isfunction(L, -1)) {
        x->ret = builtin(c);
        return 0;
    }
    int h = lua_gettop(L);
    push_ctx(&r->vm, r, c);
    int ctx = lua_gettop(L);
    lua_pushvalue(L, h);
    lua_pushvalue(L, ctx);
    lua_call(L, 1, 1);
    x->ret = take_results(e, r, c, states, ctx);
    return 0;
}

/* Run one operation on r (locked, record current). */
static long dispatch(struct fakefs_engine *e, struct fakefs_res *r,
                     struct call *c)
{
    struct fakefs_vm *vm = &r->vm;
    if (!vm->L && fakefs_vm_open(e, vm) < 0) {
        fakefs_logf(e, "fakefs: %s: cannot create a Lua state", r->path);
        return -ENOMEM;
    }
    lua_State *L = vm->L;
    int top = lua_gettop(L);
    struct run x = { e, r, c, 0 };
    fakefs_run_begin(e, vm);
    lua_pushcfunction(L, run_handler);
    lua_pushlightuserdata(L, &x);
    int rc = lua_pcall(L, 1, 0, 0);
    int refused = vm->lim.refused;
    fakefs_run_end(vm);
    if (rc != LUA_OK) {
        char buf[64];
        fakefs_logf(e, "fakeconfig %s: %s handler failed: %s%s",
                    r->config_abs ? r->config_abs : "(none)", c->op,
                    lsb_error_text(L, -1, buf, sizeof buf),
                    refused ? " (memory limit of a fakeconfig reached)" : "");
        x.ret = -EIO;
    }
    lua_settop(L, top);
    if (refused) {
        lua_gc(L, LUA_GCCOLLECT); /* give back what the failed run held */
    }
    return x.ret;
}

/* Lock the resource at path, run c, unlock.  -ENOENT: not fake. */
static long run(struct fakefs_engine *e, const char *path, int implicit,
                struct call *c, struct fakefs_res **out)
{
    struct fakefs_res *r = res_get(e, path);
    if (!r) {
        return -ENOMEM;
    }
    if (res_enter(e, r, implicit) < 0) {
        return -ENOENT;
    }
    long ret = dispatch(e, r, c);
    if (out) {
        *out = r;
        return ret; /* the caller unlocks */
    }
    pthread_mutex_unlock(&r->lock);
    return ret;
}

/* ------------------------------------------------------------ public */

/* fakefs_lookup for a caller (its ctx.pid, ctx.fd, its notes' sink). */
static int lookup(struct fakefs_engine *e, const char *path, int implicit_dev,
                  struct fakefs_attr *attr, const struct fakefs_caller *who)
{
    struct call c = { .op = "getattr", .who = who };
    struct fakefs_res *r = NULL;
    long ret = run(e, path, implicit_dev, &c, &r);
    if (r) {
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
        pthread_mutex_unlock(&r->lock);
    }
    free(c.reply);
    if (ret == -ENOENT) {
        return 0;
    }
    return ret < 0 ? (int)ret : 1;
}

int fakefs_lookup(struct fakefs_engine *e, const char *path, int implicit_dev,
                  struct fakefs_attr *attr)
{
    return lookup(e, path, implicit_dev, attr, NULL);
}

long fakefs_getattr_call(struct fakefs_engine *e, struct fakefs_call *k)
{
    int r = lookup(e, k->path, 0, &k->attr, &k->who);
    return r == 1 ? 0 : r < 0 ? r : -ENOENT;
}

/* The last opener, persisted in the record when it changed (r locked). */
static void note_opener(struct fakefs_engine *e, struct fakefs_res *r,
                        const struct fakefs_caller *who)
{
    int pid = who ? who->pid : -1, fd = who ? who->fd : -1;
    if (r->last_pid != pid || r->last_fd != fd) {
        r->last_pid = pid;
        r->last_fd = fd;
        persist_record(e, r);
    }
}

int fakefs_open(struct fakefs_engine *e, const char *path, int flags,
                const struct fakefs_caller *who)
{
    struct call c = { .op = "open", .who = who, .flags = flags };
    struct fakefs_res *r = NULL;
    long ret = run(e, path, 0, &c, &r);
    if (r) {
        if (ret >= 0) {
            note_opener(e, r, who);
        }
        pthread_mutex_unlock(&r->lock);
    }
    free(c.reply);
    return (int)(ret < 0 ? ret : 0);
}

int fakefs_opened(struct fakefs_engine *e, const char *path,
                  const struct fakefs_caller *who)
{
    struct fakefs_res *r = res_get(e, path);
    if (!r) {
        return -ENOMEM;
    }
    if (res_enter(e, r, 0) < 0) {
        return -ENOENT;
    }
    note_opener(e, r, who);
    pthread_mutex_unlock(&r->lock);
    return 0;
}

ssize_t fakefs_read(struct fakefs_engine *e, const char *path, void *buf,
                    size_t count, off_t off, const void *in, size_t inlen,
                    const struct fakefs_caller *who)
{
    struct call c = { .op = "read",
                      .who = who,
                      .count = count,
                      .offset = off,
                      .data = in,
                      .datalen = in ? inlen : 0 };
    long ret = run(e, path, 0, &c, NULL);
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
                     size_t count, off_t off, void *reply, size_t replycap,
                     size_t *replylen, const struct fakefs_caller *who)
{
    struct call c = { .op = "write",
                      .who = who,
                      .count = count,
                      .offset = off,
                      .data = buf,
                      .datalen = count };
    long ret = run(e, path, 0, &c, NULL);
    size_t n = 0;
    if (c.reply && reply) {
        n = c.replylen < replycap ? c.replylen : replycap;
        memcpy(reply, c.reply, n);
        if (n < c.replylen) {
            fakefs_logf(e, "fakefs: %s: write reply of %zu bytes cut to %zu",
                        path, c.replylen, n);
        }
    }
    if (replylen) {
        *replylen = n;
    }
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
    long ret = run(e, path, 0, &c, NULL);
    free(c.reply);
    return (int)(ret < 0 ? ret : 0);
}

long fakefs_ioctl_call(struct fakefs_engine *e, struct fakefs_call *k)
{
    struct call c = { .op = "ioctl",
                      .who = &k->who,
                      .cmd = k->cmd,
                      .argval = k->offset,
                      .raw = (k->flags & FAKEFS_IOCTL_RAW) != 0,
                      .data = k->in ? k->in : "",
                      .datalen = k->in ? k->inlen : 0,
                      .count = k->outcap };
    long ret = run(e, k->path, 0, &c, NULL);
    size_t n = 0;
    if (c.reply && k->out) {
        n = c.replylen < k->outcap ? c.replylen : k->outcap;
        memcpy(k->out, c.reply, n);
    }
    k->outlen = n;
    k->action = 0;
    if (c.need) {
        k->action = FAKEFS_IOCTL_NEED;
        k->attr.size = c.need;
        k->attr.mode = (unsigned)c.needdir;
    }
    free(c.reply);
    return ret;
}

int fakefs_ioctl(struct fakefs_engine *e, const char *path, unsigned long cmd,
                 const void *in, size_t inlen, void *out, size_t outcap,
                 size_t *outlen, const struct fakefs_caller *who)
{
    struct fakefs_call k = { .op = FAKEFS_IOCTL,
                             .path = path,
                             .cmd = cmd,
                             .in = in,
                             .inlen = inlen,
                             .out = out,
                             .outcap = outcap,
                             .who = *who };
    long ret = fakefs_ioctl_call(e, &k);
    if (outlen) {
        *outlen = k.outlen;
    }
    return (int)ret;
}

int fakefs_connect(struct fakefs_engine *e, const char *path, int *action,
                   char *addr, size_t addrcap, const struct fakefs_caller *who)
{
    struct call c = { .op = "connect", .who = who };
    long ret = run(e, path, 0, &c, NULL);
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

long fakefs_mmap(struct fakefs_engine *e, const char *path, uint64_t offset,
                 size_t len, void *out, size_t cap, size_t *outlen,
                 const struct fakefs_caller *who)
{
    struct call c = { .op = "mmap",
                      .alt_op = "read",
                      .who = who,
                      .count = len,
                      .offset = (off_t)offset };
    long ret = run(e, path, 0, &c, NULL);
    size_t n = 0;
    if (ret > 0) {
        n = c.replylen < len ? c.replylen : len;
        n = n < cap ? n : cap;
        n = (size_t)ret < n ? (size_t)ret : n; /* never more than supplied */
        memcpy(out, c.reply, n);
        ret = (long)n;
    }
    *outlen = n;
    free(c.reply);
    return ret;
}

int fakefs_close(struct fakefs_engine *e, const char *path,
                 const struct fakefs_caller *who)
{
    struct call c = { .op = "close", .who = who };
    long ret = run(e, path, 0, &c, NULL);
    free(c.reply);
    return (int)(ret < 0 ? ret : 0);
}

struct init_run {
    struct fakefs_engine *e;
    const char *path, *kind;
    int ret;
};

static int run_init(lua_State *L)
{
    struct init_run *x = lua_touserdata(L, 1);
    char mod[PATH_MAX + 32];
    snprintf(mod, sizeof mod, "%splugins/fakefile", x->e->rules_dir);
    lsb_push_base(L);
    lua_getfield(L, -1, "require");
    lua_pushstring(L, mod);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
        if (lua_budget_stopped(L)) {
            lua_error(L);
        }
        fakefs_logf(x->e, "fakefs: cannot load the fakefile plugin: %s",
                    lua_isstring(L, -1) ? lua_tostring(L, -1) : "not a table");
        x->ret = -ENOENT;
        return 0;
    }
    lua_getfield(L, -1, "init");
    lua_pushstring(L, x->path);
    if (x->kind) {
        lua_pushstring(L, x->kind);
    } else {
        lua_pushnil(L);
    }
    lua_call(L, 2, 2);
    if (lua_isnil(L, -2)) {
        char buf[64];
        fakefs_logf(x->e, "fakefile.init(%s): %s", x->path,
                    lsb_error_text(L, -1, buf, sizeof buf));
        x->ret = -EINVAL;
    }
    return 0;
}

int fakefs_init_resource(struct fakefs_engine *e, const char *path,
                         const char *kind)
{
    pthread_mutex_lock(&e->init_lock);
    struct fakefs_vm *vm = &e->init_vm;
    if (!vm->L && fakefs_vm_open(e, vm) < 0) {
        pthread_mutex_unlock(&e->init_lock);
        return -ENOMEM;
    }
    lua_State *L = vm->L;
    unsigned gen = cur_gen(e);
    if (vm->mod_gen != gen) {
        lsb_forget_modules(L);
        vm->mod_gen = gen;
    }
    int top = lua_gettop(L);
    struct init_run x = { e, path, kind, 0 };
    fakefs_run_begin(e, vm);
    lua_pushcfunction(L, run_init);
    lua_pushlightuserdata(L, &x);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        char buf[64];
        fakefs_logf(e, "fakefile.init(%s): %s", path,
                    lsb_error_text(L, -1, buf, sizeof buf));
        x.ret = -EIO;
    }
    fakefs_run_end(vm);
    lua_settop(L, top);
    pthread_mutex_unlock(&e->init_lock);
    fakefs_forget(e, path);
    return x.ret;
}

/* Every resource (they are never freed before the engine). */
static size_t all_res(struct fakefs_engine *e, struct fakefs_res ***out)
{
    size_t n = 0, cap = 0;
    struct fakefs_res **v = NULL;
    pthread_mutex_lock(&e->lock);
    for (int i = 0; i < FAKEFS_HASH; i++) {
        for (struct fakefs_res *r = e->res[i]; r; r = r->next) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                struct fakefs_res **nv = realloc(v, cap * sizeof *v);
                if (!nv) {
                    goto out;
                }
                v = nv;
            }
            v[n++] = r;
        }
    }
out:
    pthread_mutex_unlock(&e->lock);
    *out = v;
    return n;
}

void fakefs_content_changed(struct fakefs_engine *e, const char *abs)
{
    struct fakefs_res **v;
    size_t n = all_res(e, &v);
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&v[i]->lock);
        int uses = v[i]->content_abs && strcmp(v[i]->content_abs, abs) == 0;
        pthread_mutex_unlock(&v[i]->lock);
        if (uses && e->store.changed) {
            e->store.changed(e->store.ud, v[i]->path);
        }
    }
    free(v);
}

void fakefs_all_changed(struct fakefs_engine *e)
{
    struct fakefs_res **v;
    size_t n = all_res(e, &v);
    for (size_t i = 0; i < n && e->store.changed; i++) {
        e->store.changed(e->store.ud, v[i]->path);
    }
    free(v);
}

void fakefs_set_limits(struct fakefs_engine *e, long budget, long ms,
                       size_t vm_cap, size_t mem_cap)
{
    if (budget > 0) {
        e->budget = budget;
    }
    if (ms > 0) {
        e->time_ms = ms;
    }
    if (vm_cap) {
        e->vm_cap = vm_cap;
    }
    if (mem_cap) {
        e->mem_cap = mem_cap;
    }
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
    pthread_mutex_init(&e->init_lock, NULL);
    e->log = log;
    e->store = *store;
    e->budget = FAKEFS_BUDGET_DEFAULT;
    e->time_ms = FAKEFS_TIME_DEFAULT;
    e->vm_cap = FAKEFS_VM_MEM_DEFAULT;
    e->mem_cap = FAKEFS_MEM_DEFAULT;
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
            fakefs_vm_close(&r->vm);
            res_clear(r);
            pthread_mutex_destroy(&r->lock);
            free(r->path);
            free(r);
            r = n;
        }
    }
    fakefs_vm_close(&e->init_vm);
    if (e->rules_fd > 0) {
        close(e->rules_fd);
    }
    free(e->rules_dir);
    free(e->plugin_dir);
    pthread_mutex_destroy(&e->lock);
    pthread_mutex_destroy(&e->init_lock);
    free(e);
}
