/*
 * The shadow call stack, as a TCG plugin (being written): see
 * include/sfemu/shadow.h for the contract with the runtime.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

#include "sfemu/shadow.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static struct sfemu_shadow_api *api;

static int shadow_get(unsigned cpu_index, struct sfemu_shadow_frame *out,
                      int max)
{
    (void)cpu_index;
    (void)out;
    (void)max;
    return 0;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
                                           const qemu_info_t *info,
                                           int argc, char **argv)
{
    (void)id;
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "api=", 4)) {
            api = (struct sfemu_shadow_api *)(uintptr_t)strtoull(argv[i] + 4,
                                                                 NULL, 16);
        }
    }
    if (!api || api->version != SFEMU_SHADOW_API_VERSION) {
        fprintf(stderr, "sfemu-shadowstack: load it through -shadowstack\n");
        return -1;
    }
    api->get = shadow_get;
    api->installed = 1;
    return 0;
}
