/*
 * Bounds-checked reads of an ELF file in memory, in its own class and byte
 * order: a read outside the file records a failure (r->bad) and yields 0
 * instead of faulting, since firmware files are untrusted input.  Shared by
 * the symbol tables (elfsyms.c) and the CPU model choice (emu/cpumodel.c).
 */
#ifndef SFEMU_ELFREAD_H
#define SFEMU_ELFREAD_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

struct rd {
    const uint8_t *p;
    size_t len;
    int is64, big, bad;
};

static inline uint64_t rd_get(struct rd *r, uint64_t off, size_t n)
{
    uint64_t v = 0;

    if (off > r->len || n > r->len - off) {
        r->bad = 1;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        size_t k = r->big ? i : n - 1 - i;
        v = (v << 8) | r->p[off + k];
    }
    return v;
}

/* A field of an ELF structure at base, in the file's class and byte order. */
#define MEMBER_SIZE(T, f) sizeof(((T *)0)->f)
#define F(r, base, T, f)                                    \
    ((r)->is64 ? rd_get(r, (base) + offsetof(Elf64_##T, f), \
                        MEMBER_SIZE(Elf64_##T, f))          \
               : rd_get(r, (base) + offsetof(Elf32_##T, f), \
                        MEMBER_SIZE(Elf32_##T, f)))
#define SZ(r, T) ((r)->is64 ? sizeof(Elf64_##T) : sizeof(Elf32_##T))

#endif
