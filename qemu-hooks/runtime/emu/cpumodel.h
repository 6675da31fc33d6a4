/*
 * The CPU model from the guest ELF (docs/emulator.md, "CPU model"): when
 * -cpu is absent and -cpu-auto is on, QEMU asks sfemu_rt_cpu_model (host.h)
 * before its own default.  The rule: the richest model of the binary's ISA
 * family, so that every instruction the family allows runs (a DSPr2 binary
 * on MIPS32r2 gets 74Kf, not QEMU's 24Kf), read from e_flags,
 * .MIPS.abiflags / PT_MIPS_ABIFLAGS and .ARM.attributes of the program and
 * of its interpreter.
 */
#ifndef SFEMU_CPUMODEL_H
#define SFEMU_CPUMODEL_H

/* Logs the choice made before the log existed (once, at start-up). */
void sfemu_cpumodel_log(void);
/* Whether the model was given (-cpu, QEMU_CPU) rather than chosen. */
int sfemu_cpumodel_given(void);

#endif
