/*
 * Guest registers by name: gdbstub's names, plus the MIPS o32 ABI names for
 * r0..r31; values in the guest's byte order.  Shared by c_get_reg/c_set_reg
 * and the watchdog's reports.
 */
#include <errno.h>
#include <string.h>

#include "core/regs.h"
#include "core/runtime.h"

static const char *const mips_abi[32] = {
    "zero", "at", "v0", "v1", "a0", "a1", "a2", "a3", "t0", "t1", "t2",
    "t3",   "t4", "t5", "t6", "t7", "s0", "s1", "s2", "s3", "s4", "s5",
    "s6",   "s7", "t8", "t9", "k0", "k1", "gp", "sp", "fp", "ra"
};

int sfemu_reg_num(const char *want)
{
    const struct sfemu_host_ops *ops = sfemu_rt.ops;
    int n = ops->reg_count();

    for (int i = 0; i < n; i++) {
        int num;
        const char *name, *feature;
        if (ops->reg_info(i, &num, &name, &feature) == 0 && name &&
            !strcmp(name, want)) {
            return num;
        }
    }
    if (!strncmp(sfemu_rt.t->arch, "mips", 4)) {
        for (int i = 0; i < 32; i++) {
            if (!strcmp(want, mips_abi[i])) {
                return i;
            }
        }
    }
    return -1;
}

uint64_t sfemu_reg_bytes_to_u64(const uint8_t *b, int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++) {
        v = (v << 8) | b[sfemu_rt.t->big_endian ? i : n - 1 - i];
    }
    return v;
}

int sfemu_reg_u64(int regnum, uint64_t *v)
{
    uint8_t b[REG_MAX];
    int n = sfemu_rt.ops->reg_read(regnum, b, sizeof(b));

    if (n <= 0 || n > 8) {
        return n < 0 ? n : -EINVAL;
    }
    *v = sfemu_reg_bytes_to_u64(b, n);
    return 0;
}
