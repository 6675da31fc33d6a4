/*
 * tests/qemu/pack_nvram.sh: a Broadcom NVRAM client that keeps its mapping
 * of /dev/nvram while other processes change the store.
 *   nvramhold NAME [VALUE]
 *       get NAME and print it, wait for a line on stdin, then print the
 *       value the old pointer shows and what a new get gives (its offset
 *       read in the mapping made before); with VALUE, then set NAME to it
 *       in this process and print what a get gives in the same mapping
 *       (needs the refresh of shared mappings after a write)
 */
#include <stdio.h>

#include "libnvram.h"

int main(int argc, char **argv)
{
    char line[64];
    const char *before, *again;

    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: nvramhold NAME [VALUE]\n");
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
    if (argc == 3) {
        const char *mine;
        int r = nvram_set(argv[1], argv[2]);

        mine = nvram_get(argv[1]);
        printf("set=%d mine=%s old=%s\n", r, mine ? mine : "(unset)",
               before ? before : "(unset)");
    }
    return 0;
}
