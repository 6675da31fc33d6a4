/*
 * The hook map.  A syscall enters the runtime when a rule file could apply
 * to it (a NAME.lua in any rule directory), when entry.lua or finish.lua
 * exists (then every syscall does), or when the true root must rewrite its
 * paths.  Everything else goes from QEMU straight to the real syscall.
 */
#include <dirent.h>
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/hookmap.h"
#include "core/rules.h"
#include "core/rulewatch.h"
#include "core/options.h"
#include "core/runtime.h"
#include "core/syscall_names.h"
#include "core/observer.h"
#include "core/realcall.h"

struct sfemu_hook_map sfemu_hook_map;

static uint8_t *rewrite_map; /* syscalls the real-call chain takes */
static uint8_t *scratch;
/* The watcher and sfemu_hookmap_retake share scratch. */
static pthread_mutex_t scan_lock = PTHREAD_MUTEX_INITIALIZER;

static int file_exists(const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void scan_dir(const char *dir, uint8_t *m, int base, int count)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d) {
        return;
    }
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        char name[NAME_MAX + 1];
        int num;

        if (n < 5 || strcmp(e->d_name + n - 4, ".lua") != 0) {
            continue;
        }
        memcpy(name, e->d_name, n - 4);
        name[n - 4] = '\0';
        num = sfemu_syscall_num(name);
        if (num >= base && num < base + count) {
            m[num - base] = 1;
        }
    }
    closedir(d);
}

void sfemu_hookmap_scan(void)
{
    int base = sfemu_hook_map.base, count = sfemu_hook_map.count;
    const char *root = sfemu_opt_str(SFEMU_OPT_rules);
    int all = 0;

    pthread_mutex_lock(&scan_lock);

    if (rewrite_map) {
        memcpy(scratch, rewrite_map, count);
    } else {
        memset(scratch, 0, count);
    }
    if (sfemu_rt.active) {
        const char *const *dirs;
        int n = sfemu_rules_dirs(&dirs);

        all = sfemu_observers_want_all || file_exists(root, "entry.lua") ||
              file_exists(root, "finish.lua");
        for (int i = 0; i < n && !all; i++) {
            scan_dir(dirs[i], scratch, base, count);
        }
    }
    /* Byte stores: a reader sees the old or the new value of each entry. */
    for (int i = 0; i < count; i++) {
        if (sfemu_hook_map.map[i] != scratch[i]) {
            sfemu_hook_map.map[i] = scratch[i];
        }
    }
    sfemu_hook_map.all = all;
    pthread_mutex_unlock(&scan_lock);
}

/* The syscalls the real-call chain takes (see realcall.h). */
static void take_rewrites(void)
{
    for (int i = 0; rewrite_map && i < sfemu_hook_map.count; i++) {
        rewrite_map[i] = sfemu_realcall_takes(sfemu_hook_map.base + i);
    }
}

void sfemu_hookmap_retake(void)
{
    if (!sfemu_hook_map.map) {
        return; /* before init: init takes them */
    }
    take_rewrites();
    sfemu_hookmap_scan();
}

/* Another thread may have held scan_lock at fork. */
static void hookmap_atfork_child(void)
{
    pthread_mutex_t init = PTHREAD_MUTEX_INITIALIZER;

    scan_lock = init;
}

void sfemu_hookmap_init(void)
{
    int base = sfemu_syscall_base(), count = sfemu_syscall_count();

    sfemu_hook_map.base = base;
    sfemu_hook_map.count = count;
    sfemu_hook_map.map = calloc(count ? count : 1, 1);
    scratch = calloc(count ? count : 1, 1);
    if (!sfemu_hook_map.map || !scratch) {
        sfemu_hook_map.all = 1; /* no map: hook everything */
        return;
    }
    rewrite_map = calloc(count ? count : 1, 1);
    take_rewrites();
    if (!count) {
        sfemu_hook_map.all = 1; /* no name table: names cannot be mapped */
        return;
    }
    sfemu_hookmap_scan();
    pthread_atfork(NULL, NULL, hookmap_atfork_child);
    if (sfemu_rt.active) {
        sfemu_rulewatch_start(); /* rescans the map when rules change */
    }
}
