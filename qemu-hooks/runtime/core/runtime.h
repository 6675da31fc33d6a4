/*
 * Internal header of the SFEmu hook runtime: the process-wide facts every
 * part of the runtime reads.  The glue talks to us through sfemu/host.h only;
 * settings are in core/options.h.
 */
#ifndef SFEMU_RUNTIME_H
#define SFEMU_RUNTIME_H

#include <stdint.h>
#include "sfemu/host.h"

struct sfemu_runtime {
    const struct sfemu_target *t;
    const struct sfemu_host_ops *ops;
    int active; /* rules loaded */
    /* The guest's name of its program (sfemu.exec_path): the file in the
     * root, as a guest path, under the true root; QEMU's name otherwise. */
    const char *exec_path;
    /* The name a guest's execve gave for it (a script's own name when an
     * interpreter runs it), or NULL: not started by a guest exec. */
    const char *exec_name;
    int execs; /* guest execs this pid made before this program */
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
