/*
 * SFEmu glue: gives the SFEmu hook runtime (a target-independent static
 * library) guest memory, registers and the real syscall, and routes the
 * SFEmu command-line options to it.  Everything else lives in the runtime.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu.h"
#include "user-internals.h"
#include "user-mmap.h"
#include "exec/gdbstub.h"
#include "qemu/selfmap.h"
#include "exec/page-protection.h"
#include "user/page-protection.h"
#include "target_fcntl.h"
#include "fd-trans.h"
#include "elf.h"
#include "qemu/path.h"
#include "user/safe-syscall.h"
#include <linux/unistd.h>
#include "sfemu-glue.h"
#include "sfemu-host.h"

bool sfemu_hooks_enabled;

static sfemu_syscall1_fn sfemu_real;
static __thread CPUArchState *sfemu_env;
static GArray *sfemu_regs;

static int64_t glue_real_syscall(int num, const int64_t a[SFEMU_NARGS])
{
    return (abi_long)sfemu_real(sfemu_env, num, a[0], a[1], a[2], a[3], a[4],
                                a[5], a[6], a[7]);
}

static int glue_read_mem(uint64_t gaddr, void *buf, size_t len)
{
    if (gaddr != (abi_ulong)gaddr || copy_from_user(buf, gaddr, len)) {
        return -EFAULT;
    }
    return 0;
}

static int glue_write_mem(uint64_t gaddr, const void *buf, size_t len)
{
    if (gaddr != (abi_ulong)gaddr || copy_to_user(gaddr, (void *)buf, len)) {
        return -EFAULT;
    }
    return 0;
}

static long glue_read_str(uint64_t gaddr, char *buf, size_t max)
{
    size_t n = 0;

    if (gaddr != (abi_ulong)gaddr) {
        return -EFAULT;
    }
    /* Page by page, so a string ending just before unmapped memory works. */
    while (n < max) {
        abi_ulong a = gaddr + n;
        size_t chunk = TARGET_PAGE_SIZE - (a & ~TARGET_PAGE_MASK);
        char *p, *nul;

        if (chunk > max - n) {
            chunk = max - n;
        }
        p = lock_user(VERIFY_READ, a, chunk, 1);
        if (!p) {
            return -EFAULT;
        }
        nul = memchr(p, 0, chunk);
        memcpy(buf + n, p, nul ? (size_t)(nul - p) : chunk);
        unlock_user(p, a, 0);
        if (nul) {
            return n + (nul - p);
        }
        n += chunk;
    }
    return n;
}

static void *glue_g2h(uint64_t gaddr)
{
    return g2h_untagged((abi_ulong)gaddr);
}

static int glue_h2g(const void *host, uint64_t *gaddr)
{
    if (!h2g_valid(host)) {
        return -EFAULT;
    }
    *gaddr = h2g(host);
    return 0;
}

static uint64_t glue_guest_alloc(size_t len)
{
    abi_long a = target_mmap(0, len, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return a < 0 && a > -4096 ? 0 : (abi_ulong)a;
}

#if defined(TARGET_MIPS)
/* MIPS has no core gdb XML in QEMU: name the core registers gdb's way. */
static void glue_add_core_regs(GArray *regs)
{
    static const char *const special[] = { "sr",       "lo",    "hi",
                                           "badvaddr", "cause", "pc" };
    static char names[72][10];
    GDBRegDesc d;

    for (int i = 0; i < 72; i++) {
        if (i < 32) {
            snprintf(names[i], sizeof(names[i]), "r%d", i);
        } else if (i < 38) {
            snprintf(names[i], sizeof(names[i]), "%s", special[i - 32]);
        } else if (i < 70) {
            snprintf(names[i], sizeof(names[i]), "f%d", i - 38);
        } else {
            snprintf(names[i], sizeof(names[i]), "%s",
                     i == 70 ? "fcsr" : "fir");
        }
        d.gdb_reg = i;
        d.name = names[i];
        d.feature_name =
            i < 38 ? "org.gnu.gdb.mips.cpu" : "org.gnu.gdb.mips.fpu";
        g_array_insert_val(regs, i, d);
    }
}
#endif

static int glue_reg_count(void)
{
    return sfemu_regs ? sfemu_regs->len : 0;
}

static int glue_reg_info(int idx, int *regnum, const char **name,
                         const char **feature)
{
    GDBRegDesc *d;

    if (!sfemu_regs || idx < 0 || idx >= (int)sfemu_regs->len) {
        return -EINVAL;
    }
    d = &g_array_index(sfemu_regs, GDBRegDesc, idx);
    *regnum = d->gdb_reg;
    *name = d->name;
    *feature = d->feature_name;
    return 0;
}

static int glue_reg_read(int regnum, uint8_t *buf, size_t cap)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    int n = gdb_read_register(env_cpu(sfemu_env), b, regnum);

    if (n <= 0) {
        return -EINVAL;
    }
    if ((size_t)n > cap) {
        return -ENOSPC;
    }
    memcpy(buf, b->data, n);
    return n;
}

static int glue_reg_write(int regnum, const uint8_t *buf, size_t len)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    int n = gdb_read_register(env_cpu(sfemu_env), b, regnum);

    if (n <= 0) {
        return -EINVAL;
    }
    if ((size_t)n != len) {
        return -ERANGE;
    }
    return gdb_write_register(env_cpu(sfemu_env), (uint8_t *)buf, regnum);
}

static int glue_errno_to_guest(int host_errno)
{
    errno = host_errno;
    return -get_errno(-1);
}

static uint64_t glue_get_pc(void)
{
    CPUArchState *env = sfemu_env;

#if defined(TARGET_AARCH64)
    return is_a64(env) ? env->pc : env->regs[15];
#elif defined(TARGET_ARM)
    return env->regs[15];
#elif defined(TARGET_MIPS)
    return env->active_tc.PC;
#else
    vaddr pc;
    uint64_t cs_base;
    uint32_t flags;

    cpu_get_tb_cpu_state(env, &pc, &cs_base, &flags);
    return pc;
#endif
}

static int glue_cpu_index(void)
{
    return env_cpu(sfemu_env)->cpu_index;
}

static int glue_gettid(void)
{
    return qemu_get_thread_id();
}

struct glue_maps {
    IntervalTreeRoot *host_maps;
    void (*cb)(void *, uint64_t, uint64_t, int, uint64_t, const char *);
    void *opaque;
};

/* One guest region, split where the host backing changes (as QEMU's own
 * /proc/self/maps emulation does). */
static int glue_maps_region(void *opaque, target_ulong gstart,
                            target_ulong gend, unsigned long flags)
{
    struct glue_maps *d = opaque;
    uintptr_t hstart = (uintptr_t)g2h_untagged(gstart);
    uintptr_t hlast = (uintptr_t)g2h_untagged(gend - 1);
    int prot = (flags & PAGE_READ ? PROT_READ : 0) |
               (flags & PAGE_WRITE_ORG ? PROT_WRITE : 0) |
               (flags & PAGE_EXEC ? PROT_EXEC : 0);

    while (d->host_maps) {
        IntervalTreeNode *n =
            interval_tree_iter_first(d->host_maps, hstart, hstart);
        MapInfo *mi;
        uintptr_t this_hlast;

        if (!n) {
            break;
        }
        mi = container_of(n, MapInfo, itree);
        this_hlast = MIN(hlast, n->last);
        d->cb(d->opaque, gstart, (uint64_t)h2g(this_hlast) + 1, prot,
              mi->offset + (hstart - n->start), mi->path ? mi->path : "");
        if (this_hlast == hlast) {
            return 0;
        }
        hstart = this_hlast + 1;
        gstart = h2g(hstart);
    }
    d->cb(d->opaque, gstart, gend, prot, 0, "");
    return 0;
}

static void glue_guest_maps(void (*cb)(void *, uint64_t, uint64_t, int,
                                       uint64_t, const char *),
                            void *opaque)
{
    struct glue_maps d = { .cb = cb, .opaque = opaque };

    mmap_lock();
    d.host_maps = read_self_maps();
    walk_memory_regions(&d, glue_maps_region);
    if (d.host_maps) {
        free_self_maps(d.host_maps);
    }
    mmap_unlock();
}

/* QEMU's fcntl_flags_tbl (static in syscall.c): guest open flags. */
static const bitmask_transtbl glue_open_flags[] = {
    { TARGET_O_ACCMODE, TARGET_O_WRONLY, O_ACCMODE, O_WRONLY },
    { TARGET_O_ACCMODE, TARGET_O_RDWR, O_ACCMODE, O_RDWR },
    { TARGET_O_CREAT, TARGET_O_CREAT, O_CREAT, O_CREAT },
    { TARGET_O_EXCL, TARGET_O_EXCL, O_EXCL, O_EXCL },
    { TARGET_O_NOCTTY, TARGET_O_NOCTTY, O_NOCTTY, O_NOCTTY },
    { TARGET_O_TRUNC, TARGET_O_TRUNC, O_TRUNC, O_TRUNC },
    { TARGET_O_APPEND, TARGET_O_APPEND, O_APPEND, O_APPEND },
    { TARGET_O_NONBLOCK, TARGET_O_NONBLOCK, O_NONBLOCK, O_NONBLOCK },
    { TARGET_O_SYNC, TARGET_O_DSYNC, O_SYNC, O_DSYNC },
    { TARGET_O_SYNC, TARGET_O_SYNC, O_SYNC, O_SYNC },
    { TARGET_FASYNC, TARGET_FASYNC, FASYNC, FASYNC },
    { TARGET_O_DIRECTORY, TARGET_O_DIRECTORY, O_DIRECTORY, O_DIRECTORY },
    { TARGET_O_NOFOLLOW, TARGET_O_NOFOLLOW, O_NOFOLLOW, O_NOFOLLOW },
    { TARGET_O_DIRECT, TARGET_O_DIRECT, O_DIRECT, O_DIRECT },
    { TARGET_O_NOATIME, TARGET_O_NOATIME, O_NOATIME, O_NOATIME },
    { TARGET_O_CLOEXEC, TARGET_O_CLOEXEC, O_CLOEXEC, O_CLOEXEC },
    { TARGET_O_PATH, TARGET_O_PATH, O_PATH, O_PATH },
    { TARGET_O_TMPFILE, TARGET_O_TMPFILE, O_TMPFILE, O_TMPFILE },
#if TARGET_O_LARGEFILE != 0 || O_LARGEFILE != 0
    { TARGET_O_LARGEFILE, TARGET_O_LARGEFILE, O_LARGEFILE, O_LARGEFILE },
#endif
};

static int glue_openat2(int dirfd, const char *path, uint64_t guest_flags,
                        int host_flags, uint64_t mode, uint64_t resolve)
{
    struct open_how_ver0 how = {
        .flags = target_to_host_bitmask(guest_flags, glue_open_flags) |
                 (unsigned)host_flags,
        .mode = mode,
        .resolve = resolve,
    };
    int fd = safe_syscall(__NR_openat2, dirfd, path, &how, sizeof(how));

    if (fd < 0) {
        return -errno;
    }
    fd_trans_unregister(fd);
    return fd;
}

/*
 * path() maps a name to base + name when that exists; with a base that is
 * a file, base + "/anything" never does (ENOTDIR), so every name passes.
 */
static void glue_prefix_off(void)
{
    init_paths("/proc/self/stat");
}

/*
 * The loader put the name QEMU was given on the guest stack and AT_EXECFN
 * in the auxv (info->saved_auxv, what /proc/self/auxv shows too): the new
 * name goes over the old one when it fits, else into a page of its own.
 */
static int glue_set_execfn(const char *name)
{
    struct image_info *info = get_task_state(env_cpu(sfemu_env))->info;
    size_t len = strlen(name) + 1;
    abi_ulong str = info->file_string, p;
    char *old = lock_user_string(str);
    bool fits = old && strlen(old) + 1 >= len;

    if (old) {
        unlock_user(old, str, 0);
    }
    if (!fits && !(str = glue_guest_alloc(len))) {
        return -ENOMEM;
    }
    if (copy_to_user(str, (void *)name, len)) {
        return -EFAULT;
    }
    for (p = info->saved_auxv;
         p + 2 * sizeof(abi_ulong) <= info->saved_auxv + info->auxv_len;
         p += 2 * sizeof(abi_ulong)) {
        abi_ulong type;

        if (get_user_ual(type, p)) {
            return -EFAULT;
        }
        if (type == AT_EXECFN) {
            return put_user_ual(str, p + sizeof(abi_ulong)) ? -EFAULT : 0;
        }
    }
    return -ENOENT;
}

static const struct sfemu_host_ops sfemu_ops = {
    .real_syscall = glue_real_syscall,
    .read_mem = glue_read_mem,
    .write_mem = glue_write_mem,
    .read_str = glue_read_str,
    .g2h = glue_g2h,
    .h2g = glue_h2g,
    .guest_alloc = glue_guest_alloc,
    .reg_count = glue_reg_count,
    .reg_info = glue_reg_info,
    .reg_read = glue_reg_read,
    .reg_write = glue_reg_write,
    .errno_to_guest = glue_errno_to_guest,
    .gettid = glue_gettid,
    .get_pc = glue_get_pc,
    .cpu_index = glue_cpu_index,
    .guest_maps = glue_guest_maps,
    .openat2 = glue_openat2,
    .prefix_off = glue_prefix_off,
    .set_execfn = glue_set_execfn,
};

void sfemu_add_plugins(QemuPluginList *head)
{
#ifdef CONFIG_PLUGIN
    const char *opts = sfemu_rt_plugin_opts(1);

    if (opts) {
        qemu_plugin_opt_parse(opts, head);
    }
#else
    sfemu_rt_plugin_opts(0);
#endif
}

const char *sfemu_cpu_model(int execfd, const char *ld_prefix)
{
    return sfemu_rt_cpu_model(execfd, ld_prefix);
}

/* The running model's name: "74Kf" from the class "74Kf-mips-cpu". */
static const char *glue_cpu_model(CPUState *cpu)
{
    static char name[64];
    const char *type = object_get_typename(OBJECT(cpu));
    size_t n = strlen(type), suffix = strlen("-" CPU_RESOLVING_TYPE);

    if (n > suffix && !strcmp(type + n - suffix, "-" CPU_RESOLVING_TYPE)) {
        n -= suffix;
    }
    snprintf(name, sizeof(name), "%.*s", (int)n, type);
    return name;
}

void sfemu_fatal_signal(CPUArchState *env, int target_sig)
{
    sfemu_env = env;
    sfemu_rt_fatal_signal(target_sig);
}

abi_long sfemu_syscall(CPUArchState *cpu_env, int num, abi_long arg1,
                       abi_long arg2, abi_long arg3, abi_long arg4,
                       abi_long arg5, abi_long arg6, abi_long arg7,
                       abi_long arg8, sfemu_syscall1_fn real)
{
    int64_t a[SFEMU_NARGS];
    CPUArchState *saved;
    abi_long ret;

    a[0] = arg1;
    a[1] = arg2;
    a[2] = arg3;
    a[3] = arg4;
    a[4] = arg5;
    a[5] = arg6;
    a[6] = arg7;
    a[7] = arg8;
    saved = sfemu_env;
    sfemu_real = real;
    sfemu_env = cpu_env;
    ret = sfemu_rt_syscall(num, a);
    sfemu_env = saved;
    return ret;
}

void sfemu_init(CPUArchState *env, const char *ld_prefix)
{
    static struct sfemu_target t;

    sfemu_env = env;
    sfemu_regs = gdb_get_register_list(env_cpu(env));
#if defined(TARGET_MIPS)
    glue_add_core_regs(sfemu_regs);
#endif
    t.arch = TARGET_NAME;
    t.abi_bits = TARGET_ABI_BITS;
    t.big_endian = TARGET_BIG_ENDIAN;
    t.o_creat = TARGET_O_CREAT;
    t.o_excl = TARGET_O_EXCL;
    t.o_nofollow = TARGET_O_NOFOLLOW;
    t.o_directory = TARGET_O_DIRECTORY;
    t.o_path = TARGET_O_PATH;
    t.o_trunc = TARGET_O_TRUNC;
    t.o_tmpfile = TARGET_O_TMPFILE;
    t.exec_path = exec_path;
    t.real_exec_path = real_exec_path;
    t.ld_prefix = ld_prefix;
    t.cpu_model = glue_cpu_model(env_cpu(env));
    t.sig_chld = TARGET_SIGCHLD;
    t.sol_socket = TARGET_SOL_SOCKET;
    t.so_bindtodevice = TARGET_SO_BINDTODEVICE;
    sfemu_hooks_enabled = sfemu_rt_init(&t, &sfemu_ops);
}

#define SFEMU_GLUE_HANDLER(id, name, ...)       \
    void sfemu_handle_arg_##id(const char *arg) \
    {                                           \
        sfemu_rt_option(name, arg);             \
    }
SFEMU_OPTIONS(SFEMU_GLUE_HANDLER, SFEMU_GLUE_NONE)
