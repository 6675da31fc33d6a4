/*
 * The ring client of this qemu process (docs/ring.md): with an sfemu-mount
 * on the guest root, fake operations go to the daemon's engine over the
 * shared-memory ring.  One connection per process (a forked child makes
 * its own on first use); when the daemon does not answer, the runtime logs
 * once and the caller falls back to the engine inside qemu; the daemon is
 * looked for again every SFEMU_RING_RETRY_S seconds.
 */
#ifndef SFEMU_FAKE_TRANSPORT_H
#define SFEMU_FAKE_TRANSPORT_H

#include "call.h"

#define SFEMU_RING_RETRY_S 2

/* 0: the daemon ran c (*result is its answer); -errno: serve it here. */
int sfemu_fake_ring_call(struct fakefs_call *c, long *result);

#endif
