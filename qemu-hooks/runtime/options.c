/*
 * The SFEmu command-line options (and their QEMU_* environment twins, which
 * QEMU's own parser feeds us): validated at start-up, a bad value exits with
 * a message naming the option.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime.h"

struct sfemu_runtime sfemu_rt = {
    .opt = {
        .ctx_keep = 64,
        .idle_ms = 0,
        .shadowstack = { .log = 0, .summary = 1, .unwind_limit = 100,
                         .max_stack = 100 },
    },
};

static void __attribute__((noreturn)) opt_fail(const char *name,
                                               const char *value,
                                               const char *why)
{
    fprintf(stderr, "qemu: -%s '%s': %s\n", name, value, why);
    exit(EXIT_FAILURE);
}

static long opt_long(const char *name, const char *value, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < min || v > max) {
        char why[96];
        snprintf(why, sizeof(why), "expected an integer from %ld to %ld",
                 min, max);
        opt_fail(name, value, why);
    }
    return v;
}

static int opt_onoff(const char *name, const char *value, const char *v)
{
    if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes")) {
        return 1;
    }
    if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no")) {
        return 0;
    }
    opt_fail(name, value, "expected on or off");
}

static void opt_shadowstack(const char *value)
{
    char *copy = strdup(value), *save = NULL, *item;

    if (!copy) {
        opt_fail("shadowstack", value, "out of memory");
    }
    for (item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) {
            opt_fail("shadowstack", value, "expected key=value items "
                     "(log, summary, unwind_limit, max_stack)");
        }
        *eq++ = '\0';
        if (!strcmp(item, "log")) {
            sfemu_rt.opt.shadowstack.log = opt_onoff("shadowstack", value, eq);
        } else if (!strcmp(item, "summary")) {
            sfemu_rt.opt.shadowstack.summary =
                opt_onoff("shadowstack", value, eq);
        } else if (!strcmp(item, "unwind_limit")) {
            sfemu_rt.opt.shadowstack.unwind_limit =
                opt_long("shadowstack unwind_limit", eq, 1, 1 << 20);
        } else if (!strcmp(item, "max_stack")) {
            sfemu_rt.opt.shadowstack.max_stack =
                opt_long("shadowstack max_stack", eq, 1, 1 << 20);
        } else {
            char why[128];
            snprintf(why, sizeof(why), "unknown key '%s' (log, summary, "
                     "unwind_limit, max_stack)", item);
            opt_fail("shadowstack", value, why);
        }
    }
    sfemu_rt.opt.shadowstack.given = 1;
    free(copy);
}

static const char *opt_dir(const char *name, const char *value, int must_exist)
{
    char *abs;
    struct stat st;

    if (!*value) {
        opt_fail(name, value, "empty path");
    }
    if (must_exist) {
        if (stat(value, &st) != 0) {
            opt_fail(name, value, strerror(errno));
        }
        if (!S_ISDIR(st.st_mode)) {
            opt_fail(name, value, "not a directory");
        }
        abs = realpath(value, NULL);
        if (!abs) {
            opt_fail(name, value, strerror(errno));
        }
        return abs;
    }
    return strdup(value);
}

void sfemu_rt_option(const char *name, const char *value)
{
    if (!strcmp(name, "rules")) {
        sfemu_rt.opt.rules_dir = opt_dir(name, value, 1);
    } else if (!strcmp(name, "rules-ctx-keep")) {
        sfemu_rt.opt.ctx_keep = opt_long(name, value, 0, 1 << 20);
    } else if (!strcmp(name, "rules-idle-ms")) {
        sfemu_rt.opt.idle_ms = opt_long(name, value, 0, 24L * 3600 * 1000);
    } else if (!strcmp(name, "shadowstack")) {
        opt_shadowstack(value);
    } else if (!strcmp(name, "sfanalysis")) {
        sfemu_rt.opt.sfanalysis = opt_dir(name, value, 0);
    } else if (!strcmp(name, "root-mode")) {
        if (!strcmp(value, "true")) {
            sfemu_rt.opt.root_mode = SFEMU_ROOT_TRUE;
        } else if (!strcmp(value, "prefix")) {
            sfemu_rt.opt.root_mode = SFEMU_ROOT_PREFIX;
        } else {
            opt_fail(name, value, "expected 'true' or 'prefix'");
        }
    } else {
        opt_fail(name, value, "unknown SFEmu option");
    }
}
