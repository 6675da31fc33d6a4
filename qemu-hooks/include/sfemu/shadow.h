/*
 * The shadow call stack plugin (qemu-hooks/shadowstack/) and the runtime
 * share this table: the runtime fills the settings and hands the plugin its
 * address as the plugin argument "api=0x..."; the plugin fills the
 * functions at install time.  A plain C struct: the plugin is a separate
 * shared object that cannot link against the runtime.
 */
#ifndef SFEMU_SHADOW_H
#define SFEMU_SHADOW_H

#include <stdint.h>

#define SFEMU_SHADOW_API_VERSION 1

struct sfemu_shadow_frame {
    uint64_t callee; /* entry of the called function (0 if unknown yet) */
    uint64_t ret;    /* return address */
    uint64_t site;   /* address of the call instruction */
};

struct sfemu_shadow_api {
    uint32_t version;
    /* settings, from -shadowstack */
    int log;           /* log every call/return */
    int summary;       /* print the hottest call paths at exit */
    long unwind_limit; /* frames searched when a return skips frames */
    long max_stack;    /* deepest stack kept per thread */
    const char *arch;
    int big_endian;
    void (*log_line)(const char *msg); /* the runtime's log */
    int (*resolve)(uint64_t addr, char *out, size_t cap); /* lib!sym+off */
    /* filled by the plugin */
    int installed;
    /* Frames of vCPU (guest thread) cpu_index, innermost first; count. */
    int (*get)(unsigned cpu_index, struct sfemu_shadow_frame *out, int max);
};

#endif
