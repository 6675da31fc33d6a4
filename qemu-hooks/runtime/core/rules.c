/*
 * The compiled-rule cache.  Each Lua state compiles a rule file once and keeps
 * its function in the registry; every SFEMU_RULES_CHECK_MS (default 200) the
 * next hooked syscall re-stats the rule dirs and the loaded files, so an
 * edited or added rule takes effect in the running guest while an unchanged
 * one is never re-read.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lauxlib.h>

#include "lua_sandbox.h"
#include "core/log.h"
#include "core/rules.h"
#include "core/options.h"
#include "core/runtime.h"
#include "core/sandbox.h"
#include "core/syscall_names.h"

#define MAX_DIRS 16

static char *rule_dirs[MAX_DIRS]; /* priority order */
static int n_rule_dirs;
int64_t sfemu_rules_check_ns = 200 * 1000000LL;

static void add_dir(const char *dir)
{
    char *abs = realpath(dir, NULL);

    if (n_rule_dirs >= MAX_DIRS) {
        sfemu_log("too many rule directories; ignoring %s", dir);
        free(abs);
        return;
    }
    /* A missing dir is kept by name: creating it later takes effect. */
    rule_dirs[n_rule_dirs++] = abs ? abs : strdup(dir);
}

void sfemu_rules_init(void)
{
    const char *root = sfemu_opt_str(SFEMU_OPT_rules);
    const char *ovr = sfemu_opt_str(SFEMU_OPT_rules_override_dir);
    char path[PATH_MAX];

    sfemu_rules_check_ns = sfemu_opt_long(SFEMU_OPT_rules_check_ms) * 1000000LL;
    if (ovr && *ovr) {
        char *copy = strdup(ovr), *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d;
             d = strtok_r(NULL, ":", &save)) {
            if (d[0] == '/') {
                add_dir(d);
            } else {
                snprintf(path, sizeof(path), "%s/%s", root, d);
                add_dir(path);
            }
        }
        free(copy);
    } else {
        snprintf(path, sizeof(path), "%s/syscall_override_user", root);
        add_dir(path);
        snprintf(path, sizeof(path), "%s/syscall_override", root);
        add_dir(path);
    }
    snprintf(path, sizeof(path), "%s/syscall", root);
    add_dir(path);
    add_dir(root);
}

int sfemu_rules_dirs(const char *const **dirs)
{
    *dirs = (const char *const *)rule_dirs;
    return n_rule_dirs;
}

void sfemu_rules_state_init(struct sfemu_luastate *c)
{
    lua_State *L = c->L;
    int base = sfemu_syscall_base(), n = sfemu_syscall_count();

    lua_createtable(L, 0, n);
    for (int i = 0; i < n; i++) {
        const char *name = sfemu_syscall_name(base + i);
        if (name) {
            lua_pushstring(L, name);
            lua_rawseti(L, -2, base + i);
        }
    }
    c->names_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    for (int i = 0; i < n_rule_dirs && i < 16; i++) {
        struct stat st;
        if (stat(rule_dirs[i], &st) == 0) {
            c->dir_mtime[i] = st.st_mtim;
        }
    }
}

static int64_t coarse_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int same_id(const struct sfemu_rule_file *f, const struct stat *st)
{
    return f->dev == st->st_dev && f->ino == st->st_ino &&
           f->size == st->st_size && f->mtime.tv_sec == st->st_mtim.tv_sec &&
           f->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static void file_unload(struct sfemu_luastate *c, struct sfemu_rule_file *f)
{
    luaL_unref(c->L, LUA_REGISTRYINDEX, f->fn_ref);
    f->fn_ref = LUA_NOREF;
    f->present = 0;
}

static void reset_slots(struct sfemu_luastate *c)
{
    int n = sfemu_syscall_count();

    for (int i = 0; i < n; i++) {
        c->slot[i] = SFEMU_SLOT_UNRESOLVED;
    }
    c->entry_file = c->finish_file = SFEMU_SLOT_UNRESOLVED;
}

void sfemu_rules_revalidate(struct sfemu_luastate *c)
{
    int64_t now;
    int changed = 0;

    /* Even the clock costs: look at it every 16th syscall only. */
    if (++c->check_tick & 15) {
        return;
    }
    now = coarse_now_ns();
    if (now < c->next_check_ns) {
        return;
    }
    c->next_check_ns = now + sfemu_rules_check_ns;
    for (int i = 0; i < n_rule_dirs && i < 16; i++) {
        struct stat st;
        struct timespec m = { 0, 0 };
        if (stat(rule_dirs[i], &st) == 0) {
            m = st.st_mtim;
        }
        if (m.tv_sec != c->dir_mtime[i].tv_sec ||
            m.tv_nsec != c->dir_mtime[i].tv_nsec) {
            c->dir_mtime[i] = m;
            changed = 1;
        }
    }
    for (int i = 0; i < c->nfiles; i++) {
        struct sfemu_rule_file *f = &c->files[i];
        struct stat st;
        if (!f->present) {
            continue;
        }
        if (stat(f->path, &st) != 0 || !same_id(f, &st)) {
            file_unload(c, f);
            changed = 1;
        }
    }
    if (changed) {
        reset_slots(c);
    }
}

/* Index of a file entry for path, loading (or reloading) it as needed. */
static int file_load(struct sfemu_luastate *c, const char *path,
                     const struct stat *st, const char *fn_name)
{
    struct sfemu_rule_file *f = NULL;
    lua_State *L = c->L;
    int i;

    for (i = 0; i < c->nfiles; i++) {
        if (!strcmp(c->files[i].path, path)) {
            f = &c->files[i];
            break;
        }
    }
    if (f && f->present && same_id(f, st)) {
        return i;
    }
    if (!f) {
        if (c->nfiles == c->cap) {
            int cap = c->cap ? c->cap * 2 : 16;
            struct sfemu_rule_file *nf = realloc(c->files, cap * sizeof(*nf));
            if (!nf) {
                return SFEMU_SLOT_NONE;
            }
            c->files = nf;
            c->cap = cap;
        }
        i = c->nfiles++;
        f = &c->files[i];
        memset(f, 0, sizeof(*f));
        f->path = strdup(path);
        f->fn_ref = LUA_NOREF;
    } else {
        file_unload(c, f);
    }
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->size = st->st_size;
    f->mtime = st->st_mtim;
    f->present = 1;
    c->depth++;
    if (sfemu_sandbox_dofile(L, path) != LUA_OK) {
        c->depth--;
        char buf[64];
        sfemu_log("rule %s not loaded: %s", path,
                  lsb_error_text(L, -1, buf, sizeof(buf)));
        lua_pop(L, 1);
        return SFEMU_SLOT_NONE; /* kept as 'present': retried when edited */
    }
    c->depth--;
    lua_getfield(L, -1, fn_name);
    if (lua_isfunction(L, -1)) {
        f->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    } else {
        lua_pop(L, 1);
        if (strcmp(fn_name, "do_syscall") == 0) {
            sfemu_log("rule %s defines no function %s(); ignored", path,
                      fn_name);
        }
    }
    lua_pop(L, 1); /* env */
    return f->fn_ref == LUA_NOREF ? SFEMU_SLOT_NONE : i;
}

static int find_file(const char *dir, const char *name, char *path,
                     struct stat *st)
{
    snprintf(path, PATH_MAX, "%s/%s.lua", dir, name);
    return stat(path, st) == 0 && S_ISREG(st->st_mode);
}

int sfemu_rules_resolve(struct sfemu_luastate *c, int num)
{
    const char *name = sfemu_syscall_name(num);
    int idx = num - sfemu_syscall_base();
    char path[PATH_MAX];
    struct stat st;
    int r = SFEMU_SLOT_NONE;

    if (idx < 0 || idx >= sfemu_syscall_count()) {
        return SFEMU_SLOT_NONE;
    }
    if (name) {
        for (int d = 0; d < n_rule_dirs; d++) {
            if (find_file(rule_dirs[d], name, path, &st)) {
                r = file_load(c, path, &st, "do_syscall");
                break; /* a broken higher-priority file is not skipped */
            }
        }
    }
    c->slot[idx] = r;
    return r;
}

void sfemu_rules_resolve_hooks(struct sfemu_luastate *c)
{
    const char *root = sfemu_opt_str(SFEMU_OPT_rules);
    char path[PATH_MAX];
    struct stat st;

    c->entry_file = find_file(root, "entry", path, &st)
                        ? file_load(c, path, &st, "entry")
                        : SFEMU_SLOT_NONE;
    c->finish_file = find_file(root, "finish", path, &st)
                         ? file_load(c, path, &st, "finish")
                         : SFEMU_SLOT_NONE;
}

void sfemu_rules_error(struct sfemu_luastate *c, int file, const char *what)
{
    static __thread unsigned long count;

    count++;
    if (count <= 20 || count % 1000 == 0) {
        sfemu_log("rule %s failed: %s (the real syscall runs)%s",
                  file >= 0 ? c->files[file].path : "?", what,
                  count == 20 ? " [further errors: every 1000th]" : "");
    }
}
