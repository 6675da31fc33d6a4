/*
 * Guest memory for rewritten arguments: a small per-thread scratch area
 * (allocated on first use, reused after the thread exits), so the guest's
 * own memory is never modified.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/runtime.h"
#include "trueroot/tr.h"

#define TR_POOL 64 /* scratch areas kept from exited threads */

static __thread uint64_t tr_scratch_g;
static pthread_key_t tr_key;
static pthread_once_t tr_key_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t tr_pool[TR_POOL];

_Static_assert(TR_OFF_MSGNAME + TR_MMSG_MAX * 112 <= TR_SCRATCH,
               "the scratch area holds every rewritten argument");

uint64_t tr_load(const uint8_t *p, size_t w)
{
    uint64_t v = 0;

    for (size_t i = 0; i < w; i++) {
        v |= (uint64_t)p[sfemu_rt.t->big_endian ? w - 1 - i : i] << (8 * i);
    }
    return v;
}

void tr_store(uint8_t *p, size_t w, uint64_t v)
{
    for (size_t i = 0; i < w; i++) {
        p[sfemu_rt.t->big_endian ? w - 1 - i : i] = (uint8_t)(v >> (8 * i));
    }
}

static void tr_scratch_free(void *p)
{
    for (int i = 0; i < TR_POOL; i++) {
        uint64_t zero = 0;

        if (atomic_compare_exchange_strong(&tr_pool[i], &zero,
                                           (uint64_t)(uintptr_t)p)) {
            return;
        }
    }
}

static void tr_key_init(void)
{
    pthread_key_create(&tr_key, tr_scratch_free);
}

void tr_scratch_init(void)
{
    pthread_once(&tr_key_once, tr_key_init);
}

/* This thread's scratch guest memory. */
static uint64_t tr_scratch(void)
{
    uint64_t g = 0;

    if (tr_scratch_g) {
        return tr_scratch_g;
    }
    for (int i = 0; i < TR_POOL && !g; i++) {
        g = atomic_exchange(&tr_pool[i], 0);
    }
    if (!g) {
        g = sfemu_rt.ops->guest_alloc(TR_SCRATCH);
    }
    if (g) {
        tr_scratch_init();
        pthread_setspecific(tr_key, (void *)(uintptr_t)g);
        tr_scratch_g = g;
    }
    return g;
}

int tr_put(int64_t args[SFEMU_NARGS], int idx, size_t off, const void *data,
           size_t len)
{
    uint64_t g = tr_scratch();

    if (!g) {
        return -ENOMEM;
    }
    if (sfemu_rt.ops->write_mem(g + off, data, len)) {
        return -EFAULT;
    }
    args[idx] = sfemu_abi_long((int64_t)(g + off));
    return 0;
}

int tr_put_str(int64_t args[SFEMU_NARGS], int idx, int slot, const char *s)
{
    size_t n = strlen(s) + 1;

    if (n > TR_SLOT) {
        return -ENAMETOOLONG;
    }
    return tr_put(args, idx, (size_t)slot * TR_SLOT, s, n);
}

int tr_read_path(const int64_t args[SFEMU_NARGS], int idx, char *buf)
{
    uint64_t g = sfemu_guest_addr(args[idx]);
    long n;

    if (!g) {
        return TR_KEEP; /* NULL: an fd operation or EFAULT, QEMU knows */
    }
    n = sfemu_rt.ops->read_str(g, buf, PATH_MAX);
    if (n < 0) {
        return TR_KEEP;
    }
    if (n >= PATH_MAX) {
        return -ENAMETOOLONG;
    }
    buf[n] = 0;
    return 0;
}
