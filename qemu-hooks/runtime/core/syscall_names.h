/* Guest syscall names per architecture (generated from QEMU's tables). */
#ifndef SFEMU_SYSCALL_NAMES_H
#define SFEMU_SYSCALL_NAMES_H

struct sfemu_syscall_table {
    const char *arch;
    int base; /* first number (4000 on MIPS o32) */
    int count;
    const char *const *names; /* names[num - base], NULL for holes */
};

extern const struct sfemu_syscall_table sfemu_syscall_tables[];

/* Select the table of the running guest; 0 or -ENOENT. */
int sfemu_syscall_names_init(const char *arch);
/* Name of a guest syscall number, or NULL. */
const char *sfemu_syscall_name(int num);
/* Number of a guest syscall name, or -1. */
int sfemu_syscall_num(const char *name);
/* Table bounds of the running guest: [base, base + count). */
int sfemu_syscall_base(void);
int sfemu_syscall_count(void);

#endif
