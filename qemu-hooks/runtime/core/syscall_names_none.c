/* Without the QEMU source (-Dqemu=false) there are no guest name tables. */
#include "core/syscall_names.h"

const struct sfemu_syscall_table sfemu_syscall_tables[] = {
    { 0, 0, 0, 0 },
};
