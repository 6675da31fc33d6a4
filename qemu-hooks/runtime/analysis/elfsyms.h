/*
 * ELF symbol tables for address resolution: ELF32/ELF64, either byte order,
 * parsed with <elf.h> only (the runtime links into a static qemu, so no
 * libelf).  Symbols come from .symtab, else .dynsym, else (no section
 * headers at all, as sstrip leaves firmware) from PT_DYNAMIC's DT_SYMTAB.
 */
#ifndef SFEMU_ELFSYMS_H
#define SFEMU_ELFSYMS_H

#include <stddef.h>
#include <stdint.h>

enum sfemu_elf_source {
    SFEMU_ELF_NOSYMS, /* an ELF file without usable symbols */
    SFEMU_ELF_SYMTAB,
    SFEMU_ELF_DYNSYM,
    SFEMU_ELF_DYNAMIC, /* PT_DYNAMIC, no section headers */
};

struct sfemu_elf_sym {
    uint64_t addr; /* link-time vaddr (Thumb bit cleared) */
    uint64_t size;
    const char *name;
    uint8_t type; /* STT_FUNC or STT_OBJECT */
};

struct sfemu_elf_seg {
    uint64_t vaddr, memsz, offset, filesz;
    uint32_t flags; /* PF_* */
};

struct sfemu_elf {
    int is64, big_endian, type, machine;
    enum sfemu_elf_source source;
    size_t nsyms;
    struct sfemu_elf_sym *syms; /* sorted by addr, one per address */
    char *names;                /* arena the syms' names point into */
    size_t nsegs;
    struct sfemu_elf_seg *segs; /* PT_LOAD in file order */
    uint64_t lo, hi;            /* [lowest vaddr, highest vaddr + memsz) */
};

/* Parses an ELF file: 0, -ENOEXEC (not ELF / malformed) or -errno. */
int sfemu_elf_load(const char *path, struct sfemu_elf **out);
/* The same from a buffer (copied from; the buffer may go away after). */
int sfemu_elf_load_mem(const void *data, size_t len, struct sfemu_elf **out);
void sfemu_elf_free(struct sfemu_elf *e);

/* The symbol with the highest addr <= vaddr, or NULL. */
const struct sfemu_elf_sym *sfemu_elf_lookup(const struct sfemu_elf *e,
                                             uint64_t vaddr);
/* A symbol by exact name (linear: for tests and tools), or NULL. */
const struct sfemu_elf_sym *sfemu_elf_find(const struct sfemu_elf *e,
                                           const char *name);

/*
 * The load bias of a mapping of this file: a mapping at start whose first
 * byte is file offset off.  Uses the first PT_LOAD (file order) whose file
 * range holds off.  0, or -ENOENT when no segment holds it.
 */
int sfemu_elf_bias(const struct sfemu_elf *e, uint64_t start, uint64_t off,
                   uint64_t *bias);

/*
 * Formats a run-time address of a module loaded at bias:
 *   "mod!sym+0xoff"  (or "mod!sym" at offset 0) when a symbol precedes it
 *                    within max_bytes (max_bytes < 0: within the symbol's
 *                    st_size, or 4096 bytes if the size is 0);
 *   "mod+0xvaddr"    otherwise (vaddr = addr - bias, as objdump shows it).
 * 0 when a symbol was used, -ENOENT for the "mod+0x" form.
 */
int sfemu_elf_format(const struct sfemu_elf *e, const char *mod, uint64_t bias,
                     uint64_t addr, int64_t max_bytes, char *out, size_t cap);

#define SFEMU_ELF_DEFAULT_MAX 4096

#endif
