/* Guest registers by name (regs.c). */
#ifndef SFEMU_REGS_H
#define SFEMU_REGS_H

#include <stdint.h>

#define REG_MAX 64 /* bytes: the largest vector register */

/* gdb register number of a name ("pc", "sp", "lr", MIPS "a0"/"ra"...) or -1. */
int sfemu_reg_num(const char *name);
/* A register of the calling guest thread as an integer: 0 or -errno. */
int sfemu_reg_u64(int regnum, uint64_t *v);
/* Register bytes (guest byte order, n <= 8) as an integer. */
uint64_t sfemu_reg_bytes_to_u64(const uint8_t *b, int n);

#endif
