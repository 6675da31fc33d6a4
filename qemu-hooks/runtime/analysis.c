/* -sfanalysis and guest symbols (being written; see analysis.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "analysis.h"

void sfemu_analysis_init(void)
{
}

int sfemu_analysis_wants_all(void)
{
    return 0;
}

void sfemu_analysis_syscall(int num, const int64_t a[SFEMU_NARGS], int64_t ret)
{
    (void)num;
    (void)a;
    (void)ret;
}

void sfemu_analysis_trigger(const char *kind, const char *detail)
{
    (void)kind;
    (void)detail;
}

void sfemu_analysis_finish(const char *why)
{
    (void)why;
}

int sfemu_syms_resolve(uint64_t guest_addr, char *out, size_t cap)
{
    snprintf(out, cap, "0x%" PRIx64, guest_addr);
    return -ENOENT;
}
