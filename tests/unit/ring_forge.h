/*
 * Writing a ring slot by hand, as a forger (or a broken client) would:
 * shared by tests/unit/test_ring.c and tests/mount/ring_forge.c.
 */
#ifndef SFEMU_TEST_RING_FORGE_H
#define SFEMU_TEST_RING_FORGE_H

#include <string.h>
#include <unistd.h>
#include "ring.h"
#include "ring_shm.h"

/* Post a request in slot 3 with these raw fields; the reply's result, or
 * 1 when no reply came within 2 s. */
static long ring_forge(void *map, int32_t owner, uint32_t op, uint32_t pathlen,
                       uint32_t inlen, const char *path)
{
    struct fakefs_ring_hdr *h = map;
    struct fakefs_ring_slot *sl = ring_slot(map, 3);
    while (!ring_move(&sl->state, RING_FREE, RING_CLAIMED)) {
        usleep(1000);
    }
    sl->owner = owner;
    sl->op = op;
    sl->pathlen = pathlen;
    sl->inlen = inlen;
    sl->outcap = 0;
    memcpy(sl->data, path, strlen(path)); /* no NUL unless pathlen says */
    ring_move(&sl->state, RING_CLAIMED, RING_REQUEST);
    __atomic_add_fetch(&h->posted, 1, __ATOMIC_SEQ_CST);
    ring_futex_wake(&h->posted, 1);
    for (int i = 0; i < 2000 && ring_state(&sl->state) != RING_REPLY; i++) {
        usleep(1000);
    }
    long r = ring_state(&sl->state) == RING_REPLY ? (long)sl->result : 1;
    ring_free(sl, RING_REPLY);
    return r;
}

#endif
