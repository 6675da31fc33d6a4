/*
 * The architecture, endianness and ABI of the program from its ELF header,
 * the CPU model the patched qemu will pick (qemu-hooks' elfcpu.c, the same
 * code qemu runs), and the refusals: not ELF, no qemu for it, a host binary.
 */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "emu/elfcpu.h"
#include "run.h"

#ifndef EF_ARM_ABI_FLOAT_HARD
#define EF_ARM_ABI_FLOAT_HARD 0x400
#endif

int run_fmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int run_resolve(const char *rootfs, const char *guest, char *out, size_t cap)
{
    char rest[PATH_MAX * 2], done[PATH_MAX] = "";
    snprintf(rest, sizeof rest, "%s", guest);
    for (int hops = 0; rest[0];) {
        char *p = rest;
        while (*p == '/') {
            p++;
        }
        size_t n = strcspn(p, "/");
        char comp[NAME_MAX + 1];
        if (n == 0) {
            break;
        }
        if (n > NAME_MAX) {
            return -ENAMETOOLONG;
        }
        memcpy(comp, p, n);
        comp[n] = 0;
        memmove(rest, p + n, strlen(p + n) + 1);
        if (!strcmp(comp, ".")) {
            continue;
        }
        if (!strcmp(comp, "..")) {
            char *s = strrchr(done, '/');
            if (s) {
                *s = 0;
            }
            continue;
        }
        char host[PATH_MAX * 2], link[PATH_MAX];
        snprintf(host, sizeof host, "%s%s/%s", rootfs, done, comp);
        ssize_t l = readlink(host, link, sizeof link - 1);
        if (l < 0) {
            size_t dl = strlen(done);
            snprintf(done + dl, sizeof done - dl, "/%s", comp);
            continue;
        }
        if (++hops > 40) {
            return -ELOOP;
        }
        link[l] = 0;
        /* the target, then what was left: absolute targets are inside
         * the root, relative ones from the link's directory */
        char next[PATH_MAX * 2];
        if (run_fmt(next, sizeof next, "%s%s", link, rest) < 0) {
            return -ENAMETOOLONG;
        }
        if (link[0] == '/') {
            done[0] = 0;
        }
        snprintf(rest, sizeof rest, "%s", next);
    }
    if ((size_t)snprintf(out, cap, "%s%s", rootfs, done[0] ? done : "/") >=
        cap) {
        return -ENAMETOOLONG;
    }
    return 0;
}

/* The file mapped read-only: 0 or -errno. */
static int map_file(const char *path, void **p, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        return -errno;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        close(fd);
        return -ENOEXEC;
    }
    *len = (size_t)st.st_size;
    *p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    return *p == MAP_FAILED ? -errno : 0;
}

static void abi_name(const unsigned char *e, int machine, uint32_t flags,
                     struct run_arch *a)
{
    if (machine == EM_ARM) {
        unsigned v = (flags & EF_ARM_EABIMASK) >> 24;
        snprintf(a->abi, sizeof a->abi, "EABI%u %s", v,
                 flags & EF_ARM_ABI_FLOAT_HARD ? "hard-float" : "soft-float");
        if (!v) {
            snprintf(a->abi, sizeof a->abi, "OABI");
        }
    } else if (machine == EM_MIPS) {
        const char *abi = e[EI_CLASS] == ELFCLASS64 ? "n64"
                          : flags & EF_MIPS_ABI2    ? "n32"
                                                    : "o32";
        snprintf(a->abi, sizeof a->abi, "%s%s", abi,
                 flags & EF_MIPS_NAN2008 ? " nan2008" : "");
    } else {
        snprintf(a->abi, sizeof a->abi, "%s",
                 e[EI_CLASS] == ELFCLASS64 ? "LP64" : "ILP32");
    }
}

int run_detect(const char *rootfs, const char *guest, struct run_arch *a,
               char *err, size_t cap)
{
    char host[PATH_MAX * 2];
    void *p;
    size_t len;
    memset(a, 0, sizeof *a);
    if (run_resolve(rootfs, guest, host, sizeof host) < 0 ||
        map_file(host, &p, &len) < 0) {
        snprintf(err, cap, "%s: cannot read the program %s in the root", guest,
                 host);
        return RUN_NO_BINARY;
    }
    const unsigned char *e = p;
    if (len < 52 || memcmp(e, ELFMAG, SELFMAG) != 0) {
        munmap(p, len);
        snprintf(err, cap,
                 "%s: not an ELF file (a script? name the "
                 "interpreter: -- /bin/sh %s)",
                 guest, guest);
        return RUN_UNKNOWN_ARCH;
    }
    int be = e[EI_DATA] == ELFDATA2MSB;
    int is64 = e[EI_CLASS] == ELFCLASS64;
    uint16_t m16 =
        be ? (uint16_t)(e[18] << 8 | e[19]) : (uint16_t)(e[19] << 8 | e[18]);
    const unsigned char *f = e + (is64 ? 48 : 36);
    uint32_t flags = be ? (uint32_t)f[0] << 24 | f[1] << 16 | f[2] << 8 | f[3]
                        : (uint32_t)f[3] << 24 | f[2] << 16 | f[1] << 8 | f[0];
    a->machine = m16;
    a->bits = is64 ? 64 : 32;
    a->big_endian = be;
    abi_name(e, m16, flags, a);
    const char *q = NULL;
    switch (m16) {
    case EM_ARM: q = be ? "armeb" : "arm"; break;
    case EM_AARCH64: q = be ? "aarch64_be" : "aarch64"; break;
    case EM_MIPS:
        q = is64 ? (be ? "mips64" : "mips64el") : (be ? "mips" : "mipsel");
        break;
    case EM_X86_64:
    case EM_386:
        munmap(p, len);
        snprintf(err, cap,
                 "%s: an x86 program (%d-bit): it runs on this "
                 "host without emulation",
                 guest, a->bits);
        return RUN_HOST_BINARY;
    }
    struct sfemu_elf_cpu c;
    if (sfemu_elf_cpu_read(p, len, &c) == 0) {
        /* the dynamic loader's needs count too, as qemu counts them */
        void *ip;
        size_t il;
        char ih[PATH_MAX * 2];
        if (c.interp[0] && run_resolve(rootfs, c.interp, ih, sizeof ih) == 0 &&
            map_file(ih, &ip, &il) == 0) {
            struct sfemu_elf_cpu ic;
            if (sfemu_elf_cpu_read(ip, il, &ic) == 0) {
                sfemu_elf_cpu_merge(&c, &ic);
            }
            munmap(ip, il);
        }
        const char *cpu = sfemu_cpu_choose(&c, a->cpu_why, sizeof a->cpu_why);
        snprintf(a->cpu, sizeof a->cpu, "%s", cpu ? cpu : "default");
    }
    munmap(p, len);
    if (!q) {
        snprintf(err, cap,
                 "%s: ELF machine %d (%s-endian, %d-bit) is not "
                 "one SFEmu emulates (ARM, AArch64, MIPS)",
                 guest, m16, be ? "big" : "little", a->bits);
        return RUN_UNKNOWN_ARCH;
    }
    snprintf(a->qemu, sizeof a->qemu, "%s", q);
    return 0;
}
