/*
 * tests/qemu/pack_nvram.sh: a Broadcom NVRAM client that keeps its mapping
 * of /dev/nvram while other processes change the store.
 *   nvramhold NAME   get NAME and print it, wait for a line on stdin, then
 *                    print the value the old pointer shows and what a new
 *                    get gives (its offset read in the mapping made before)
 */
#include <stdio.h>

#include "libnvram.h"

int main(int argc, char **argv)
{
    char line[64];
    const char *before, *again;

    if (argc != 2) {
        fprintf(stderr, "usage: nvramhold NAME\n");
        return 2;
    }
    before = nvram_get(argv[1]);
    printf("before=%s\n", before ? before : "(unset)");
    fflush(stdout);
    if (!fgets(line, sizeof(line), stdin)) {
        return 1;
    }
    again = nvram_get(argv[1]);
    printf("old=%s again=%s\n", before ? before : "(unset)",
           again ? again : "(unset)");
    return 0;
}
