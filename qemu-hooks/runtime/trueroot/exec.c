/*
 * execve and execveat under the true root.  The host kernel's execve is
 * never called: it would run a host binary natively (an x86 ELF the guest
 * wrote into the root, or the host's /bin/sh named by a "#!" line), or hand
 * a guest binary to a binfmt_misc qemu that knows nothing of the root.
 *
 * Instead the file is opened inside the root (one openat2, like every other
 * path), checked as the kernel would (a regular file, execute permission,
 * not on a noexec mount), its first bytes read, and the fd handed to the
 * exec runner with what it is (struct sfemu_exec_file).  The default runner
 * refuses with ENOEXEC, what a host without binfmt_misc answers for a
 * foreign binary; a guest-exec runner (the same patched qemu run on the fd)
 * plugs in with sfemu_trueroot_set_exec_runner().
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/runtime.h"
#include "trueroot/tr.h"

#define TR_HEAD 256 /* the kernel's BINPRM_BUF_SIZE */

static int tr_exec_refuse(const struct sfemu_exec_file *f)
{
    (void)f;
    return -ENOEXEC;
}

static sfemu_exec_runner tr_runner = tr_exec_refuse;

void sfemu_trueroot_set_exec_runner(sfemu_exec_runner run)
{
    tr_runner = run ? run : tr_exec_refuse;
}

/* The guest's ELF machine, from QEMU's target name. */
static int tr_guest_machine(void)
{
    const char *a = sfemu_rt.t->arch;

    if (!strncmp(a, "aarch64", 7)) {
        return EM_AARCH64;
    }
    if (!strncmp(a, "arm", 3)) {
        return EM_ARM;
    }
    if (!strncmp(a, "mips", 4)) {
        return EM_MIPS;
    }
    if (!strcmp(a, "x86_64")) {
        return EM_X86_64;
    }
    return -1;
}

static enum sfemu_exec_kind tr_classify_head(const uint8_t *h, size_t n)
{
    const struct sfemu_target *t = sfemu_rt.t;
    int machine;

    if (n >= 2 && h[0] == '#' && h[1] == '!') {
        return SFEMU_EXEC_SCRIPT;
    }
    if (n < EI_NIDENT + 4 || memcmp(h, ELFMAG, SELFMAG)) {
        return SFEMU_EXEC_FOREIGN;
    }
    if (h[EI_CLASS] != (t->abi_bits == 64 ? ELFCLASS64 : ELFCLASS32) ||
        h[EI_DATA] != (t->big_endian ? ELFDATA2MSB : ELFDATA2LSB)) {
        return SFEMU_EXEC_FOREIGN;
    }
    /* e_machine follows e_ident and e_type, in the file's byte order */
    machine = t->big_endian ? (h[EI_NIDENT + 2] << 8) | h[EI_NIDENT + 3]
                            : (h[EI_NIDENT + 3] << 8) | h[EI_NIDENT + 2];
    return machine == tr_guest_machine() ? SFEMU_EXEC_GUEST_ELF
                                         : SFEMU_EXEC_FOREIGN;
}

/* The "#!" line: interpreter and optional argument, trimmed. */
static void tr_interp(const uint8_t *h, size_t n, char *out, size_t cap)
{
    size_t i = 2, o = 0;

    while (i < n && (h[i] == ' ' || h[i] == '\t')) {
        i++;
    }
    while (i < n && h[i] != '\n' && o + 1 < cap) {
        out[o++] = (char)h[i++];
    }
    while (o > 0 &&
           (out[o - 1] == ' ' || out[o - 1] == '\t' || out[o - 1] == '\r')) {
        o--;
    }
    out[o] = 0;
}

/* Open what execve names, for reading: the fd or -host errno. */
static int tr_exec_open(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS],
                        bool at, char *path)
{
    int pi = at ? 1 : 0, dirfd = at ? (int)args[0] : G_AT_FDCWD;
    uint64_t flags = at ? (uint64_t)args[4] : 0;
    int op = flags & G_AT_SYMLINK_NOFOLLOW ? OP_INSPECT : OP_FOLLOW;
    struct tr_loc l;
    int rc = tr_read_path(args, pi, path);

    if (rc) {
        return rc == TR_KEEP ? -EFAULT : rc;
    }
    if (!path[0]) {
        char link[48];
        int fd;

        if (!at || !(flags & G_AT_EMPTY_PATH)) {
            return -ENOENT;
        }
        /* fexecve: the guest's own fd, whatever it is */
        snprintf(link, sizeof(link), TR_MAGIC "%d", dirfd);
        fd = open(link, O_RDONLY | O_CLOEXEC);
        return tr_hold(c, fd < 0 ? (errno == ENOENT ? -EBADF : -errno) : fd);
    }
    rc = tr_locate(dirfd, path, op, &l);
    if (rc) {
        return rc;
    }
    return tr_loc_fd(c, &l, O_RDONLY | (op == OP_INSPECT ? O_NOFOLLOW : 0), op);
}

int sfemu_exec_fd(int fd, const char *path, uint64_t argv, uint64_t envp)
{
    char interp[TR_HEAD], link[48];
    uint8_t head[TR_HEAD];
    struct sfemu_exec_file f = { 0 };
    struct stat st;
    ssize_t n;

    if (fstat(fd, &st) != 0) {
        return -errno;
    }
    if (!S_ISREG(st.st_mode)) {
        return -EACCES;
    }
    /* execute permission and noexec mounts, as the kernel checks them */
    snprintf(link, sizeof(link), TR_MAGIC "%d", fd);
    if (faccessat(AT_FDCWD, link, X_OK, AT_EACCESS) != 0) {
        return -errno;
    }
    n = pread(fd, head, sizeof(head), 0);
    if (n < 0) {
        return -errno;
    }
    f.fd = fd;
    f.guest_path = path;
    f.head = head;
    f.head_len = (size_t)n;
    f.kind = tr_classify_head(head, (size_t)n);
    if (f.kind == SFEMU_EXEC_SCRIPT) {
        tr_interp(head, (size_t)n, interp, sizeof(interp));
        f.interp = interp;
    }
    f.argv = argv;
    f.envp = envp;
    return tr_runner(&f);
}

int tr_exec(struct sfemu_tr_call *c, int64_t args[SFEMU_NARGS], bool at)
{
    char path[PATH_MAX];
    int fd = tr_exec_open(c, args, at, path);

    if (fd < 0) {
        return fd;
    }
    return sfemu_exec_fd(fd, path, sfemu_guest_addr(args[at ? 2 : 1]),
                         sfemu_guest_addr(args[at ? 3 : 2]));
}
