/*
 * Unit test of elfsyms.c against real cross-compiled ELF files (meson builds
 * them from elfsyms_sample.c and passes their paths): ELF32/ELF64, little
 * and big endian, executables and shared libraries, .symtab, .dynsym only
 * (gcc -s), no section headers at all (sstrip, simulated here), Thumb, and
 * corrupted input (run under ASan/UBSan: no read outside the buffer).
 * The file name says the kind: "lib*.so" a shared library, "*-pie" a
 * position-independent executable, others an executable linked -no-pie.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/elfsyms.h"

static int fails, checks;

#define CHECK(cond, ...)                                           \
    do {                                                           \
        checks++;                                                  \
        if (!(cond)) {                                             \
            fails++;                                               \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            printf(__VA_ARGS__);                                   \
            printf("\n");                                          \
        }                                                          \
    } while (0)

static uint8_t *slurp(const char *path, size_t *len)
{
    struct stat st;
    uint8_t *buf;
    int fd = open(path, O_RDONLY);

    if (fd < 0 || fstat(fd, &st) != 0) {
        return NULL;
    }
    buf = malloc(st.st_size);
    if (buf && read(fd, buf, st.st_size) != st.st_size) {
        free(buf);
        buf = NULL;
    }
    close(fd);
    *len = st.st_size;
    return buf;
}

/* Removes the section headers as sstrip does: only PT_DYNAMIC is left. */
static void drop_sections(uint8_t *b, int is64, int big)
{
    size_t shoff = is64 ? 40 : 32, shnum = is64 ? 60 : 48;

    memset(b + shoff, 0, is64 ? 8 : 4);
    memset(b + shnum, 0, 4); /* e_shnum and e_shstrndx */
    (void)big;
}

static void check_func(const struct sfemu_elf *e, const char *label)
{
    const struct sfemu_elf_sym *f = sfemu_elf_find(e, "sfemu_sample_func");
    char out[256], want[256];

    CHECK(f != NULL, "%s: sfemu_sample_func not found", label);
    if (!f) {
        return;
    }
    CHECK(f->type == STT_FUNC, "%s: type %d", label, f->type);
    CHECK((f->addr & 1) == 0, "%s: ISA bit not cleared: 0x%" PRIx64, label,
          f->addr);
    CHECK(f->size >= 8, "%s: size %" PRIu64, label, f->size);
    CHECK(sfemu_elf_lookup(e, f->addr) == f, "%s: lookup at start", label);
    CHECK(sfemu_elf_lookup(e, f->addr + 4) == f, "%s: lookup inside", label);

    /* As loaded at a bias of 0x40000000 (a library) or 0 (an executable). */
    uint64_t bias = e->type == ET_DYN ? 0x40000000 : 0;
    CHECK(sfemu_elf_format(e, "m", bias, bias + f->addr, -1, out,
                           sizeof(out)) == 0 &&
              !strcmp(out, "m!sfemu_sample_func"),
          "%s: format at start: %s", label, out);
    snprintf(want, sizeof(want), "m!sfemu_sample_func+0x4");
    CHECK(sfemu_elf_format(e, "m", bias, bias + f->addr + 4, 16, out,
                           sizeof(out)) == 0 &&
              !strcmp(out, want),
          "%s: format +4: %s", label, out);
    /* max_bytes is the cut-off: beyond it, the link-time address. */
    snprintf(want, sizeof(want), "m+0x%" PRIx64, f->addr + 4);
    CHECK(sfemu_elf_format(e, "m", bias, bias + f->addr + 4, 3, out,
                           sizeof(out)) == -ENOENT &&
              !strcmp(out, want),
          "%s: format beyond max: %s (want %s)", label, out, want);
}

/* A load either gives a result or fails cleanly: -errno and no result. */
static int clean_load(int rc, const struct sfemu_elf *e)
{
    return (rc == 0 && e != NULL) || (rc < 0 && rc > -4096 && e == NULL);
}

static void check_file(const char *path)
{
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int want64 = strstr(name, "aarch64") || strstr(name, "host");
    int wantbig = strstr(name, "mips") != NULL;
    int stripped = strstr(name, "stripped") != NULL;
    int lib = strstr(name, ".so") != NULL;
    int pie = strstr(name, "-pie") != NULL;
    struct sfemu_elf *e = NULL;
    const struct sfemu_elf_sym *s;
    size_t len;
    uint8_t *buf;
    int rc;

    printf("# %s\n", name);
    rc = sfemu_elf_load(path, &e);
    CHECK(rc == 0 && e, "%s: load rc=%d", name, rc);
    if (!e) {
        return;
    }
    CHECK(e->is64 == want64, "%s: is64=%d", name, e->is64);
    CHECK(e->big_endian == wantbig, "%s: big=%d", name, e->big_endian);
    CHECK(e->type == (lib || pie ? ET_DYN : ET_EXEC), "%s: type %d", name,
          e->type);
    CHECK(e->nsegs >= 2 && e->hi > e->lo, "%s: segments", name);
    CHECK(e->source == (stripped ? SFEMU_ELF_DYNSYM : SFEMU_ELF_SYMTAB),
          "%s: source %d", name, e->source);
    for (size_t i = 1; i < e->nsyms; i++) {
        CHECK(e->syms[i - 1].addr < e->syms[i].addr, "%s: sorted, unique",
              name);
    }
    check_func(e, name);
    s = sfemu_elf_find(e, "sfemu_sample_table");
    CHECK(s && s->type == STT_OBJECT && s->size == 64 * 4,
          "%s: sfemu_sample_table", name);
    s = sfemu_elf_find(e, "sample_static");
    CHECK(stripped ? s == NULL : s != NULL && s->type == STT_FUNC,
          "%s: static function %s", name, stripped ? "hidden" : "in .symtab");
    if (strstr(name, "thumb")) {
        CHECK(e->machine == EM_ARM, "%s: machine", name);
    }
    if (lib) {
        /* The first mapping of a library: file offset 0 at its load address. */
        uint64_t bias = 0;
        CHECK(sfemu_elf_bias(e, 0x40000000 + e->segs[0].vaddr, 0, &bias) == 0 &&
                  bias == 0x40000000,
              "%s: bias 0x%" PRIx64, name, bias);
    }
    sfemu_elf_free(e);

    buf = slurp(path, &len);
    CHECK(buf != NULL, "%s: read", name);
    if (!buf) {
        return;
    }
    if (lib) {
        /* sstrip: no section headers; symbols from PT_DYNAMIC. */
        uint8_t *b = malloc(len);
        memcpy(b, buf, len);
        drop_sections(b, want64, wantbig);
        rc = sfemu_elf_load_mem(b, len, &e);
        CHECK(rc == 0 && e && e->source == SFEMU_ELF_DYNAMIC,
              "%s: sstripped source %d", name, e ? (int)e->source : -1);
        if (e) {
            check_func(e, "sstripped");
            CHECK(sfemu_elf_find(e, "sfemu_sample_table") != NULL,
                  "%s: sstripped object", name);
        }
        sfemu_elf_free(e);
        free(b);
    }
    /* Truncations and corruptions: clean failure or a result, never a crash
     * (ASan reports any read outside the buffer). */
    int loads = 0, unclean = 0;
    for (size_t cut = 0; cut < len; cut += len / 37 + 1) {
        uint8_t *b = malloc(cut ? cut : 1);
        memcpy(b, buf, cut);
        rc = sfemu_elf_load_mem(b, cut, &e);
        loads++;
        unclean += !clean_load(rc, e);
        if (cut < EI_NIDENT) {
            CHECK(rc == -ENOEXEC, "%s: %zu bytes: rc=%d", name, cut, rc);
        }
        if (rc == 0) {
            sfemu_elf_free(e);
        }
        free(b);
    }
    srand(1234);
    for (int round = 0; round < 200; round++) {
        uint8_t *b = malloc(len);
        memcpy(b, buf, len);
        for (int k = 0; k < 16; k++) {
            /* Mostly the headers, where the offsets and counts live. */
            size_t at = k < 8 ? (size_t)rand() % (len < 256 ? len : 256)
                              : (size_t)rand() % len;
            b[at] = (uint8_t)rand();
        }
        rc = sfemu_elf_load_mem(b, len, &e);
        loads++;
        unclean += !clean_load(rc, e);
        if (rc == 0) {
            for (int q = 0; q < 32; q++) {
                char out[128];
                sfemu_elf_format(e, "x", 0, (uint64_t)rand() * 4099, -1, out,
                                 sizeof(out));
            }
            sfemu_elf_free(e);
        }
        free(b);
    }
    CHECK(unclean == 0,
          "%s: %d of %d truncated or corrupted loads neither failed cleanly "
          "nor gave a result",
          name, unclean, loads);
    free(buf);
}

int main(int argc, char **argv)
{
    struct sfemu_elf *e;
    static const char junk[] = "#!/bin/sh\necho not an ELF\n";

    CHECK(sfemu_elf_load_mem(junk, sizeof(junk), &e) == -ENOEXEC && !e,
          "not ELF");
    CHECK(sfemu_elf_load("/nonexistent/file", &e) == -ENOENT, "missing file");
    CHECK(sfemu_elf_lookup(NULL, 0) == NULL, "lookup without a file");
    CHECK(argc >= 2, "sample ELF files to read (meson passes them)");
    for (int i = 1; i < argc; i++) {
        check_file(argv[i]);
    }
    printf("# %d checks, %d failed\n", checks, fails);
    return fails != 0;
}
