/* What an ELF asks of the CPU, and the model for it (see elfcpu.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "analysis/elfread.h"
#include "emu/elfcpu.h"

/* MIPS e_flags and .MIPS.abiflags (the values of binutils' elf/mips.h). */
#define MIPS_ARCH_MASK 0xf0000000u
#define MIPS_ARCH_32 0x50000000u
#define MIPS_ARCH_64 0x60000000u
#define MIPS_ARCH_32R2 0x70000000u
#define MIPS_ARCH_64R2 0x80000000u
#define MIPS_ARCH_32R6 0x90000000u
#define MIPS_ARCH_64R6 0xa0000000u
#define MIPS_ASE_MASK 0x0f000000u
#define MIPS_ASE_MICROMIPS 0x02000000u
#define MIPS_ASE_M16 0x04000000u
#define MIPS_NAN2008 0x400u
#define MIPS_SHT_ABIFLAGS 0x7000002a
#define MIPS_PT_ABIFLAGS 0x70000003
#define AFL_ASE_DSP 0x1u
#define AFL_ASE_DSPR2 0x2u
#define AFL_ASE_MT 0x40u
#define AFL_ASE_MSA 0x200u
#define AFL_ASE_MIPS16 0x400u
#define AFL_ASE_MICROMIPS 0x800u
#define AFL_ASE_DSPR3 0x2000u
#define ARM_SHT_ATTRIBUTES 0x70000003

/* ------------------------------------------------------------ reading */

static void read_abiflags(struct rd *r, uint64_t off, uint64_t size,
                          struct sfemu_elf_cpu *c)
{
    if (size < 24) {
        return;
    }
    /* Elf_MIPS_ABIFlags_v0: version(2) isa_level isa_rev gpr_size
     * cpr1_size cpr2_size fp_abi isa_ext(4) ases(4) flags1 flags2 */
    c->isa_level = (int)rd_get(r, off + 2, 1);
    c->isa_rev = (int)rd_get(r, off + 3, 1);
    c->fp_abi = (int)rd_get(r, off + 7, 1);
    c->ases = (uint32_t)rd_get(r, off + 12, 4);
    c->has_abiflags = !r->bad;
}

static uint64_t uleb(struct rd *r, uint64_t *off, uint64_t end)
{
    uint64_t v = 0;

    for (int shift = 0; *off < end && shift < 64; shift += 7) {
        uint8_t b = (uint8_t)rd_get(r, (*off)++, 1);
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            return v;
        }
    }
    r->bad = 1;
    return 0;
}

static void skip_ntbs(struct rd *r, uint64_t *off, uint64_t end)
{
    while (*off < end && rd_get(r, (*off)++, 1)) {
    }
}

/* The file-scope "aeabi" attributes the CPU choice needs. */
static void read_file_attrs(struct rd *r, uint64_t off, uint64_t end,
                            struct sfemu_elf_cpu *c)
{
    while (off < end && !r->bad) {
        uint64_t tag = uleb(r, &off, end), v = 0;

        if (tag == 4 || tag == 5 || tag == 67 || (tag > 32 && (tag & 1))) {
            skip_ntbs(r, &off, end); /* names and other strings */
            continue;
        }
        v = uleb(r, &off, end);
        if (tag == 32) {
            skip_ntbs(r, &off, end); /* Tag_compatibility: flag, name */
            continue;
        }
        switch (tag) {
        case 6: c->cpu_arch = (int)v; break;
        case 7: c->profile = (int)v; break;
        case 9: c->thumb = (int)v; break;
        case 10: c->fp_arch = (int)v; break;
        case 11: c->wmmx = (int)v; break;
        case 12: c->simd = (int)v; break;
        }
    }
}

static void read_attributes(struct rd *r, uint64_t off, uint64_t size,
                            struct sfemu_elf_cpu *c)
{
    uint64_t end = off + size;

    if (!size || rd_get(r, off, 1) != 'A') {
        return;
    }
    off++;
    while (off + 4 < end && !r->bad) {
        uint64_t len = rd_get(r, off, 4), sub = off + 4, sub_end = off + len;
        char vendor[8] = { 0 };

        if (len < 5 || sub_end > end) {
            return;
        }
        for (int i = 0; i < 7 && sub < sub_end; i++) {
            vendor[i] = (char)rd_get(r, sub, 1);
            if (!vendor[i]) {
                break;
            }
            sub++;
        }
        skip_ntbs(r, &sub, sub_end);
        /* Only the standard vendor's file-scope subsection matters. */
        while (!strcmp(vendor, "aeabi") && sub + 5 <= sub_end && !r->bad) {
            uint64_t tag = rd_get(r, sub, 1), slen = rd_get(r, sub + 1, 4);
            if (slen < 5 || sub + slen > sub_end) {
                break;
            }
            if (tag == 1) {
                read_file_attrs(r, sub + 5, sub + slen, c);
                c->has_attrs = !r->bad;
            }
            sub += slen;
        }
        off = sub_end;
    }
}

int sfemu_elf_cpu_read(const void *p, size_t len, struct sfemu_elf_cpu *c)
{
    struct rd r = { p, len, 0, 0, 0 };
    const uint8_t *id = p;
    uint64_t phoff, phent, phnum, shoff, shent, shnum;

    memset(c, 0, sizeof(*c));
    if (len < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG) ||
        (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64) ||
        (id[EI_DATA] != ELFDATA2LSB && id[EI_DATA] != ELFDATA2MSB)) {
        return -ENOEXEC;
    }
    r.is64 = c->is64 = id[EI_CLASS] == ELFCLASS64;
    r.big = id[EI_DATA] == ELFDATA2MSB;
    c->machine = (int)F(&r, 0, Ehdr, e_machine);
    c->e_flags = (uint32_t)F(&r, 0, Ehdr, e_flags);
    if (r.bad) {
        return -ENOEXEC;
    }
    phoff = F(&r, 0, Ehdr, e_phoff);
    phent = F(&r, 0, Ehdr, e_phentsize);
    phnum = F(&r, 0, Ehdr, e_phnum);
    for (uint64_t i = 0; phent >= SZ(&r, Phdr) && i < phnum && !r.bad; i++) {
        uint64_t ph = phoff + i * phent, type = F(&r, ph, Phdr, p_type);
        uint64_t off = F(&r, ph, Phdr, p_offset);
        uint64_t size = F(&r, ph, Phdr, p_filesz);

        if (type == PT_INTERP && size > 1 && size <= sizeof(c->interp) &&
            off <= len && size <= len - off) {
            memcpy(c->interp, id + off, size);
            c->interp[size - 1] = '\0';
        } else if (type == MIPS_PT_ABIFLAGS && c->machine == EM_MIPS) {
            read_abiflags(&r, off, size, c); /* sstrip keeps this one */
        }
    }
    r.bad = 0;
    shoff = F(&r, 0, Ehdr, e_shoff);
    shent = F(&r, 0, Ehdr, e_shentsize);
    shnum = F(&r, 0, Ehdr, e_shnum);
    for (uint64_t i = 0; shoff && shent >= SZ(&r, Shdr) && i < shnum; i++) {
        uint64_t sh = shoff + i * shent, type = F(&r, sh, Shdr, sh_type);
        uint64_t off = F(&r, sh, Shdr, sh_offset);
        uint64_t size = F(&r, sh, Shdr, sh_size);

        if (r.bad) {
            break;
        }
        if (c->machine == EM_MIPS && type == MIPS_SHT_ABIFLAGS &&
            !c->has_abiflags) {
            read_abiflags(&r, off, size, c);
        } else if (c->machine == EM_ARM && type == ARM_SHT_ATTRIBUTES) {
            read_attributes(&r, off, size, c);
        }
        r.bad = 0;
    }
    return 0;
}

void sfemu_elf_cpu_merge(struct sfemu_elf_cpu *a, const struct sfemu_elf_cpu *b)
{
    if (b->machine != a->machine || b->is64 != a->is64) {
        return; /* not the guest's kind: a host file at that path */
    }
    /* The flags that change the choice are sticky (an r6 or NaN2008
     * interpreter cannot run on another family anyway). */
    a->e_flags |= b->e_flags & (MIPS_ASE_MASK | MIPS_NAN2008);
    if ((b->e_flags & MIPS_ARCH_MASK) == MIPS_ARCH_32R6) {
        a->e_flags = (a->e_flags & ~MIPS_ARCH_MASK) | MIPS_ARCH_32R6;
    }
    a->has_abiflags |= b->has_abiflags;
    a->ases |= b->ases;
    if (b->isa_rev > a->isa_rev) {
        a->isa_rev = b->isa_rev;
    }
    a->has_attrs |= b->has_attrs;
    a->wmmx |= b->wmmx;
    a->fp_arch |= b->fp_arch;
    a->simd |= b->simd;
    if (b->cpu_arch > a->cpu_arch) {
        a->cpu_arch = b->cpu_arch;
    }
}

/* ------------------------------------------------------------ choosing */

struct text {
    char *p;
    size_t cap, n;
};

static void put(struct text *t, const char *fmt, const char *s)
{
    if (t->n < t->cap) {
        t->n += snprintf(t->p + t->n, t->cap - t->n, fmt, s);
    }
}

static const char *mips_arch_name(uint32_t f)
{
    switch (f & MIPS_ARCH_MASK) {
    case 0x00000000u: return "MIPS I";
    case 0x10000000u: return "MIPS II";
    case 0x20000000u: return "MIPS III";
    case 0x30000000u: return "MIPS IV";
    case 0x40000000u: return "MIPS V";
    case MIPS_ARCH_32: return "MIPS32";
    case MIPS_ARCH_64: return "MIPS64";
    case MIPS_ARCH_32R2: return "MIPS32r2";
    case MIPS_ARCH_64R2: return "MIPS64r2";
    case MIPS_ARCH_32R6: return "MIPS32r6";
    case MIPS_ARCH_64R6: return "MIPS64r6";
    default: return "MIPS ?";
    }
}

static const char *mips_choose(const struct sfemu_elf_cpu *c, struct text *t)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } ases[] = {
        { AFL_ASE_DSP, "DSP" },
        { AFL_ASE_DSPR2, "DSPr2" },
        { AFL_ASE_DSPR3, "DSPr3" },
        { AFL_ASE_MT, "MT" },
        { AFL_ASE_MSA, "MSA" },
        { AFL_ASE_MIPS16, "MIPS16" },
        { AFL_ASE_MICROMIPS, "microMIPS" },
    };
    uint32_t f = c->e_flags;
    int r6 = (f & MIPS_ARCH_MASK) == MIPS_ARCH_32R6 || c->isa_rev >= 6;
    int micro = (f & MIPS_ASE_MICROMIPS) || (c->ases & AFL_ASE_MICROMIPS);
    int nan2008 = (f & MIPS_NAN2008) != 0;
    int msa = (c->ases & AFL_ASE_MSA) != 0;
    int dsp = (c->ases & (AFL_ASE_DSP | AFL_ASE_DSPR2)) != 0;
    const char *model;

    if (c->is64) {
        return NULL; /* the targets built here are 32-bit MIPS */
    }
    if (c->has_abiflags && c->isa_level == 32 && c->isa_rev > 1) {
        char arch[24];
        snprintf(arch, sizeof(arch), "MIPS32r%d", c->isa_rev);
        put(t, "%s", arch);
    } else {
        put(t, "%s", mips_arch_name(f));
    }
    for (size_t i = 0; i < sizeof(ases) / sizeof(*ases); i++) {
        if (c->ases & ases[i].bit) {
            put(t, " %s", ases[i].name);
        }
    }
    if ((f & MIPS_ASE_M16) && !(c->ases & AFL_ASE_MIPS16)) {
        put(t, " %s", "MIPS16");
    }
    if ((f & MIPS_ASE_MICROMIPS) && !(c->ases & AFL_ASE_MICROMIPS)) {
        put(t, " %s", "microMIPS");
    }
    if (nan2008) {
        put(t, " %s", "NaN2008");
    }
    put(t, "%s",
        c->has_abiflags ? " (.MIPS.abiflags)"
                        : " (no .MIPS.abiflags: ASEs unknown)");
    /* The richest model of the family: every instruction it allows runs. */
    if (r6) {
        model = "mips32r6-generic";
    } else if (nan2008 || msa || c->isa_rev == 5) {
        model = "P5600"; /* MIPS32r5, MSA, IEEE 754-2008 NaNs */
        if (dsp || micro) {
            put(t, "%s", "; no model has both, DSP/microMIPS left out");
        }
    } else if (micro) {
        model = "M14Kc"; /* QEMU's only MIPS32r2 microMIPS core */
    } else {
        model = "74Kf"; /* MIPS32r2, MIPS16, DSP, DSPr2, FPU */
    }
    return model;
}

static const char *arm_arch_name(int a)
{
    static const char *const names[] = {
        "pre-v4",   "ARMv4",   "ARMv4T",   "ARMv5T",   "ARMv5TE",
        "ARMv5TEJ", "ARMv6",   "ARMv6KZ",  "ARMv6T2",  "ARMv6K",
        "ARMv7",    "ARMv6-M", "ARMv6S-M", "ARMv7E-M", "ARMv8-A",
    };

    return a >= 0 && a < (int)(sizeof(names) / sizeof(*names)) ? names[a]
                                                               : "ARMv8+";
}

static const char *arm_choose(const struct sfemu_elf_cpu *c, struct text *t)
{
    static const char *const fp[] = { "",          "VFPv1",     "VFPv2",
                                      "VFPv3",     "VFPv3-D16", "VFPv4",
                                      "VFPv4-D16", "FPv8",      "FPv8-D16" };

    if (c->is64) {
        return NULL;
    }
    if (!c->has_attrs) {
        put(t, "%s", "no .ARM.attributes");
        return "any";
    }
    put(t, "%s", arm_arch_name(c->cpu_arch));
    if (c->fp_arch > 0 && c->fp_arch < (int)(sizeof(fp) / sizeof(*fp))) {
        put(t, ", %s", fp[c->fp_arch]);
    }
    if (c->simd) {
        put(t, ", %s", "NEON");
    }
    if (c->thumb) {
        put(t, ", %s", c->thumb >= 2 ? "Thumb-2" : "Thumb-1");
    }
    if (c->wmmx) {
        put(t, ", %s", "iwMMXt");
    }
    put(t, "%s", " (.ARM.attributes)");
    /* QEMU's "any" has every A-profile feature up to v8 AArch32 (VFPv4,
     * NEON, Thumb-2, idiv), so it runs every such binary; only XScale's
     * iwMMXt needs a model of its own. */
    if (c->wmmx && !c->fp_arch && !c->simd) {
        return "pxa270";
    }
    if (c->wmmx) {
        put(t, "%s", "; no model has iwMMXt and VFP/NEON, iwMMXt left out");
    }
    return "any";
}

const char *sfemu_cpu_choose(const struct sfemu_elf_cpu *c, char *why,
                             size_t cap)
{
    struct text t = { why, cap, 0 };

    if (cap) {
        why[0] = '\0';
    }
    switch (c->machine) {
    case EM_MIPS: return mips_choose(c, &t);
    case EM_ARM: return arm_choose(c, &t);
    default: return NULL;
    }
}
