/*
 * A generated rule's way in and out (see ai.h):
 *  - check: at most SFEMU_AI_RULE_MAX bytes, named after a syscall of the
 *    guest arch, compiles as Lua text (never bytecode), and loads in the
 *    restricted environment of every rule (core/sandbox.c) defining
 *    do_syscall, without error.  A rule that fails is never installed;
 *  - install: RULES/syscall_override/<name>.lua only (never syscall/ nor
 *    syscall_override_user/), written whole (temporary + rename); a
 *    replaced override is kept in RUN_DIR/backup/, the names installed in
 *    RUN_DIR/installed; the hook map and the rules generation are bumped
 *    so that every guest thread sees it at its next syscall;
 *  - rollback: the backups back, or the override removed;
 *  - export: RULES/cache/stable_rules/<run_id>/syscall/<name>.lua.
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

#include "ai/ai.h"
#include "core/hookmap.h"
#include "core/log.h"
#include "core/options.h"
#include "core/rules.h"
#include "core/sandbox.h"
#include "core/syscall_names.h"

char *sfemu_ai_slurp(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf;
    ssize_t n;

    if (fd < 0) {
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (size_t)st.st_size > max) {
        int e = errno;
        close(fd);
        errno = S_ISREG(st.st_mode) ? EFBIG : (e ? e : EINVAL);
        return NULL;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return NULL;
    }
    n = read(fd, buf, (size_t)st.st_size);
    close(fd);
    if (n != st.st_size) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[n] = '\0';
    if (len) {
        *len = (size_t)n;
    }
    return buf;
}

int sfemu_ai_put(const char *path, const char *data, size_t len)
{
    char tmp[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd, err = 0;

    /* ".ai-NAME.tmp": no rule watcher takes it for a rule (.lua) */
    snprintf(tmp, sizeof(tmp), "%.*s/.ai-%s.tmp",
             slash ? (int)(slash - path) : 1, slash ? path : ".",
             slash ? slash + 1 : path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -errno;
    }
    if (write(fd, data, len) != (ssize_t)len) {
        err = errno ? -errno : -EIO;
    }
    if (close(fd) != 0 && !err) {
        err = -errno;
    }
    if (!err && rename(tmp, path) != 0) {
        err = -errno;
    }
    if (err) {
        unlink(tmp);
    }
    return err;
}

static int copy_file(const char *from, const char *to)
{
    size_t len;
    char *data = sfemu_ai_slurp(from, SFEMU_AI_RULE_MAX * 4, &len);
    int rc;

    if (!data) {
        return -errno;
    }
    rc = sfemu_ai_put(to, data, len);
    free(data);
    return rc;
}

int sfemu_ai_check_rule(lua_State *L, const char *path, char *name, size_t ncap,
                        char *why, size_t wcap)
{
    const char *base = strrchr(path, '/');
    size_t bl, len;
    char *text, chunk[96], ebuf[64];
    int top = lua_gettop(L), ok = -1;

    base = base ? base + 1 : path;
    bl = strlen(base);
    if (bl < 5 || strcmp(base + bl - 4, ".lua") || bl - 4 >= ncap) {
        snprintf(why, wcap, "%s: not a NAME.lua file", base);
        return -1;
    }
    snprintf(name, ncap, "%.*s", (int)(bl - 4), base);
    if (sfemu_syscall_num(name) < 0) {
        snprintf(why, wcap, "%s: '%s' is no syscall of this guest", base, name);
        return -1;
    }
    text = sfemu_ai_slurp(path, SFEMU_AI_RULE_MAX, &len);
    if (!text) {
        snprintf(why, wcap, "%s: %s", base,
                 errno == EFBIG ? "larger than 64 KiB" : strerror(errno));
        return -1;
    }
    snprintf(chunk, sizeof(chunk), "@%s", base);
    if (luaL_loadbufferx(L, text, len, chunk, "t") != LUA_OK) {
        snprintf(why, wcap, "syntax: %s",
                 lsb_error_text(L, -1, ebuf, sizeof(ebuf)));
    } else if (lua_settop(L, top), sfemu_sandbox_dofile(L, path) != LUA_OK) {
        snprintf(why, wcap, "load: %s",
                 lsb_error_text(L, -1, ebuf, sizeof(ebuf)));
    } else if (lua_getfield(L, -1, "do_syscall") != LUA_TFUNCTION) {
        snprintf(why, wcap, "%s: defines no function do_syscall()", base);
    } else {
        ok = 0;
    }
    lua_settop(L, top);
    free(text);
    return ok;
}

static void rules_see_it(void)
{
    sfemu_hookmap_scan();
    sfemu_rules_changed();
}

int sfemu_ai_install(const char *run_dir, const char *src, const char *name,
                     char *dest, size_t dcap, char *why, size_t wcap)
{
    const char *root = sfemu_opt_str(SFEMU_OPT_rules);
    char p[PATH_MAX], line[128];
    struct stat st;
    int rc;

    snprintf(p, sizeof(p), "%s/syscall_override", root);
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        snprintf(why, wcap, "%s: %s", p, strerror(errno));
        return -1;
    }
    snprintf(dest, dcap, "%s/syscall_override/%s.lua", root, name);
    if (stat(dest, &st) == 0) {
        snprintf(p, sizeof(p), "%s/backup", run_dir);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/backup/%s.lua", run_dir, name);
        if ((rc = copy_file(dest, p)) < 0) {
            snprintf(why, wcap, "cannot keep the replaced %s: %s", dest,
                     strerror(-rc));
            return -1;
        }
    }
    if ((rc = copy_file(src, dest)) < 0) {
        snprintf(why, wcap, "%s: %s", dest, strerror(-rc));
        return -1;
    }
    snprintf(p, sizeof(p), "%s/installed", run_dir);
    snprintf(line, sizeof(line), "%s\n", name);
    {
        int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, line, strlen(line)) < 0) {
            sfemu_log("ai: %s: %s (rollback will miss %s)", p, strerror(errno),
                      name);
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    rules_see_it();
    return 0;
}

/* Calls fn for every name of RUN_DIR/installed; the number of calls. */
static int each_installed(const char *run_dir,
                          int (*fn)(const char *run_dir, const char *name,
                                    void *opaque),
                          void *opaque)
{
    char p[PATH_MAX], *text, *save = NULL;
    int n = 0;

    snprintf(p, sizeof(p), "%s/installed", run_dir);
    text = sfemu_ai_slurp(p, 1 << 16, NULL);
    if (!text) {
        return 0;
    }
    for (char *nm = strtok_r(text, "\n", &save); nm;
         nm = strtok_r(NULL, "\n", &save)) {
        if (*nm && !strchr(nm, '/') && sfemu_syscall_num(nm) >= 0) {
            n += fn(run_dir, nm, opaque) == 0;
        }
    }
    free(text);
    return n;
}

static int undo_one(const char *run_dir, const char *name, void *opaque)
{
    char dest[PATH_MAX], bak[PATH_MAX];

    (void)opaque;
    snprintf(dest, sizeof(dest), "%s/syscall_override/%s.lua",
             sfemu_opt_str(SFEMU_OPT_rules), name);
    snprintf(bak, sizeof(bak), "%s/backup/%s.lua", run_dir, name);
    if (access(bak, F_OK) == 0) {
        return copy_file(bak, dest);
    }
    return unlink(dest) == 0 || errno == ENOENT ? 0 : -errno;
}

int sfemu_ai_rollback(const char *run_dir)
{
    char p[PATH_MAX], q[PATH_MAX];
    int n = each_installed(run_dir, undo_one, NULL);

    snprintf(p, sizeof(p), "%s/installed", run_dir);
    snprintf(q, sizeof(q), "%s/rolled_back", run_dir);
    rename(p, q); /* a second rollback does nothing */
    rules_see_it();
    return n;
}

static int export_one(const char *run_dir, const char *name, void *opaque)
{
    const char *dir = opaque;
    char from[PATH_MAX], to[PATH_MAX];

    snprintf(from, sizeof(from), "%s/patch/fix/syscall/%s.lua", run_dir, name);
    snprintf(to, sizeof(to), "%s/%s.lua", dir, name);
    return copy_file(from, to);
}

int sfemu_ai_export(const char *run_dir, const char *run_id, char *dest,
                    size_t cap)
{
    const char *root = sfemu_opt_str(SFEMU_OPT_rules);
    char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s/cache/stable_rules", root);
    mkdir(p, 0755);
    snprintf(dest, cap, "%s/cache/stable_rules/%s", root, run_id);
    if (mkdir(dest, 0755) != 0 && errno != EEXIST) {
        return -errno;
    }
    snprintf(p, sizeof(p), "%s/syscall", dest);
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        return -errno;
    }
    return each_installed(run_dir, export_one, p);
}
