/*
 * ELF symbol tables (see elfsyms.h).  Every read goes through rd_get
 * (elfread.h): firmware files are untrusted input.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/elfread.h"
#include "analysis/elfsyms.h"

#ifndef STT_GNU_IFUNC
#define STT_GNU_IFUNC 10
#endif
#ifndef DT_MIPS_SYMTABNO
#define DT_MIPS_SYMTABNO 0x70000011
#endif

struct cand {
    uint64_t addr, size;
    const char *name; /* into the file */
    size_t nlen;
    uint8_t type, bind;
};

/* Which of several names at one address to show: functions, the fewest
 * leading underscores (getppid over __getppid), global, then shortest. */
static int cand_rank_cmp(const struct cand *a, const struct cand *b)
{
    size_t ua = strspn(a->name, "_"), ub = strspn(b->name, "_");
    int ba = a->bind == STB_GLOBAL ? 0 : a->bind == STB_WEAK ? 1 : 2;
    int bb = b->bind == STB_GLOBAL ? 0 : b->bind == STB_WEAK ? 1 : 2;

    if (a->type != b->type) {
        return a->type == STT_FUNC ? -1 : 1;
    }
    if (ua != ub) {
        return ua < ub ? -1 : 1;
    }
    if (ba != bb) {
        return ba - bb;
    }
    if (a->nlen != b->nlen) {
        return a->nlen < b->nlen ? -1 : 1;
    }
    return strcmp(a->name, b->name);
}

static int cand_cmp(const void *x, const void *y)
{
    const struct cand *a = x, *b = y;

    if (a->addr != b->addr) {
        return a->addr < b->addr ? -1 : 1;
    }
    return cand_rank_cmp(a, b);
}

/* Collects the symbols of one table into e: 0, or -errno. */
static int take_syms(struct rd *r, struct sfemu_elf *e, uint64_t symoff,
                     uint64_t count, uint64_t entsize, uint64_t stroff,
                     uint64_t strsize)
{
    struct cand *c;
    size_t n = 0, total = 0, k = 0;
    char *arena;

    if (entsize < SZ(r, Sym)) {
        entsize = SZ(r, Sym);
    }
    if (stroff > r->len || strsize > r->len - stroff || symoff > r->len ||
        count > (r->len - symoff) / entsize) {
        return -ENOEXEC;
    }
    c = calloc(count ? count : 1, sizeof(*c));
    if (!c) {
        return -ENOMEM;
    }
    for (uint64_t i = 1; i < count; i++) {
        uint64_t base = symoff + i * entsize;
        uint64_t name = F(r, base, Sym, st_name);
        uint64_t value = F(r, base, Sym, st_value);
        uint64_t size = F(r, base, Sym, st_size);
        unsigned info = (unsigned)F(r, base, Sym, st_info);
        unsigned shndx = (unsigned)F(r, base, Sym, st_shndx);
        unsigned type = ELF32_ST_TYPE(info);
        const char *s;
        size_t len;

        if (type == STT_GNU_IFUNC) {
            type = STT_FUNC;
        }
        if ((type != STT_FUNC && type != STT_OBJECT) || shndx == SHN_UNDEF ||
            shndx == SHN_ABS || name >= strsize) {
            continue;
        }
        s = (const char *)r->p + stroff + name;
        len = strnlen(s, strsize - name);
        if (!len || len == strsize - name) {
            continue; /* empty, or not terminated inside the table */
        }
        /* Thumb and microMIPS/MIPS16 code addresses carry the ISA bit. */
        if (type == STT_FUNC &&
            (e->machine == EM_ARM || e->machine == EM_MIPS)) {
            value &= ~(uint64_t)1;
        }
        c[n++] =
            (struct cand){ value, size,          s,
                           len,   (uint8_t)type, (uint8_t)ELF32_ST_BIND(info) };
    }
    if (r->bad) {
        free(c);
        return -ENOEXEC;
    }
    qsort(c, n, sizeof(*c), cand_cmp);
    /* One name per address: the best-ranked sorts first. */
    for (size_t i = 0; i < n; i++) {
        if (k && c[k - 1].addr == c[i].addr) {
            continue;
        }
        c[k++] = c[i];
        total += c[i].nlen + 1;
    }
    e->syms = calloc(k ? k : 1, sizeof(*e->syms));
    arena = e->names = malloc(total ? total : 1);
    if (!e->syms || !e->names) {
        free(c);
        return -ENOMEM;
    }
    for (size_t i = 0; i < k; i++) {
        memcpy(arena, c[i].name, c[i].nlen + 1);
        e->syms[i] =
            (struct sfemu_elf_sym){ c[i].addr, c[i].size, arena, c[i].type };
        arena += c[i].nlen + 1;
    }
    e->nsyms = k;
    free(c);
    return 0;
}

/* .symtab, else .dynsym: 1 when a table gave symbols, 0, or -errno. */
static int from_sections(struct rd *r, struct sfemu_elf *e)
{
    uint64_t shoff = F(r, 0, Ehdr, e_shoff);
    uint64_t shent = F(r, 0, Ehdr, e_shentsize);
    uint64_t shnum = F(r, 0, Ehdr, e_shnum);
    static const uint32_t kinds[] = { SHT_SYMTAB, SHT_DYNSYM };

    if (!shoff || !shnum || shent < SZ(r, Shdr)) {
        return 0;
    }
    for (size_t k = 0; k < 2; k++) {
        for (uint64_t i = 0; i < shnum; i++) {
            uint64_t sh = shoff + i * shent, link, str;
            int rc;

            if (F(r, sh, Shdr, sh_type) != kinds[k]) {
                continue;
            }
            link = F(r, sh, Shdr, sh_link);
            if (link >= shnum) {
                continue;
            }
            str = shoff + link * shent;
            rc = take_syms(
                r, e, F(r, sh, Shdr, sh_offset),
                F(r, sh, Shdr, sh_size) / (F(r, sh, Shdr, sh_entsize)
                                               ? F(r, sh, Shdr, sh_entsize)
                                               : SZ(r, Sym)),
                F(r, sh, Shdr, sh_entsize), F(r, str, Shdr, sh_offset),
                F(r, str, Shdr, sh_size));
            if (r->bad) {
                return -ENOEXEC;
            }
            if (rc < 0 && rc != -ENOEXEC) {
                return rc;
            }
            if (rc == 0 && e->nsyms) {
                e->source = k == 0 ? SFEMU_ELF_SYMTAB : SFEMU_ELF_DYNSYM;
                return 1;
            }
            free(e->syms);
            free(e->names);
            e->syms = NULL;
            e->names = NULL;
        }
    }
    return 0;
}

/* A link-time vaddr as a file offset (through PT_LOAD), or UINT64_MAX. */
static uint64_t vaddr_to_off(const struct sfemu_elf *e, uint64_t v)
{
    for (size_t i = 0; i < e->nsegs; i++) {
        const struct sfemu_elf_seg *s = &e->segs[i];
        if (v >= s->vaddr && v - s->vaddr < s->filesz) {
            return s->offset + (v - s->vaddr);
        }
    }
    return UINT64_MAX;
}

/* Number of dynamic symbols from DT_GNU_HASH: the end of the last chain. */
static uint64_t gnu_hash_count(struct rd *r, uint64_t off)
{
    uint64_t nbuckets = rd_get(r, off, 4), symoffset = rd_get(r, off + 4, 4);
    uint64_t bloom = rd_get(r, off + 8, 4), buckets, chains, last = 0;

    buckets = off + 16 + bloom * (r->is64 ? 8 : 4);
    chains = buckets + nbuckets * 4;
    if (r->bad || nbuckets > r->len / 4) {
        return 0;
    }
    for (uint64_t i = 0; i < nbuckets; i++) {
        uint64_t b = rd_get(r, buckets + i * 4, 4);
        if (b > last) {
            last = b;
        }
    }
    if (last < symoffset) {
        return symoffset;
    }
    while (!r->bad && !(rd_get(r, chains + (last - symoffset) * 4, 4) & 1)) {
        last++;
    }
    return r->bad ? 0 : last + 1;
}

/* No section headers (sstrip): DT_SYMTAB/DT_STRTAB through PT_DYNAMIC. */
static int from_dynamic(struct rd *r, struct sfemu_elf *e)
{
    uint64_t phoff = F(r, 0, Ehdr, e_phoff), phent = F(r, 0, Ehdr, e_phentsize);
    uint64_t phnum = F(r, 0, Ehdr, e_phnum), dyn = 0, dynsz = 0;
    uint64_t symtab = 0, strtab = 0, strsz = 0, syment = 0, hash = 0,
             gnuhash = 0, mipsno = 0, count = 0, symoff, stroff;
    int rc;

    for (uint64_t i = 0; i < phnum; i++) {
        uint64_t ph = phoff + i * phent;
        if (F(r, ph, Phdr, p_type) == PT_DYNAMIC) {
            dyn = F(r, ph, Phdr, p_offset);
            dynsz = F(r, ph, Phdr, p_filesz);
        }
    }
    if (!dyn || r->bad) {
        return 0;
    }
    for (uint64_t d = dyn; d + SZ(r, Dyn) <= dyn + dynsz; d += SZ(r, Dyn)) {
        uint64_t tag = F(r, d, Dyn, d_tag), val = F(r, d, Dyn, d_un);
        if (r->bad || tag == DT_NULL) {
            break;
        }
        switch (tag) {
        case DT_SYMTAB: symtab = val; break;
        case DT_STRTAB: strtab = val; break;
        case DT_STRSZ: strsz = val; break;
        case DT_SYMENT: syment = val; break;
        case DT_HASH: hash = val; break;
        case DT_GNU_HASH: gnuhash = val; break;
        case DT_MIPS_SYMTABNO:
            if (e->machine == EM_MIPS) {
                mipsno = val;
            }
            break;
        }
    }
    r->bad = 0;
    symoff = vaddr_to_off(e, symtab);
    stroff = vaddr_to_off(e, strtab);
    if (!symtab || !strtab || symoff == UINT64_MAX || stroff == UINT64_MAX) {
        return 0;
    }
    if (mipsno) {
        count = mipsno;
    } else if (hash && vaddr_to_off(e, hash) != UINT64_MAX) {
        count = rd_get(r, vaddr_to_off(e, hash) + 4, 4); /* nchain */
    } else if (gnuhash && vaddr_to_off(e, gnuhash) != UINT64_MAX) {
        count = gnu_hash_count(r, vaddr_to_off(e, gnuhash));
    } else if (stroff > symoff) {
        count = (stroff - symoff) / SZ(r, Sym); /* the usual layout */
    }
    if (r->bad || !count) {
        return 0;
    }
    rc = take_syms(r, e, symoff, count, syment, stroff, strsz);
    if (rc == 0 && e->nsyms) {
        e->source = SFEMU_ELF_DYNAMIC;
        return 1;
    }
    return rc == -ENOMEM ? rc : 0;
}

int sfemu_elf_load_mem(const void *data, size_t len, struct sfemu_elf **out)
{
    struct rd r = { data, len, 0, 0, 0 };
    const uint8_t *id = data;
    struct sfemu_elf *e;
    uint64_t phoff, phent, phnum;
    int rc;

    *out = NULL;
    if (len < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG) ||
        (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64) ||
        (id[EI_DATA] != ELFDATA2LSB && id[EI_DATA] != ELFDATA2MSB)) {
        return -ENOEXEC;
    }
    r.is64 = id[EI_CLASS] == ELFCLASS64;
    r.big = id[EI_DATA] == ELFDATA2MSB;
    if (len < SZ(&r, Ehdr) || !(e = calloc(1, sizeof(*e)))) {
        return len < SZ(&r, Ehdr) ? -ENOEXEC : -ENOMEM;
    }
    e->is64 = r.is64;
    e->big_endian = r.big;
    e->type = (int)F(&r, 0, Ehdr, e_type);
    e->machine = (int)F(&r, 0, Ehdr, e_machine);
    phoff = F(&r, 0, Ehdr, e_phoff);
    phent = F(&r, 0, Ehdr, e_phentsize);
    phnum = F(&r, 0, Ehdr, e_phnum);
    e->lo = UINT64_MAX;
    if (phnum && phent >= SZ(&r, Phdr)) {
        e->segs = calloc(phnum, sizeof(*e->segs));
        if (!e->segs) {
            sfemu_elf_free(e);
            return -ENOMEM;
        }
        for (uint64_t i = 0; i < phnum; i++) {
            uint64_t ph = phoff + i * phent;
            struct sfemu_elf_seg *s = &e->segs[e->nsegs];
            if (F(&r, ph, Phdr, p_type) != PT_LOAD) {
                continue;
            }
            s->vaddr = F(&r, ph, Phdr, p_vaddr);
            s->memsz = F(&r, ph, Phdr, p_memsz);
            s->offset = F(&r, ph, Phdr, p_offset);
            s->filesz = F(&r, ph, Phdr, p_filesz);
            s->flags = (uint32_t)F(&r, ph, Phdr, p_flags);
            if (s->vaddr < e->lo) {
                e->lo = s->vaddr;
            }
            if (s->vaddr + s->memsz > e->hi) {
                e->hi = s->vaddr + s->memsz;
            }
            e->nsegs++;
        }
    }
    if (r.bad) {
        sfemu_elf_free(e);
        return -ENOEXEC;
    }
    if (!e->nsegs) {
        e->lo = 0;
    }
    rc = from_sections(&r, e);
    r.bad = 0;
    if (rc == 0) {
        rc = from_dynamic(&r, e);
    }
    if (rc < 0 && rc != -ENOEXEC) {
        sfemu_elf_free(e);
        return rc;
    }
    if (rc <= 0) {
        e->source = SFEMU_ELF_NOSYMS; /* still useful: "lib+0xoff" */
    }
    *out = e;
    return 0;
}

int sfemu_elf_load(const char *path, struct sfemu_elf **out)
{
    struct stat st;
    void *map;
    int fd, rc;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < EI_NIDENT) {
        close(fd);
        return -ENOEXEC;
    }
    map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    rc = map == MAP_FAILED ? -errno : 0;
    close(fd);
    if (rc) {
        return rc;
    }
    rc = sfemu_elf_load_mem(map, st.st_size, out);
    munmap(map, st.st_size);
    return rc;
}

void sfemu_elf_free(struct sfemu_elf *e)
{
    if (e) {
        free(e->syms);
        free(e->names);
        free(e->segs);
        free(e);
    }
}

const struct sfemu_elf_sym *sfemu_elf_lookup(const struct sfemu_elf *e,
                                             uint64_t vaddr)
{
    size_t lo = 0, hi = e ? e->nsyms : 0;

    /* The first symbol above vaddr; the one before it is the answer. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->syms[mid].addr <= vaddr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo ? &e->syms[lo - 1] : NULL;
}

const struct sfemu_elf_sym *sfemu_elf_find(const struct sfemu_elf *e,
                                           const char *name)
{
    for (size_t i = 0; e && i < e->nsyms; i++) {
        if (!strcmp(e->syms[i].name, name)) {
            return &e->syms[i];
        }
    }
    return NULL;
}

int sfemu_elf_bias(const struct sfemu_elf *e, uint64_t start, uint64_t off,
                   uint64_t *bias)
{
    for (size_t i = 0; i < e->nsegs; i++) {
        const struct sfemu_elf_seg *s = &e->segs[i];
        /* Mappings start on a page boundary (at most 64 KiB) below p_offset. */
        uint64_t first = s->offset & ~(uint64_t)0xffff;

        if (s->filesz && off >= first && off < s->offset + s->filesz) {
            *bias = start + (s->offset - off) - s->vaddr;
            return 0;
        }
    }
    return -ENOENT;
}

int sfemu_elf_format(const struct sfemu_elf *e, const char *mod, uint64_t bias,
                     uint64_t addr, int64_t max_bytes, char *out, size_t cap)
{
    uint64_t v = addr - bias;
    const struct sfemu_elf_sym *s = sfemu_elf_lookup(e, v);

    if (s) {
        uint64_t off = v - s->addr;
        int near = max_bytes >= 0 ? off <= (uint64_t)max_bytes
                   : s->size      ? off < s->size
                                  : off <= SFEMU_ELF_DEFAULT_MAX;
        if (near) {
            if (off) {
                snprintf(out, cap, "%s!%s+0x%" PRIx64, mod, s->name, off);
            } else {
                snprintf(out, cap, "%s!%s", mod, s->name);
            }
            return 0;
        }
    }
    snprintf(out, cap, "%s+0x%" PRIx64, mod, v);
    return -ENOENT;
}
