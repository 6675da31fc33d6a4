/*
 * The `nvram` command of Broadcom-style firmware, over libnvram:
 *   nvram get NAME...     each value on a line (status 1 if one is unset)
 *   nvram set NAME=VALUE  (nvram set NAME VALUE works too)
 *   nvram unset NAME
 *   nvram show            every NAME=VALUE, then the size used on stderr
 *   nvram commit
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libnvram.h"

static int fail(const char *what, int err)
{
    fprintf(stderr, "nvram: %s: %s\n", what, strerror(-err));
    return 1;
}

static int cmd_get(int argc, char **argv)
{
    int status = 0;

    for (int i = 0; i < argc; i++) {
        const char *v = nvram_get(argv[i]);
        if (v) {
            puts(v);
        } else {
            status = 1;
        }
    }
    return status;
}

static int cmd_set(int argc, char **argv)
{
    char *name, *eq;
    int r;

    if (argc == 2) {
        r = nvram_set(argv[0], argv[1]);
        return r < 0 ? fail("set", r) : 0;
    }
    if (argc != 1 || !(eq = strchr(argv[0], '='))) {
        fprintf(stderr, "nvram: set: expected NAME=VALUE\n");
        return 2;
    }
    name = strndup(argv[0], (size_t)(eq - argv[0]));
    r = name ? nvram_set(name, eq + 1) : -ENOMEM;
    free(name);
    return r < 0 ? fail("set", r) : 0;
}

static int cmd_show(void)
{
    char *buf = malloc(NVRAM_SPACE);
    size_t used = 0;
    int r;

    if (!buf) {
        return fail("show", -ENOMEM);
    }
    r = nvram_getall(buf, NVRAM_SPACE);
    if (r < 0) {
        free(buf);
        return fail("show", r);
    }
    for (char *p = buf; *p; p += strlen(p) + 1) {
        puts(p);
        used += strlen(p) + 1;
    }
    fprintf(stderr, "size: %zu bytes (%zu left)\n", used,
            (size_t)NVRAM_SPACE - used);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    int r;

    if (!strcmp(cmd, "get") && argc > 2) {
        return cmd_get(argc - 2, argv + 2);
    }
    if (!strcmp(cmd, "set") && argc > 2) {
        return cmd_set(argc - 2, argv + 2);
    }
    if (!strcmp(cmd, "unset") && argc == 3) {
        r = nvram_unset(argv[2]);
        return r < 0 ? fail("unset", r) : 0;
    }
    if (!strcmp(cmd, "show") && argc == 2) {
        return cmd_show();
    }
    if (!strcmp(cmd, "commit") && argc == 2) {
        r = nvram_commit();
        return r < 0 ? fail("commit", r) : 0;
    }
    fprintf(stderr, "usage: nvram get NAME... | set NAME=VALUE | unset NAME | "
                    "show | commit\n");
    return 2;
}
