/*
 * emu/elfcpu.c on real ELF files from the cross compilers: each argument is
 * FILE=MODEL (MODEL "-": QEMU's default is kept).  A file that does not
 * parse, or a different model, fails.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu/elfcpu.h"

static int check(const char *arg)
{
    char path[4096], why[256];
    const char *eq = strrchr(arg, '='), *want, *got;
    struct sfemu_elf_cpu c;
    struct stat st;
    void *map;
    int fd, rc;

    if (!eq || (size_t)(eq - arg) >= sizeof(path)) {
        printf("FAIL - bad argument '%s'\n", arg);
        return 1;
    }
    memcpy(path, arg, eq - arg);
    path[eq - arg] = '\0';
    want = eq + 1;
    fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &st) != 0) {
        printf("FAIL - %s: cannot open\n", path);
        return 1;
    }
    map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    rc = map == MAP_FAILED ? -1 : sfemu_elf_cpu_read(map, st.st_size, &c);
    if (rc != 0) {
        printf("FAIL - %s: not read (%d)\n", path, rc);
        return 1;
    }
    got = sfemu_cpu_choose(&c, why, sizeof(why));
    munmap(map, st.st_size);
    if (strcmp(got ? got : "-", want)) {
        printf("FAIL - %s: %s, want %s (%s)\n", path, got ? got : "-", want,
               why);
        return 1;
    }
    printf("ok   - %s: %s (%s)\n",
           strrchr(path, '/') ? strrchr(path, '/') + 1 : path, want, why);
    return 0;
}

int main(int argc, char **argv)
{
    static const char garbage[64] = "\177ELF\1\1\1";
    struct sfemu_elf_cpu c;
    int fails = 0;

    for (int i = 1; i < argc; i++) {
        fails += check(argv[i]);
    }
    /* Truncated and non-ELF input never faults. */
    if (sfemu_elf_cpu_read("not an elf file at all", 22, &c) == 0) {
        printf("FAIL - a text file parsed as ELF\n");
        fails++;
    }
    for (size_t n = 0; n <= sizeof(garbage); n++) {
        sfemu_elf_cpu_read(garbage, n, &c);
    }
    printf("# %d files, %d failed\n", argc - 1, fails);
    return fails != 0;
}
