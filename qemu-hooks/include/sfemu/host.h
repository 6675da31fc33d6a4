/*
 * The narrow interface between the QEMU side (sfemu-glue.c, compiled inside
 * QEMU per target) and the SFEmu hook runtime (our static library, target
 * independent).  Nothing here includes QEMU headers: guest values travel as
 * int64_t (sign-extended abi_long), guest addresses as uint64_t.
 */
#ifndef SFEMU_HOST_H
#define SFEMU_HOST_H

#include <stddef.h>
#include <stdint.h>

#define SFEMU_NARGS 8

/* Facts about the guest, filled once by the glue. */
struct sfemu_target {
    const char *arch; /* "arm", "armeb", "mips", "mipsel", "aarch64", ... */
    int abi_bits;     /* 32 or 64 */
    int big_endian;   /* guest byte order */
    int o_creat, o_excl, o_nofollow, o_directory, o_path; /* guest open flags */
    int o_trunc, o_tmpfile;
    const char *exec_path;           /* QEMU's name of the guest program */
    const char *real_exec_path;      /* its host path, symlinks resolved */
    const char *ld_prefix;           /* -L directory or NULL */
    const char *cpu_model;           /* the running CPU model ("74Kf", "max") */
    int sig_chld;                    /* guest SIGCHLD */
    int sol_socket, so_bindtodevice; /* guest SOL_SOCKET, SO_BINDTODEVICE */
};

/* Services the glue gives the runtime; all act on the calling guest thread. */
struct sfemu_host_ops {
    /* The real syscall (QEMU's do_syscall1): no rules, guest semantics. */
    int64_t (*real_syscall)(int num, const int64_t args[SFEMU_NARGS]);
    /* Guest memory; 0 or -EFAULT (host errno value), never a host fault. */
    int (*read_mem)(uint64_t gaddr, void *buf, size_t len);
    int (*write_mem)(uint64_t gaddr, const void *buf, size_t len);
    /* Guest string up to max bytes (without NUL): length, or -EFAULT. */
    long (*read_str)(uint64_t gaddr, char *buf, size_t max);
    void *(*g2h)(uint64_t gaddr);
    int (*h2g)(const void *host, uint64_t *gaddr); /* 0 or -EFAULT */
    /* Anonymous guest memory for the runtime's own scratch use. */
    uint64_t (*guest_alloc)(size_t len);
    /* Registers, as gdbstub describes them. */
    int (*reg_count)(void);
    int (*reg_info)(int idx, int *regnum, const char **name,
                    const char **feature);
    int (*reg_read)(int regnum, uint8_t *buf, size_t cap); /* size or -errno */
    int (*reg_write)(int regnum, const uint8_t *buf,
                     size_t len); /* size or -errno */
    /* Host errno -> guest errno (positive numbers). */
    int (*errno_to_guest)(int host_errno);
    /* Guest thread id. */
    int (*gettid)(void);
    /* The guest pc, cheaply (no gdbstub round trip): for the context ring. */
    uint64_t (*get_pc)(void);
    /* QEMU's vCPU index of the calling guest thread (the plugins' index). */
    int (*cpu_index)(void);
    /* Guest memory regions with their backing files, as the guest's
     * /proc/self/maps shows them (prot: PROT_* bits; path may be ""). */
    void (*guest_maps)(void (*cb)(void *opaque, uint64_t start, uint64_t end,
                                  int prot, uint64_t offset, const char *path),
                       void *opaque);
    /* openat2(2) run as QEMU runs the guest's open: the guest's open flags
     * translated to the host's (host_flags or'ed in as they are), signal-safe
     * (QEMU_ERESTARTSYS), any stale fd translator of the new fd dropped.
     * The new fd or -host errno.  For the true root. */
    int (*openat2)(int dirfd, const char *path, uint64_t guest_flags,
                   int host_flags, uint64_t mode, uint64_t resolve);
    /* Turns QEMU's own -L lookup (path()) off from now on: the true root
     * resolves every guest path itself and hands QEMU names -L must not
     * map a second time. */
    void (*prefix_off)(void);
    /* Points the guest's AT_EXECFN at a copy of name (before the guest
     * runs): 0 or -host errno. */
    int (*set_execfn)(const char *name);
};

/*
 * Which syscalls need the runtime at all: the patched do_syscall looks here
 * first and calls do_syscall1 directly (inlined, as stock) for the rest, so a syscall without a rule
 * costs a byte load.  Kept current by the runtime's rules watcher.
 */
struct sfemu_hook_map {
    int base; /* first syscall number of the table */
    int count;
    volatile uint8_t *map; /* map[num - base]: nonzero = hooked */
    volatile int all;      /* entry.lua/finish.lua: every syscall */
};
extern struct sfemu_hook_map sfemu_hook_map;

static inline int sfemu_hooked(int num)
{
    unsigned idx = (unsigned)(num - sfemu_hook_map.base);

    return sfemu_hook_map.all ||
           (idx < (unsigned)sfemu_hook_map.count && sfemu_hook_map.map[idx]);
}

/* Runtime entry points used by the glue. */

/* Command-line options; a bad value prints a clear error and exits. */
void sfemu_rt_option(const char *name, const char *value);
/* After the guest is loaded; returns nonzero if syscalls must be hooked. */
int sfemu_rt_init(const struct sfemu_target *t,
                  const struct sfemu_host_ops *ops);
/* One guest syscall, around the real one. */
int64_t sfemu_rt_syscall(int num, const int64_t args[SFEMU_NARGS]);
/* Plugin options to load before the guest starts ("file=...,arg"), or NULL;
 * plugins_built: whether this QEMU can load plugins at all. */
const char *sfemu_rt_plugin_opts(int plugins_built);
/* A fatal guest signal is about to end the process (guest signal number). */
void sfemu_rt_fatal_signal(int guest_sig);
/* Before the CPU exists, when -cpu is absent: the model to run the guest ELF
 * open on fd (read with pread), or NULL for QEMU's default.  ld_prefix: -L,
 * where the ELF's interpreter is looked up. */
const char *sfemu_rt_cpu_model(int fd, const char *ld_prefix);

#endif
