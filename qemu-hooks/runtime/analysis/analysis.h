/*
 * -sfanalysis OUTDIR: guest ELF symbols (main binary and shared libraries at
 * their load addresses) for c_resolve_addr, and the run's record (syscall
 * statistics, files and devices opened with outcomes, missing paths,
 * sockets bound, triggers) written as JSON plus a readable summary.
 */
#ifndef SFEMU_ANALYSIS_H
#define SFEMU_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>
#include "sfemu/host.h"

/* With -sfanalysis: registers the record as a syscall observer. */
void sfemu_analysis_init(void);
/* A watchdog trigger, for the record ("deadloop", "exit", "signal" ...). */
void sfemu_analysis_trigger(const char *kind, const char *detail);
/* A fake resource the rules made (c_fake_init): once per path. */
void sfemu_analysis_fake_made(const char *path, const char *kind);
/* A listening socket, for the record: asked and got as "addr:port". */
void sfemu_analysis_listen(const char *proto, const char *asked,
                           const char *got);
/* The process is ending (exit_group, last exit, fatal signal): write OUTDIR. */
void sfemu_analysis_finish(const char *why);
/*
 * "lib!symbol+0xoff" for a guest address (symbols are loaded lazily from the
 * guest's mappings; works without -sfanalysis too).  0, or -ENOENT with
 * "lib+0xoff" or the bare address in out.
 */
int sfemu_syms_resolve(uint64_t guest_addr, char *out, size_t cap);
/*
 * The same with a cut-off: "symbol+off" only while off <= max_bytes
 * (max_bytes < 0: inside the symbol's st_size, or 4096 when it has none);
 * beyond it "lib+0xoff", off being the link-time address (addr - bias).
 */
int sfemu_syms_resolve_max(uint64_t guest_addr, int64_t max_bytes, char *out,
                           size_t cap);
/*
 * A host address (QEMU's own code or a host library): the file's .symtab
 * through /proc/self/maps, then dladdr(); "file+0xoff", or "host+0x..." when
 * no mapping holds it.  0 when a symbol was used, else -ENOENT.
 */
int sfemu_host_resolve(const void *addr, int64_t max_bytes, char *out,
                       size_t cap);

#endif
