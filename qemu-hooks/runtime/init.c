/*
 * Start-up: the one place that knows every feature.  It finishes the
 * settings, decides the root mode, and wires the features into the core's
 * seams: the emulator fixes (emu/) and the true root into the real-call
 * chain, the c_* bindings into every new Lua state, the context ring, the
 * watchdog and the analysis record as syscall observers.  The core itself names none of them.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ai/ai.h"
#include "analysis/analysis.h"
#include "api/api.h"
#include "core/endsig.h"
#include "core/luastate.h"
#include "core/hookmap.h"
#include "core/hooks.h"
#include "core/log.h"
#include "core/options.h"
#include "core/realcall.h"
#include "core/rules.h"
#include "core/runtime.h"
#include "core/syscall_names.h"
#include "emu/cpumodel.h"
#include "emu/guestexec.h"
#include "emu/linuxthreads.h"
#include "emu/netbind.h"
#include "fakefile/fake.h"
#include "trueroot/trueroot.h"
#include "watchdog/watchdog.h"

enum { ROOT_TRUE, ROOT_PREFIX }; /* -root-mode's words, in order */

static bool is_dir(const char *path)
{
    struct stat st;

    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* chroot(8) into an sfemu-mount, without -L: the guest's root is "/"
 * (docs/chroot.md).  fake.c finds the mount from the root path, which is
 * "/" when there is no -L directory. */
static bool chroot_on_mount(const char *root)
{
    return (!root || !strcmp(root, "/") || !is_dir(root)) &&
           sfemu_fake_mounted();
}

/* -root-mode, or its default: a true root with -rules and an existing -L,
 * or "/" in a chroot on an sfemu-mount. */
static int root_mode(const char *root)
{
    if (sfemu_opt_given(SFEMU_OPT_root_mode)) {
        return (int)sfemu_opt_long(SFEMU_OPT_root_mode);
    }
    /* QEMU always has a prefix (its built-in default when -L is not given,
     * usually missing): only an existing directory is a root. */
    if (!sfemu_opt_str(SFEMU_OPT_rules)) {
        return ROOT_PREFIX;
    }
    return (root && strcmp(root, "/") && is_dir(root)) || chroot_on_mount(root)
               ? ROOT_TRUE
               : ROOT_PREFIX;
}

/* A guest started from a host directory outside the root starts in the
 * root's "/", as after chroot(root) + chdir("/"): its relative names and
 * getcwd never reach the host's directory.  After every setting that names
 * a relative path (-sfanalysis) has been resolved. */
static void start_in_root(const char *root)
{
    char cwd[PATH_MAX], real[PATH_MAX];
    size_t n;

    if (!realpath(root, real)) {
        return;
    }
    n = strlen(real);
    if (getcwd(cwd, sizeof(cwd)) && !strncmp(cwd, real, n) &&
        (cwd[n] == '/' || !cwd[n] || !strcmp(real, "/"))) {
        return;
    }
    if (chdir(real) != 0) {
        sfemu_log("cannot start in the root '%s': %s", real, strerror(errno));
    }
}

static void start_true_root(const char *root)
{
    int rc;

    if (chroot_on_mount(root)) {
        root = "/";
    } else if (!root || !strcmp(root, "/")) {
        fprintf(stderr, "qemu: -root-mode true needs -L ROOTFS\n");
        exit(EXIT_FAILURE);
    }
    rc = sfemu_trueroot_init(root, sfemu_opt_str(SFEMU_OPT_host_paths));
    if (rc < 0) {
        fprintf(stderr,
                "qemu: -L '%s': cannot use it as the guest's root: "
                "%s\n",
                root, strerror(-rc));
        exit(EXIT_FAILURE);
    }
    sfemu_trueroot_make_parents((int)sfemu_opt_long(SFEMU_OPT_make_parents));
    sfemu_realcall_add(&sfemu_trueroot_rewriter);
}

/* The emulator's fixes for real firmware (emu/), outermost in the real-call
 * chain so they see the guest's own arguments. */
static void start_emu_features(void)
{
    const struct sfemu_rewriter *h;

    if (sfemu_linuxthreads_wanted() && (h = sfemu_linuxthreads_init())) {
        sfemu_realcall_add(h);
    }
    if (sfemu_netbind_wanted()) {
        sfemu_realcall_add(sfemu_netbind_init());
    }
}

/* Guest exec: the true root opens the file when it is on, otherwise the
 * handler does (as QEMU's -L). */
static void start_guest_exec(void)
{
    const struct sfemu_rewriter *h;

    if (!sfemu_guestexec_wanted()) {
        return;
    }
    h = sfemu_guestexec_init();
    if (!sfemu_trueroot_active && h) {
        sfemu_realcall_add(h);
    }
}

/* The program as the guest sees it (sfemu.exec_path, /proc/self/exe) and
 * its AT_EXECFN: under the true root the file's guest path (not the host
 * path qemu was given, nor the fd a guest exec runs), and the name the
 * guest's execve gave when a guest exec started it. */
static void program_identity(void)
{
    static char guest[PATH_MAX];
    const struct sfemu_target *t = sfemu_rt.t;
    const char *execfn = sfemu_guestexec_started();
    int rc;

    sfemu_rt.exec_name = execfn;
    sfemu_rt.exec_path = execfn ? execfn : t->exec_path;
    if (sfemu_trueroot_active && t->real_exec_path &&
        sfemu_trueroot_guest_path(t->real_exec_path, guest) == 0) {
        sfemu_rt.exec_path = guest;
        execfn = execfn ? execfn : guest;
    }
    if (execfn && (rc = sfemu_rt.ops->set_execfn(execfn)) < 0) {
        sfemu_log("cannot set AT_EXECFN to '%s': %s", execfn, strerror(-rc));
    }
}

int sfemu_rt_init(const struct sfemu_target *t,
                  const struct sfemu_host_ops *ops)
{
    sfemu_options_finish();
    sfemu_rt.t = t;
    sfemu_rt.ops = ops;
    sfemu_log_init();
    sfemu_cpumodel_log();
    if (sfemu_syscall_names_init(t->arch) != 0) {
        sfemu_log("no syscall name table for '%s': rules cannot be named",
                  t->arch);
    }
    start_emu_features();
    if (root_mode(t->ld_prefix) == ROOT_TRUE) {
        start_true_root(t->ld_prefix);
    }
    start_guest_exec();
    program_identity();
    sfemu_hooks_init();
    if (sfemu_opt_str(SFEMU_OPT_rules)) {
        sfemu_luastate_set_bindings(sfemu_api_open);
        sfemu_rules_init();
        sfemu_rt.active = 1;
        sfemu_analysis_init();
        sfemu_watch_init();
        sfemu_fake_notice_init();
        sfemu_endsig_init();
        sfemu_ai_init(); /* before the true root changes directory */
    }
    if (sfemu_trueroot_active) {
        start_in_root(t->ld_prefix); /* last: relative settings are fixed */
    }
    if (!sfemu_rt.active && !sfemu_realcall_count()) {
        return 0;
    }
    sfemu_hookmap_init();
    return 1;
}
