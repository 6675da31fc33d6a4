/* The CPU model from the guest ELF, at start-up (see cpumodel.h). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/options.h"
#include "emu/cpumodel.h"
#include "emu/elfcpu.h"
#include "sfemu/host.h"

static const char *chosen;
static int asked; /* QEMU asks only when -cpu (or QEMU_CPU) is absent */
static char chosen_why[256];

static int read_fd(int fd, struct sfemu_elf_cpu *c)
{
    struct stat st;
    void *map;
    int rc;

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < EI_NIDENT) {
        return -ENOEXEC;
    }
    map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        return -errno;
    }
    rc = sfemu_elf_cpu_read(map, st.st_size, c);
    munmap(map, st.st_size);
    return rc;
}

/* The interpreter as QEMU finds it: under -L first, else the host path. */
static void add_interp(struct sfemu_elf_cpu *c, const char *ld_prefix)
{
    char path[PATH_MAX];
    struct sfemu_elf_cpu ic;
    int fd = -1;

    if (!c->interp[0]) {
        return;
    }
    if (ld_prefix && strcmp(ld_prefix, "/") &&
        snprintf(path, sizeof(path), "%s%s", ld_prefix, c->interp) <
            (int)sizeof(path)) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        fd = open(c->interp, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        return;
    }
    if (read_fd(fd, &ic) == 0) {
        sfemu_elf_cpu_merge(c, &ic);
    }
    close(fd);
}

const char *sfemu_rt_cpu_model(int fd, const char *ld_prefix)
{
    struct sfemu_elf_cpu c;

    asked = 1;
    sfemu_options_finish();
    if (sfemu_opt_given(SFEMU_OPT_cpu_auto)
            ? !sfemu_opt_long(SFEMU_OPT_cpu_auto)
            : !sfemu_opt_str(SFEMU_OPT_rules)) {
        return NULL;
    }
    if (read_fd(fd, &c) != 0) {
        return NULL;
    }
    add_interp(&c, ld_prefix);
    chosen = sfemu_cpu_choose(&c, chosen_why, sizeof(chosen_why));
    return chosen;
}

void sfemu_cpumodel_log(void)
{
    if (chosen) {
        sfemu_log("cpu model %s (-cpu-auto; from the ELF: %s)", chosen,
                  chosen_why);
    }
}

int sfemu_cpumodel_given(void)
{
    return !asked;
}
