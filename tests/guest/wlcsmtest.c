/*
 * The WLCSM client library (demo/vendor/wlcsm.c) as a command
 * (tests/qemu/pack_netlink.sh):
 *   wlcsmtest get KEY | set KEY VALUE | unset KEY | getall | commit
 * prints the value ("(unset)" when there is none), "ok", or the errno.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wlcsm.h"

static int done(const char *what, int rc)
{
    if (rc < 0) {
        printf("%s failed: %s\n", what, strerror(errno));
        return 1;
    }
    printf("%s ok\n", what);
    return 0;
}

int main(int argc, char **argv)
{
    static char all[65536];

    if (argc == 3 && !strcmp(argv[1], "get")) {
        char *v = wlcsm_nvram_get(argv[2]);
        printf("%s=%s\n", argv[2], v ? v : "(unset)");
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "set")) {
        return done("set", wlcsm_nvram_set(argv[2], argv[3]));
    }
    if (argc == 3 && !strcmp(argv[1], "unset")) {
        return done("unset", wlcsm_nvram_unset(argv[2]));
    }
    if (argc == 2 && !strcmp(argv[1], "commit")) {
        return done("commit", wlcsm_nvram_commit());
    }
    if (argc == 2 && !strcmp(argv[1], "getall")) {
        int n = wlcsm_nvram_getall(all, sizeof(all));
        if (n < 0) {
            return done("getall", n);
        }
        for (char *p = all; *p; p += strlen(p) + 1) {
            printf("all %s\n", p);
        }
        printf("getall %d bytes\n", n);
        return 0;
    }
    fprintf(stderr, "usage: wlcsmtest get KEY | set KEY VALUE | unset KEY | "
                    "getall | commit\n");
    return 2;
}
