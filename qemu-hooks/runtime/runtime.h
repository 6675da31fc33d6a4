/*
 * Internal header of the SFEmu hook runtime: the process-wide state every
 * part of the runtime reads.  The glue talks to us through sfemu/host.h only.
 */
#ifndef SFEMU_RUNTIME_H
#define SFEMU_RUNTIME_H

#include <stdint.h>
#include "sfemu/host.h"

enum sfemu_root_mode { SFEMU_ROOT_DEFAULT, SFEMU_ROOT_TRUE, SFEMU_ROOT_PREFIX };

struct sfemu_options {
    const char *rules_dir;      /* -rules (absolute, NULL = rules off) */
    long ctx_keep;              /* -rules-ctx-keep */
    long idle_ms;               /* -rules-idle-ms (0 = off) */
    struct {
        int log, summary;       /* -shadowstack log=on|off,summary=on|off */
        long unwind_limit, max_stack;
        int given;
    } shadowstack;
    const char *sfanalysis;     /* -sfanalysis OUTDIR */
    enum sfemu_root_mode root_mode;
};

struct sfemu_runtime {
    const struct sfemu_target *t;
    const struct sfemu_host_ops *ops;
    struct sfemu_options opt;
    int active;                 /* rules loaded */
};

extern struct sfemu_runtime sfemu_rt;

/* Sign-extend/truncate a Lua or host value to the guest's abi_long. */
static inline int64_t sfemu_abi_long(int64_t v)
{
    return sfemu_rt.t && sfemu_rt.t->abi_bits == 32 ? (int64_t)(int32_t)v : v;
}

/* A guest address from a (possibly sign-extended) abi_long. */
static inline uint64_t sfemu_guest_addr(int64_t v)
{
    return sfemu_rt.t && sfemu_rt.t->abi_bits == 32 ? (uint64_t)(uint32_t)v
                                                    : (uint64_t)v;
}

#endif
