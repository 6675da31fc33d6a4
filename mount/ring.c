/*
 * The daemon's end of the shared-memory ring (fakefs/ring.h,
 * docs/ring.md): qemu processes running on this mount send their fake
 * operations here, so the daemon's one engine holds the one state of each
 * resource.  The control socket is "<upper>/ring.sock"; qemu finds it
 * through the extended attribute FAKEFS_RING_XATTR of the mount's root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fake_ops.h"
#include "sfemu_mount.h"

static long ring_fn(void *ud, struct fakefs_call *c)
{
    return fake_call(ud, c);
}

void ring_start(struct sfemu *s, const char *upper, const char *rules,
                int allow_other)
{
    char *abs = rules ? realpath(rules, NULL) : NULL;
    snprintf(s->ring_path, sizeof s->ring_path, "%s/ring.sock", upper);
    s->ring = fakefs_ring_serve(s->ring_path, allow_other, abs ? abs : rules, 2,
                                ring_fn, s, log_line);
    if (!s->ring) {
        log_msg("ring: cannot serve on %s (%m): qemu on this mount serves "
                "ioctl and connect itself",
                s->ring_path);
        s->ring_path[0] = 0;
    } else {
        log_msg("ring: serving qemu on %s", s->ring_path);
    }
    free(abs);
}
