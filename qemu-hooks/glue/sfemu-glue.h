/*
 * SFEmu glue: the QEMU side of the hook runtime (see qemu-hooks/ in SFEmu).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef LINUX_USER_SFEMU_GLUE_H
#define LINUX_USER_SFEMU_GLUE_H

#include "qemu/plugin.h"
#include "sfemu-host.h"   /* sfemu_hooked(), checked at the call site */

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

void sfemu_handle_arg_rules(const char *arg);
void sfemu_handle_arg_ctx_keep(const char *arg);
void sfemu_handle_arg_idle_ms(const char *arg);
void sfemu_handle_arg_shadowstack(const char *arg);
void sfemu_handle_arg_sfanalysis(const char *arg);
void sfemu_handle_arg_root_mode(const char *arg);

#define SFEMU_ARG_TABLE_ENTRIES                                               \
    {"rules",      "QEMU_RULES",       true,  sfemu_handle_arg_rules,         \
     "dir",        "SFEmu: run Lua syscall rules from 'dir'"},                \
    {"rules-ctx-keep", "QEMU_RULES_CTX_KEEP", true, sfemu_handle_arg_ctx_keep,\
     "n",          "SFEmu: keep the last 'n' syscalls per thread"},           \
    {"rules-idle-ms", "QEMU_RULES_IDLE_MS", true, sfemu_handle_arg_idle_ms,   \
     "ms",         "SFEmu: idle watchdog period in milliseconds"},            \
    {"shadowstack", "QEMU_SHADOWSTACK", true, sfemu_handle_arg_shadowstack,   \
     "opts",                                                                  \
                   "SFEmu: shadow stack: log=on|off,summary=on|off,unwind_limit=N,max_stack=N"}, \
    {"sfanalysis", "QEMU_SFANALYSIS",  true,  sfemu_handle_arg_sfanalysis,    \
     "outdir",     "SFEmu: write a run analysis to 'outdir'"},                \
    {"root-mode",  "QEMU_ROOT_MODE",   true,  sfemu_handle_arg_root_mode,     \
     "true|prefix", "SFEmu: how -L applies (default: true with -rules)"},

#endif
