/*
 * Guest exec (see guestexec.h).  The true root (trueroot/exec.c) and, with
 * -root-mode prefix, the execve handler here open the file and call the
 * runner, which either execs this qemu on it or returns the errno the
 * kernel would: ENOEXEC for a foreign file, and what opening a "#!" line's
 * interpreter gives (ENOENT, EACCES).  The interpreter is run through the
 * real-call chain as an execve of its own, so it is found exactly as the
 * guest's execve would find it (in the root, under -L).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/observer.h"
#include "core/options.h"
#include "core/runtime.h"
#include "core/syscall_names.h"
#include "emu/cpumodel.h"
#include "emu/guestexec.h"
#include "trueroot/trueroot.h"

#define ARG_STRLEN_MAX (128 * 1024) /* the kernel's MAX_ARG_STRLEN */
#define ARGS_MAX (1 << 20)          /* strings in an argv or envp */
#define SCRIPT_DEPTH_MAX 4          /* the kernel's BINPRM_MAX_RECURSION */
#define G_AT_FDCWD (-100)           /* the same on every Linux target */
#define G_AT_SYMLINK_NOFOLLOW 0x100
#define G_AT_EMPTY_PATH 0x1000
/* What the child is told of its start, in its environment (not the guest's):
 * the name the guest's execve gave, and how many execs this pid made. */
#define GE_ENV_EXECFN "SFEMU_EXECFN"
#define GE_ENV_EXECS "SFEMU_EXECS"

/* Every setting of sfemu/options.h: the child's command line and
 * environment are built from the table, not from a list kept here. */
#define GE_ROW(id, name, qemu_env, env, type, ...) \
    { SFEMU_OPT_##id, name, env, !strcmp(#type, "PATH") },
static const struct {
    int id;
    const char *name; /* ARG rows: the option without its dash */
    const char *env;  /* ENV rows: the variable */
    bool path;        /* a file name, relative to where qemu started */
} ge_rows[] = { SFEMU_OPTIONS(GE_ROW, GE_ROW) };
#undef GE_ROW

/* A list of malloc'd strings, NULL-terminated when it has any. */
struct strv {
    char **v;
    size_t n, cap;
};

static struct {
    int nr_execve, nr_execveat;
    bool prefix_dir; /* -L is a directory (not QEMU's absent default) */
    char prefix_abs[PATH_MAX]; /* -L made absolute at start: the child
                                * starts in the guest's cwd, not ours */
    char start_dir[PATH_MAX];  /* before the true root's start directory */
} ge = { -1, -1, false, "", "" };

/* The argv a "#!" line made for the execve of its interpreter in progress
 * on this thread (NULL: the guest's own), and how deep scripts nest. */
static __thread const struct strv *ge_script_argv;
static __thread const char *ge_script_name; /* the outermost script's */
static __thread int ge_script_depth;
static __thread uint64_t ge_scratch; /* guest memory for the interp's name */
/* -root-mode prefix: the file is the host's, not found under -L. */
static __thread bool ge_from_host;

static int strv_add(struct strv *s, char *str)
{
    if (!str) {
        return -ENOMEM;
    }
    if (s->n + 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        char **v = realloc(s->v, cap * sizeof(*v));

        if (!v) {
            free(str);
            return -ENOMEM;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = str;
    s->v[s->n] = NULL;
    return 0;
}

static int strv_addf(struct strv *s, const char *fmt, const char *a,
                     const char *b)
{
    char *str;

    if (asprintf(&str, fmt, a, b) < 0) {
        return -ENOMEM;
    }
    return strv_add(s, str);
}

static void strv_free(struct strv *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i]);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* A guest string, malloc'd. */
static int read_guest_str(uint64_t g, char **out)
{
    for (size_t cap = 256;; cap *= 4) {
        char *b = malloc(cap + 1);
        long n;

        if (!b) {
            return -ENOMEM;
        }
        n = sfemu_rt.ops->read_str(g, b, cap);
        if (n < 0) {
            free(b);
            return (int)n;
        }
        if ((size_t)n < cap) {
            b[n] = 0;
            *out = b;
            return 0;
        }
        free(b);
        if (cap >= ARG_STRLEN_MAX) {
            return -E2BIG;
        }
    }
}

/* A guest pointer array (argv, envp) into host strings; NULL is empty. */
static int read_guest_vec(uint64_t g, struct strv *out)
{
    const struct sfemu_target *t = sfemu_rt.t;
    size_t w = (size_t)t->abi_bits / 8;

    for (size_t i = 0; g; i++) {
        uint8_t b[8];
        uint64_t p = 0;
        char *s = NULL;
        int rc;

        if (i == ARGS_MAX) {
            return -E2BIG;
        }
        if (sfemu_rt.ops->read_mem(g + i * w, b, w)) {
            return -EFAULT;
        }
        for (size_t k = 0; k < w; k++) {
            p = p << 8 | b[t->big_endian ? k : w - 1 - k];
        }
        if (!p) {
            break;
        }
        rc = read_guest_str(p, &s);
        if (rc == 0) {
            rc = strv_add(out, s);
        }
        if (rc) {
            return rc;
        }
    }
    return 0;
}

/* A guest errno (the real-call chain's answer) back to the host's. */
static int host_errno(int64_t gret)
{
    for (int e = 1; e < 256; e++) {
        if (sfemu_rt.ops->errno_to_guest(e) == (int)-gret) {
            return e;
        }
    }
    return ENOEXEC;
}

/* Drops NAME=... from env. */
static void env_drop(struct strv *env, const char *name)
{
    size_t len = strlen(name);

    for (size_t k = 0; k < env->n; k++) {
        if (!strncmp(env->v[k], name, len) && env->v[k][len] == '=') {
            free(env->v[k]);
            env->v[k--] = env->v[--env->n];
            env->v[env->n] = NULL;
        }
    }
}

/* The child's start, for its AT_EXECFN and its record's name: in its
 * environment, kept out of the guest's with -U. */
static int add_identity(struct strv *cmd, struct strv *env, const char *name)
{
    char execs[16];
    int rc = 0;

    snprintf(execs, sizeof(execs), "%d", sfemu_rt.execs + 1);
    env_drop(env, GE_ENV_EXECFN);
    env_drop(env, GE_ENV_EXECS);
    if (name[0]) { /* fexecve: QEMU's own name (the fd) stays */
        rc = strv_addf(env, "%s=%s", GE_ENV_EXECFN, name);
        rc = rc ? rc : strv_add(cmd, strdup("-U"));
        rc = rc ? rc : strv_add(cmd, strdup(GE_ENV_EXECFN));
    }
    rc = rc ? rc : strv_addf(env, "%s=%s", GE_ENV_EXECS, execs);
    rc = rc ? rc : strv_add(cmd, strdup("-U"));
    return rc ? rc : strv_add(cmd, strdup(GE_ENV_EXECS));
}

/* "-name value" for each option given, the root mode, and the SFEMU_*
 * variables given, in the child's environment whatever the guest passed
 * (-E/-U keep the guest's own view of them). */
static int add_settings(struct strv *cmd, struct strv *env)
{
    int rc = 0;

    for (size_t i = 0; i < sizeof(ge_rows) / sizeof(ge_rows[0]) && !rc; i++) {
        const char *v = sfemu_opt_str(ge_rows[i].id);
        const char *name = ge_rows[i].env;
        char *abs = NULL, *guest = NULL;
        size_t len;

        if (!sfemu_opt_given(ge_rows[i].id) || !v ||
            ge_rows[i].id == SFEMU_OPT_root_mode) {
            continue;
        }
        if (ge_rows[i].path && v[0] != '/' && ge.start_dir[0]) {
            /* the child starts where the guest is: name what we use */
            if (asprintf(&abs, "%s/%s", ge.start_dir, v) < 0) {
                return -ENOMEM;
            }
            v = abs;
        }
        if (ge_rows[i].name) {
            rc = strv_addf(cmd, "-%s", ge_rows[i].name, NULL);
            rc = rc ? rc : strv_add(cmd, strdup(v));
            free(abs);
            continue;
        }
        len = strlen(name);
        for (size_t k = 0; k < env->n; k++) {
            if (!strncmp(env->v[k], name, len) && env->v[k][len] == '=') {
                guest = env->v[k];
                env->v[k] = env->v[--env->n];
                env->v[env->n] = NULL;
                break;
            }
        }
        rc = strv_addf(env, "%s=%s", name, v);
        free(abs);
        if (!rc && guest) {
            rc = strv_add(cmd, strdup("-E"));
            rc = rc ? (free(guest), rc) : strv_add(cmd, guest);
        } else if (!rc) {
            rc = strv_add(cmd, strdup("-U"));
            rc = rc ? rc : strv_add(cmd, strdup(name));
        } else {
            free(guest);
        }
    }
    if (!rc) {
        rc = strv_add(cmd, strdup("-root-mode"));
        rc = rc ? rc
                : strv_add(cmd,
                           strdup(sfemu_trueroot_active ? "true" : "prefix"));
    }
    return rc;
}

/* Execs this qemu on the file: returns only on failure (-host errno). */
static int run_elf(const struct sfemu_exec_file *f, const struct strv *args)
{
    const struct sfemu_target *t = sfemu_rt.t;
    struct strv cmd = { 0 }, env = { 0 };
    char fdpath[48], self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    int fd, rc;

    self[n > 0 ? n : 0] = 0;
    /* The child's program: this fd, open across the exec (the child marks
     * it close-on-exec; it serves the guest's /proc/self/exe). */
    fd = fcntl(f->fd, F_DUPFD, 3);
    if (fd < 0) {
        return -errno;
    }
    snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
    rc = read_guest_vec(f->envp, &env);
    rc = rc ? rc : strv_add(&cmd, strdup(n > 0 ? self : "qemu"));
    if (!rc && t->ld_prefix) {
        rc = strv_add(&cmd, strdup("-L"));
        rc = rc ? rc
                : strv_add(&cmd, strdup(ge.prefix_abs[0] ? ge.prefix_abs
                                                         : t->ld_prefix));
    }
    if (!rc && sfemu_cpumodel_given() && t->cpu_model) {
        rc = strv_add(&cmd, strdup("-cpu"));
        rc = rc ? rc : strv_add(&cmd, strdup(t->cpu_model));
    }
    rc = rc ? rc : add_settings(&cmd, &env);
    rc = rc ? rc
            : add_identity(&cmd, &env,
                           ge_script_name ? ge_script_name : f->guest_path);
    rc = rc ? rc : strv_add(&cmd, strdup("-0"));
    rc = rc ? rc : strv_add(&cmd, strdup(args->n ? args->v[0] : ""));
    rc = rc ? rc : strv_add(&cmd, strdup(fdpath));
    for (size_t i = 1; i < args->n && !rc; i++) {
        rc = strv_add(&cmd, strdup(args->v[i]));
    }
    if (!rc) {
        char *none[] = { NULL };

        /* This program ends here: its records are written now. */
        sfemu_observers_end("execve", 0);
        execve("/proc/self/exe", cmd.v, env.v ? env.v : none);
        rc = -errno;
        sfemu_log("guest exec of '%s': cannot exec this qemu: %s",
                  f->guest_path, strerror(-rc));
    }
    close(fd);
    strv_free(&cmd);
    strv_free(&env);
    return rc;
}

/* "#!interp [arg]": the interpreter's execve, argv as the kernel makes it
 * (interp, arg, the script's name, the guest's argv[1...]). */
static int run_script(const struct sfemu_exec_file *f, const struct strv *args)
{
    char interp[256], *arg;
    struct strv nv = { 0 };
    int64_t a[SFEMU_NARGS] = { 0 }, ret;
    int rc;

    snprintf(interp, sizeof(interp), "%s", f->interp);
    arg = interp + strcspn(interp, " \t");
    if (*arg) {
        *arg++ = 0;
        arg += strspn(arg, " \t");
    }
    if (!interp[0] || !f->guest_path[0]) {
        return -ENOEXEC; /* no interpreter; a script run by fd (fexecve) */
    }
    if (ge_script_depth >= SCRIPT_DEPTH_MAX) {
        return -ELOOP;
    }
    if (!ge_scratch) {
        ge_scratch = sfemu_rt.ops->guest_alloc(sizeof(interp));
    }
    if (!ge_scratch ||
        sfemu_rt.ops->write_mem(ge_scratch, interp, strlen(interp) + 1)) {
        return -ENOMEM;
    }
    rc = strv_add(&nv, strdup(interp));
    rc = rc || !*arg ? rc : strv_add(&nv, strdup(arg));
    rc = rc ? rc : strv_add(&nv, strdup(f->guest_path));
    for (size_t i = 1; i < args->n && !rc; i++) {
        rc = strv_add(&nv, strdup(args->v[i]));
    }
    if (rc) {
        strv_free(&nv);
        return rc;
    }
    a[0] = (int64_t)ge_scratch;
    a[1] = (int64_t)f->argv;
    a[2] = (int64_t)f->envp;
    ge_script_argv = &nv;
    ge_script_depth++;
    if (ge_script_depth == 1) {
        ge_script_name = f->guest_path; /* AT_EXECFN: the script's name */
    }
    ret = sfemu_real_syscall(ge.nr_execve, a);
    if (ge_script_depth == 1) {
        ge_script_name = NULL;
    }
    ge_script_depth--;
    ge_script_argv = NULL;
    strv_free(&nv);
    return ret < 0 ? -host_errno(ret) : -ENOEXEC;
}

/* A guest exec runs this qemu again through /proc: a chroot(8) without
 * /proc mounted fails every exec with ENOENT; say why, once. */
static void ge_need_proc(void)
{
    static bool said;

    if (!said && access("/proc/self/exe", F_OK) != 0) {
        said = true;
        sfemu_log("guest exec: /proc is not mounted in this root, so a guest "
                  "program cannot run another (ENOENT): mount it, e.g. "
                  "mount -t proc proc ROOTFS/proc (docs/chroot.md)");
    }
}

static int ge_run(const struct sfemu_exec_file *f)
{
    const struct strv *given = ge_script_argv;
    struct strv own = { 0 };
    int rc;

    ge_script_argv = NULL; /* for this execve only */
    if (f->kind == SFEMU_EXEC_FOREIGN) {
        /* A host program PATH finds outside -L is not the guest's: as if
         * absent, so the guest's shell goes on to its own /bin. */
        return ge_from_host ? -ENOENT : -ENOEXEC;
    }
    if (!given) {
        rc = read_guest_vec(f->argv, &own);
        if (rc) {
            strv_free(&own);
            return rc;
        }
        given = &own;
    }
    rc =
        f->kind == SFEMU_EXEC_SCRIPT ? run_script(f, given) : run_elf(f, given);
    strv_free(&own);
    return rc;
}

/* ------------------------------------------- -root-mode prefix: open */

/* The file as QEMU's -L finds it: an absolute name under -L when it is
 * there, else on the host; a relative one from dirfd.  fd or -host errno. */
static int open_prefix(int dirfd, const char *path, uint64_t flags)
{
    const char *prefix = sfemu_rt.t->ld_prefix;
    int oflags =
        O_RDONLY | O_CLOEXEC | (flags & G_AT_SYMLINK_NOFOLLOW ? O_NOFOLLOW : 0);
    char full[PATH_MAX];
    int fd;

    if (!path[0]) {
        if (!(flags & G_AT_EMPTY_PATH)) {
            return -ENOENT;
        }
        snprintf(full, sizeof(full), "/proc/self/fd/%d", dirfd);
        fd = open(full, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? (errno == ENOENT ? -EBADF : -errno) : fd;
    }
    if (path[0] == '/' && prefix && strcmp(prefix, "/") &&
        snprintf(full, sizeof(full), "%s%s", prefix, path) <
            (int)sizeof(full)) {
        fd = open(full, oflags);
        if (fd >= 0 || (errno != ENOENT && errno != ENOTDIR)) {
            return fd < 0 ? -errno : fd;
        }
        ge_from_host = ge.prefix_dir;
    }
    fd = openat(dirfd == G_AT_FDCWD ? AT_FDCWD : dirfd, path, oflags);
    return fd < 0 ? -errno : fd;
}

static int64_t ge_call(int num, int64_t args[SFEMU_NARGS],
                       const struct sfemu_realcall_next *next)
{
    bool at = num == ge.nr_execveat;
    uint64_t flags = at ? (uint64_t)args[4] : 0;
    char path[PATH_MAX];
    long n;
    int fd, rc;

    (void)next; /* the host's execve is never run */
    n = sfemu_rt.ops->read_str(sfemu_guest_addr(args[at ? 1 : 0]), path,
                               sizeof(path));
    if (n < 0 || n >= (long)sizeof(path)) {
        rc = n < 0 ? (int)n : -ENAMETOOLONG;
    } else {
        path[n] = 0;
        ge_need_proc();
        ge_from_host = false;
        fd = open_prefix(at ? (int)args[0] : G_AT_FDCWD, path, flags);
        rc = fd;
        if (fd >= 0) {
            rc = sfemu_exec_fd(fd, path, sfemu_guest_addr(args[at ? 2 : 1]),
                               sfemu_guest_addr(args[at ? 3 : 2]));
            close(fd);
        }
        ge_from_host = false;
    }
    return -(int64_t)sfemu_rt.ops->errno_to_guest(-rc);
}

static int ge_takes(int num)
{
    return num >= 0 && (num == ge.nr_execve || num == ge.nr_execveat);
}

static const struct sfemu_rewriter ge_handler = {
    .name = "guest exec",
    .takes = ge_takes,
    .call = ge_call,
};

static void ge_atfork_child(void)
{
    sfemu_rt.execs = 0; /* a new pid */
}

const char *sfemu_guestexec_started(void)
{
    static char name[PATH_MAX];
    const char *fn = getenv(GE_ENV_EXECFN), *execs = getenv(GE_ENV_EXECS);
    const char *ret = NULL;

    pthread_atfork(NULL, NULL, ge_atfork_child);
    if (execs) {
        sfemu_rt.execs = atoi(execs) > 0 ? atoi(execs) : 0;
    }
    if (fn && strlen(fn) < sizeof(name)) {
        snprintf(name, sizeof(name), "%s", fn);
        ret = name;
    }
    unsetenv(GE_ENV_EXECFN);
    unsetenv(GE_ENV_EXECS);
    return ret;
}

int sfemu_guestexec_wanted(void)
{
    return sfemu_opt_given(SFEMU_OPT_guest_exec)
               ? (int)sfemu_opt_long(SFEMU_OPT_guest_exec)
               : sfemu_opt_str(SFEMU_OPT_rules) != NULL;
}

const struct sfemu_rewriter *sfemu_guestexec_init(void)
{
    const char *self = sfemu_rt.t->exec_path;
    const char *prefix = sfemu_rt.t->ld_prefix;
    struct stat st;
    int fd;

    ge.nr_execve = sfemu_syscall_num("execve");
    ge.nr_execveat = sfemu_syscall_num("execveat");
    ge.prefix_dir = prefix && stat(prefix, &st) == 0 && S_ISDIR(st.st_mode);
    if (!ge.prefix_dir || !realpath(prefix, ge.prefix_abs)) {
        ge.prefix_abs[0] = 0;
    }
    if (!getcwd(ge.start_dir, sizeof(ge.start_dir))) {
        ge.start_dir[0] = 0;
    }
    /* Started by a guest exec: the program's fd goes no further. */
    if (self && sscanf(self, "/proc/self/fd/%d", &fd) == 1 && fd > 2) {
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    sfemu_trueroot_set_exec_runner(ge_run);
    return ge.nr_execve < 0 ? NULL : &ge_handler;
}
