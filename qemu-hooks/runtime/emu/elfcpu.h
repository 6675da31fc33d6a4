/*
 * What an ELF file asks of the CPU (e_flags, .MIPS.abiflags or
 * PT_MIPS_ABIFLAGS, .ARM.attributes), and the QEMU CPU model that runs it:
 * the richest model of its ISA family (docs/emulator.md, "CPU model").
 * Pure functions over a file in memory.
 */
#ifndef SFEMU_ELFCPU_H
#define SFEMU_ELFCPU_H

#include <stddef.h>
#include <stdint.h>

/* What an ELF file asks of the CPU. */
struct sfemu_elf_cpu {
    int machine; /* EM_MIPS, EM_ARM, ... (0: not ELF) */
    int is64;
    /* MIPS: e_flags and .MIPS.abiflags */
    uint32_t e_flags;
    int has_abiflags;
    int isa_level, isa_rev, fp_abi;
    uint32_t ases; /* AFL_ASE_* */
    /* ARM: .ARM.attributes (aeabi, file scope) */
    int has_attrs;
    int cpu_arch, profile, thumb, fp_arch, simd, wmmx;
    char interp[256]; /* PT_INTERP, or "" */
};

/* Reads what the ELF in [p, p + len) needs: 0 or -ENOEXEC. */
int sfemu_elf_cpu_read(const void *p, size_t len, struct sfemu_elf_cpu *c);
/* Adds b's needs to a's (a program and its interpreter). */
void sfemu_elf_cpu_merge(struct sfemu_elf_cpu *a,
                         const struct sfemu_elf_cpu *b);
/*
 * The model for these needs, or NULL to keep QEMU's default; why gets a
 * short account ("MIPS32r2, DSP DSPr2 (.MIPS.abiflags)").
 */
const char *sfemu_cpu_choose(const struct sfemu_elf_cpu *c, char *why,
                             size_t cap);

#endif
