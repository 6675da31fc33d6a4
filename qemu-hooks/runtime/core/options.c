/*
 * Parsing and validation of the settings table (sfemu/options.h).  The
 * command line and QEMU's QEMU_* twins arrive through sfemu_rt_option (the
 * glue's handlers); SFEMU_* variables are read once, by
 * sfemu_options_finish, for settings the command line did not give.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "core/envfile.h"
#include "core/options.h"

enum opt_type { T_STR, T_PATH, T_DIR, T_LONG, T_BOOL, T_LIST, T_ENUM, T_KV };

struct opt_def {
    const char *id, *name, *qemu_env, *env;
    enum opt_type type;
    long min, max;
    const char *def, *argname, *help, *lua;
};

#define SFEMU_OPT_ROW(id, name, qemu_env, env, type, min, max, def, argname, \
                      help, lua)                                             \
    { #id, name, qemu_env, env, T_##type, min, max, def, argname, help, lua },
static const struct opt_def defs[SFEMU_OPT_COUNT] = { SFEMU_OPTIONS(
    SFEMU_OPT_ROW, SFEMU_OPT_ROW) };
#undef SFEMU_OPT_ROW

struct sfemu_opt_value sfemu_opts[SFEMU_OPT_COUNT];

/* How an error names the setting: "-rules-idle-ms" or "SFEMU_LOG". */
static void opt_who(const struct opt_def *d, int from_env, char *out,
                    size_t cap)
{
    if (from_env || !d->name) {
        snprintf(out, cap, "%s", d->env ? d->env : d->id);
    } else {
        snprintf(out, cap, "-%s", d->name);
    }
}

static void __attribute__((noreturn))
opt_fail(const char *who, const char *value, const char *why)
{
    fprintf(stderr, "qemu: %s '%s': %s\n", who, value, why);
    exit(EXIT_FAILURE);
}

static long parse_long(const char *who, const char *value, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < min || v > max) {
        char why[96];
        snprintf(why, sizeof(why), "expected an integer from %ld to %ld", min,
                 max);
        opt_fail(who, value, why);
    }
    return v;
}

/* 1, 0, or -1 when v is not a boolean word. */
static int bool_word(const char *v)
{
    if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes")) {
        return 1;
    }
    if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no")) {
        return 0;
    }
    return -1;
}

static int parse_bool(const char *who, const char *value, const char *v)
{
    int b = bool_word(v);

    if (b < 0) {
        opt_fail(who, value, "expected on or off");
    }
    return b;
}

/* Index of value among the '|'-separated words of choices, or -1. */
static long enum_index(const char *choices, const char *value)
{
    size_t n = strlen(value);
    long i = 0;

    for (const char *p = choices; *p; i++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, value, n)) {
            return i;
        }
        p += len + (bar != NULL);
    }
    return -1;
}

static long parse_enum(const char *who, const char *value, const char *choices)
{
    long i = enum_index(choices, value);

    if (i < 0) {
        char why[160];
        size_t w = snprintf(why, sizeof(why), "expected");
        for (const char *p = choices; *p && w < sizeof(why);) {
            const char *bar = strchr(p, '|');
            int len = bar ? (int)(bar - p) : (int)strlen(p);
            w += snprintf(why + w, sizeof(why) - w, "%s '%.*s'",
                          p == choices ? ""
                          : bar        ? ","
                                       : " or",
                          len, p);
            p += len + (bar != NULL);
        }
        opt_fail(who, value, why);
    }
    return i;
}

static const char *parse_dir(const char *who, const char *value)
{
    struct stat st;
    char *abs;

    if (stat(value, &st) != 0) {
        opt_fail(who, value, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        opt_fail(who, value, "not a directory");
    }
    abs = realpath(value, NULL);
    if (!abs) {
        opt_fail(who, value, strerror(errno));
    }
    return abs;
}

/*
 * KV options: the keys, their order and their defaults are def's
 * ("log=off,summary=on,unwind_limit=100"); a key whose default is on/off is
 * a boolean, the others are numbers in min..max.
 */
static int kv_count(const struct opt_def *d)
{
    int n = 1;

    for (const char *p = d->def; *p; p++) {
        n += *p == ',';
    }
    return n;
}

/* Key i of def: its start, *klen its length, *val its default. */
static const char *kv_key(const struct opt_def *d, int i, int *klen,
                          const char **val)
{
    const char *p = d->def;

    while (i-- > 0) {
        p = strchr(p, ',') + 1;
    }
    *klen = (int)strcspn(p, "=");
    *val = p + *klen + 1;
    return p;
}

static int kv_index(const struct opt_def *d, const char *key, size_t len)
{
    for (int i = 0, n = kv_count(d); i < n; i++) {
        const char *val;
        int klen;
        const char *k = kv_key(d, i, &klen, &val);
        if ((size_t)klen == len && !strncmp(k, key, len)) {
            return i;
        }
    }
    return -1;
}

static int kv_is_bool(const struct opt_def *d, int i)
{
    const char *val;
    int klen;

    kv_key(d, i, &klen, &val);
    return !strncmp(val, "on", 2) || !strncmp(val, "off", 3);
}

static void parse_kv(const struct opt_def *d, struct sfemu_opt_value *o,
                     const char *who, const char *value)
{
    char *copy = strdup(value), *save = NULL, *item;

    if (!copy) {
        opt_fail(who, value, "out of memory");
    }
    for (item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        char why[192];
        int k;

        if (!eq) {
            snprintf(why, sizeof(why), "expected key=value items (%s)", d->def);
            opt_fail(who, value, why);
        }
        *eq = '\0';
        k = kv_index(d, item, strlen(item));
        if (k < 0) {
            snprintf(why, sizeof(why), "unknown key '%s' (keys: %s)", item,
                     d->def);
            opt_fail(who, value, why);
        }
        if (kv_is_bool(d, k)) {
            o->kv[k] = parse_bool(who, value, eq + 1);
        } else {
            /* "-shadowstack unwind_limit 'x'": the message names the key. */
            snprintf(why, sizeof(why), "%s %s", who, item);
            o->kv[k] = parse_long(why, eq + 1, d->min, d->max);
        }
    }
    free(copy);
}

static void kv_defaults(const struct opt_def *d, struct sfemu_opt_value *o)
{
    int n = kv_count(d);

    o->kv = calloc(n, sizeof(long));
    if (!o->kv) {
        opt_fail(d->id, d->def, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        const char *val;
        int klen;
        kv_key(d, i, &klen, &val);
        o->kv[i] = kv_is_bool(d, i) ? !strncmp(val, "on", 2) : atol(val);
    }
}

static void opt_set(enum sfemu_opt id, const char *value, int from_env)
{
    const struct opt_def *d = &defs[id];
    struct sfemu_opt_value *o = &sfemu_opts[id];
    char who[64];

    opt_who(d, from_env, who, sizeof(who));
    if (!*value && d->type != T_STR && d->type != T_LIST) {
        opt_fail(who, value, "empty value");
    }
    switch (d->type) {
    case T_STR:
    case T_LIST:
    case T_PATH: o->str = strdup(value); break;
    case T_DIR: o->str = parse_dir(who, value); break;
    case T_LONG:
        o->num = parse_long(who, value, d->min, d->max);
        o->str = strdup(value);
        break;
    case T_BOOL:
        o->num = parse_bool(who, value, value);
        o->str = strdup(value);
        break;
    case T_ENUM:
        o->num = parse_enum(who, value, d->argname);
        o->str = strdup(value);
        break;
    case T_KV:
        if (!o->kv) {
            kv_defaults(d, o);
        }
        parse_kv(d, o, who, value);
        o->str = strdup(value);
        break;
    }
    o->given = 1;
}

void sfemu_rt_option(const char *name, const char *value)
{
    for (int i = 0; i < SFEMU_OPT_COUNT; i++) {
        if (defs[i].name && !strcmp(defs[i].name, name)) {
            opt_set(i, value, 0);
            return;
        }
    }
    opt_fail(name, value, "unknown SFEmu option");
}

/* A problem with a value for d, or NULL: the checks opt_set makes, without
 * exiting (a value from the env file is skipped, not fatal). */
static const char *value_problem(const struct opt_def *d, const char *v,
                                 char *why, size_t cap)
{
    char *end;
    long n;

    switch (d->type) {
    case T_LONG:
        errno = 0;
        n = strtol(v, &end, 10);
        if (errno || end == v || *end || n < d->min || n > d->max) {
            snprintf(why, cap, "expected an integer from %ld to %ld", d->min,
                     d->max);
            return why;
        }
        return NULL;
    case T_BOOL: return bool_word(v) < 0 ? "expected on or off" : NULL;
    case T_ENUM:
        if (enum_index(d->argname, v) < 0) {
            snprintf(why, cap, "expected one of %s", d->argname);
            return why;
        }
        return NULL;
    case T_DIR:
    case T_KV: return "cannot be set in the env file";
    default: return NULL;
    }
}

/* A setting from the env file, as if from the environment. */
static void file_set(enum sfemu_opt id, const char *value, int line)
{
    char why[96];
    const char *bad = value_problem(&defs[id], value, why, sizeof(why));

    if (bad) {
        fprintf(stderr, "qemu: %s:%d: %s '%s': %s; line skipped\n",
                sfemu_envfile_path(), line, defs[id].env, value, bad);
        return;
    }
    opt_set(id, value, 1);
}

void sfemu_options_finish(void)
{
    static int done;

    if (done) {
        return;
    }
    done = 1;
    sfemu_envfile_load(sfemu_opts[SFEMU_OPT_rules].str);
    for (int i = 0; i < SFEMU_OPT_COUNT; i++) {
        const struct opt_def *d = &defs[i];
        struct sfemu_opt_value *o = &sfemu_opts[i];
        const char *env = d->env ? getenv(d->env) : NULL;
        int line = 0;

        if (!o->given && env && *env) {
            opt_set(i, env, 1);
        } else if (!o->given && d->env && !env &&
                   (env = sfemu_envfile_get(d->env, &line)) && *env) {
            file_set(i, env, line);
        }
        if (o->given) {
            continue;
        }
        if (d->type == T_KV) {
            kv_defaults(d, o);
        } else if (d->def) {
            o->str = d->def;
            o->num = d->type == T_BOOL   ? bool_word(d->def)
                     : d->type == T_ENUM ? enum_index(d->argname, d->def)
                                         : atol(d->def);
        }
    }
}

long sfemu_opt_kv(enum sfemu_opt id, const char *key)
{
    int k = kv_index(&defs[id], key, strlen(key));

    return k < 0 || !sfemu_opts[id].kv ? -1 : sfemu_opts[id].kv[k];
}

static void push_value(lua_State *L, const struct opt_def *d,
                       const struct sfemu_opt_value *o)
{
    switch (d->type) {
    case T_LONG: lua_pushinteger(L, o->num); break;
    case T_BOOL: lua_pushboolean(L, o->num > 0); break;
    case T_KV:
        lua_createtable(L, 0, kv_count(d) + 1);
        lua_pushboolean(L, o->given);
        lua_setfield(L, -2, "enabled");
        for (int i = 0, n = kv_count(d); i < n; i++) {
            const char *val;
            int klen;
            const char *k = kv_key(d, i, &klen, &val);
            lua_pushlstring(L, k, klen);
            if (kv_is_bool(d, i)) {
                lua_pushboolean(L, o->kv[i] > 0);
            } else {
                lua_pushinteger(L, o->kv[i]);
            }
            lua_settable(L, -3);
        }
        break;
    default:
        if (o->str) {
            lua_pushstring(L, o->str);
        } else {
            lua_pushnil(L);
        }
        break;
    }
}

void sfemu_options_push_lua(lua_State *L)
{
    lua_createtable(L, 0, SFEMU_OPT_COUNT);
    for (int i = 0; i < SFEMU_OPT_COUNT; i++) {
        const struct opt_def *d = &defs[i];

        push_value(L, d, &sfemu_opts[i]);
        if (d->lua) {
            lua_pushvalue(L, -1);
            lua_setfield(L, -4, d->lua);
        }
        lua_setfield(L, -2, d->name ? d->name : d->env);
    }
    lua_setfield(L, -2, "options");
}
