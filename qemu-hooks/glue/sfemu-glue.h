/*
 * SFEmu glue: the QEMU side of the hook runtime (see qemu-hooks/ in SFEmu).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef LINUX_USER_SFEMU_GLUE_H
#define LINUX_USER_SFEMU_GLUE_H

#include "qemu/plugin.h"
#include "sfemu-host.h" /* sfemu_hooked(), checked at the call site */
#include "sfemu-options.h"

typedef abi_long (*sfemu_syscall1_fn)(CPUArchState *cpu_env, int num,
                                      abi_long arg1, abi_long arg2,
                                      abi_long arg3, abi_long arg4,
                                      abi_long arg5, abi_long arg6,
                                      abi_long arg7, abi_long arg8);

/* Nonzero once the runtime asked for syscalls to be hooked. */
extern bool sfemu_hooks_enabled;

abi_long sfemu_syscall(CPUArchState *cpu_env, int num, abi_long arg1,
                       abi_long arg2, abi_long arg3, abi_long arg4,
                       abi_long arg5, abi_long arg6, abi_long arg7,
                       abi_long arg8, sfemu_syscall1_fn real);
void sfemu_init(CPUArchState *env, const char *ld_prefix);
void sfemu_fatal_signal(CPUArchState *env, int target_sig);
void sfemu_add_plugins(QemuPluginList *head);
/* The CPU model the runtime picks from the guest ELF when -cpu is absent,
 * or NULL for QEMU's own default. */
const char *sfemu_cpu_model(int execfd, const char *ld_prefix);

/* One handler per SFEmu command-line option (sfemu-options.h). */
#define SFEMU_GLUE_HANDLER_DECL(id, ...) \
    void sfemu_handle_arg_##id(const char *arg);
#define SFEMU_GLUE_NONE(...)
SFEMU_OPTIONS(SFEMU_GLUE_HANDLER_DECL, SFEMU_GLUE_NONE)

/* Rows of QEMU's own argument table (main.c), with their QEMU_* twins. */
#define SFEMU_GLUE_ARG_ROW(id, name, qemu_env, env, type, min, max, def, \
                           argname, help, lua)                           \
    { name, qemu_env, true, sfemu_handle_arg_##id, argname, "SFEmu: " help },
#define SFEMU_ARG_TABLE_ENTRIES \
    SFEMU_OPTIONS(SFEMU_GLUE_ARG_ROW, SFEMU_GLUE_NONE)

#endif
