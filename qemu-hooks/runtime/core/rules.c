/*
 * The compiled-rule cache.  Each Lua state compiles a rule file once and keeps
 * its function in the registry.  When the rules watcher (rulewatch.c) bumps
 * sfemu_rules_gen, the state's next hooked syscall re-checks the files it
 * has loaded (stat, and content while inotify is watching: a rewrite within
 * the file system's timestamp granularity keeps size and mtime) and forgets
 * what each syscall resolved to, so an edited or added rule takes effect in
 * the running guest while an unchanged one is never re-read.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
atomic_uint sfemu_rules_gen;
int sfemu_rules_watching;

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

    c->gen = atomic_load(&sfemu_rules_gen);
    /* The names stay at the bottom of the stack (luastate.h). */
    lua_settop(L, 0);
    if (!lua_checkstack(L, n + LUA_MINSTACK)) {
        n = 0; /* no memory: no names (an unnamed syscall's nil) */
    }
    for (int i = 0; i < n; i++) {
        const char *name = sfemu_syscall_name(base + i);
        if (name) {
            lua_pushstring(L, name);
        } else {
            lua_pushnil(L);
        }
    }
    c->nnames = c->nperm = n;
}

void sfemu_rules_changed(void)
{
    atomic_fetch_add_explicit(&sfemu_rules_gen, 1, memory_order_release);
}

/* FNV-1a of a file's content (0 if unreadable: stat then tells). */
static uint64_t file_sum(const char *path)
{
    uint64_t h = 14695981039346656037ull;
    unsigned char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        return 0;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            h = (h ^ buf[i]) * 1099511628211ull;
        }
    }
    close(fd);
    return h;
}

static int same_id(const struct sfemu_rule_file *f, const struct stat *st)
{
    return f->dev == st->st_dev && f->ino == st->st_ino &&
           f->size == st->st_size && f->mtime.tv_sec == st->st_mtim.tv_sec &&
           f->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static void file_unload(struct sfemu_luastate *c, struct sfemu_rule_file *f)
{
    if (f->stack_idx) {
        lua_pushnil(c->L);
        lua_replace(c->L, f->stack_idx);
    }
    luaL_unref(c->L, LUA_REGISTRYINDEX, f->fn_ref);
    f->fn_ref = LUA_NOREF;
    f->present = 0;
}

static void reset_slots(struct sfemu_luastate *c)
{
    for (int i = 0; i < c->nslots; i++) {
        c->slot[i] = SFEMU_SLOT_UNRESOLVED;
    }
    c->entry_file = c->finish_file = SFEMU_SLOT_UNRESOLVED;
}

void sfemu_rules_recheck(struct sfemu_luastate *c, unsigned gen)
{
    c->gen = gen;
    for (int i = 0; i < c->nfiles; i++) {
        struct sfemu_rule_file *f = &c->files[i];
        struct stat st;
        if (!f->present) {
            continue;
        }
        if (stat(f->path, &st) != 0 || !same_id(f, &st) ||
            (sfemu_rules_watching && file_sum(f->path) != f->sum)) {
            file_unload(c, f);
        }
    }
    reset_slots(c); /* a new file may now win a lookup */
}

/* Index of a file entry for path, loading (or reloading) it as needed. */
/* A loaded file's hook slot: none when it kept no function (missing or
 * empty), whether it was just loaded or loaded before. */
static int file_slot(const struct sfemu_rule_file *f, int i)
{
    return f->fn_ref == LUA_NOREF ? SFEMU_SLOT_NONE : i;
}

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
        return file_slot(f, i); /* loaded already */
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
        f->stat = sfemu_rulestat_get(path);
        f->fn_ref = LUA_NOREF;
        /* A stack slot of its own, above the ones kept (the hooks' own
         * values come later, nothing is on the stack now). */
        if (lua_gettop(L) == c->nperm && lua_checkstack(L, 1)) {
            lua_pushnil(L);
            f->stack_idx = ++c->nperm;
        }
    } else {
        file_unload(c, f);
    }
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->size = st->st_size;
    f->mtime = st->st_mtim;
    f->sum = file_sum(path); /* before compiling: a later write is seen */
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
        sfemu_rulefn_inspect(L, -1, &f->fn);
        if (f->fn.empty) {
            lua_pop(L, 1); /* never called: as if it were not there */
        } else {
            if (f->stack_idx) {
                lua_pushvalue(L, -1);
                lua_replace(L, f->stack_idx);
            }
            f->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        }
    } else {
        lua_pop(L, 1);
        if (strcmp(fn_name, "do_syscall") == 0) {
            sfemu_log("rule %s defines no function %s(); ignored", path,
                      fn_name);
        }
    }
    lua_pop(L, 1); /* env */
    return file_slot(f, i);
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
    int idx = num - c->slot_base;
    char path[PATH_MAX];
    struct stat st;
    int r = SFEMU_SLOT_NONE;

    if (idx < 0 || idx >= c->nslots) {
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
