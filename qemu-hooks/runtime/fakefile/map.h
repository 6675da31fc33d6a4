/*
 * mmap of a fake resource, emulated (docs/fakefile.md "mmap"): the guest
 * gets an anonymous private mapping filled with the bytes the state machine
 * serves (FAKEFS_MMAP); a shared writable one is remembered, and what the
 * guest changed in it goes back as writes at msync and munmap.  Results are
 * guest values: an address, or -errno with the guest's errno numbers.
 */
#ifndef SFEMU_FAKE_MAP_H
#define SFEMU_FAKE_MAP_H

#include <stdint.h>

/* Bytes of a page and the unit of mmap2's offset on ARM and MIPS o32. */
#define SFEMU_MAP_PAGE 4096u

/* mmap of fake fd fd (off in bytes). */
int64_t sfemu_fake_mmap(int fd, uint64_t addr, uint64_t len, int prot,
                        int flags, uint64_t off);

/* Whether a shared fake mapping exists (one atomic load). */
int sfemu_fake_maps_live(void);

/* [addr, addr + len) is synced (msync) or goes away (gone: munmap, or an
 * mmap with MAP_FIXED over it): the changed bytes of the fake mappings it
 * overlaps go back to their resources; gone drops that part of them. */
void sfemu_fake_map_sync(uint64_t addr, uint64_t len, int gone);

/* This process wrote to path, read it or sent it an ioctl: its read-only
 * shared mappings are served again (FAKEFS_MMAP), so they show the state.
 * One atomic load when there are none. */
void sfemu_fake_map_refresh(const char *path);

#endif
