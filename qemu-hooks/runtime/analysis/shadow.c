/*
 * -shadowstack: the shadow call stack is kept by a TCG plugin
 * (libsfemu-shadowstack.so, beside the qemu binary or $SFEMU_SHADOWSTACK_PLUGIN)
 * that sees every translated call and return.  The runtime loads it through
 * QEMU's own plugin list and talks to it through struct sfemu_shadow_api.
 * Static builds cannot load plugins: there -shadowstack says so and is off.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/options.h"
#include "analysis/analysis.h"
#include "core/log.h"
#include "core/runtime.h"
#include "analysis/shadow.h"

static struct sfemu_shadow_api api = { .version = SFEMU_SHADOW_API_VERSION };

static void shadow_log(const char *msg)
{
    sfemu_log("shadowstack: %s", msg);
}

static int shadow_resolve(uint64_t addr, char *out, size_t cap)
{
    return sfemu_syms_resolve(addr, out, cap);
}

static int plugin_path(char *out, size_t cap)
{
    const char *env = sfemu_opt_str(SFEMU_OPT_shadowstack_plugin);
    char exe[PATH_MAX], *slash;
    ssize_t n;

    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return access(out, R_OK) == 0 ? 0 : -errno;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n < 0) {
        return -errno;
    }
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash) {
        *slash = '\0';
    }
    if (strlen(exe) + sizeof("/libsfemu-shadowstack.so") > cap) {
        return -ENAMETOOLONG;
    }
    strcpy(out, exe);
    strcat(out, "/libsfemu-shadowstack.so");
    return access(out, R_OK) == 0 ? 0 : -errno;
}

const char *sfemu_rt_plugin_opts(int plugins_built)
{
    static char opts[PATH_MAX + 64];
    char path[PATH_MAX];
    enum sfemu_opt ss = SFEMU_OPT_shadowstack;

    sfemu_options_finish(); /* plugins load before sfemu_rt_init */
    if (!sfemu_opt_given(ss)) {
        return NULL;
    }
    if (!plugins_built) {
        fprintf(stderr, "qemu: -shadowstack needs TCG plugin support, which "
                        "static builds lack: use the dynamic qemu binary\n");
        return NULL;
    }
    if (plugin_path(path, sizeof(path)) != 0) {
        fprintf(stderr,
                "qemu: -shadowstack: plugin '%s' not found (set "
                "SFEMU_SHADOWSTACK_PLUGIN)\n",
                path);
        exit(EXIT_FAILURE);
    }
    api.log = sfemu_opt_kv(ss, "log");
    api.summary = sfemu_opt_kv(ss, "summary");
    api.unwind_limit = sfemu_opt_kv(ss, "unwind_limit");
    api.max_stack = sfemu_opt_kv(ss, "max_stack");
    api.log_line = shadow_log;
    api.resolve = shadow_resolve;
    snprintf(opts, sizeof(opts), "file=%s,api=0x%" PRIxPTR, path,
             (uintptr_t)&api);
    return opts;
}

int sfemu_shadow_get(struct sfemu_shadow_frame *out, int max)
{
    if (!api.installed || !api.get || !sfemu_rt.ops) {
        return -ENOSYS;
    }
    if (!api.arch && sfemu_rt.t) {
        api.arch = sfemu_rt.t->arch;
        api.big_endian = sfemu_rt.t->big_endian;
    }
    return api.get((unsigned)sfemu_rt.ops->cpu_index(), out, max);
}
