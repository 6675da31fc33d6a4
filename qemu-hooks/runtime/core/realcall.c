/* The real syscall and the chain of features around it (see realcall.h). */
#include <stdlib.h>
#include <string.h>

#include "core/hookmap.h"
#include "core/realcall.h"
#include "core/runtime.h"
#include "core/syscall_names.h"

#define CHAIN_MAX 8

static const struct sfemu_rewriter *chain[CHAIN_MAX];
static uint8_t *handler_map[CHAIN_MAX]; /* handlers: takes(), per number */
static int nchain, map_base, map_count;
/* Per number, 1 when no link acts on it (only handlers, none taking it):
 * the real syscall is called straight, without the chain's walk and copy. */
static uint8_t *direct_map;

static void take(int i)
{
    for (int n = 0; handler_map[i] && n < map_count; n++) {
        handler_map[i][n] = chain[i]->takes(map_base + n) != 0;
    }
}

static void update_direct(void)
{
    if (!direct_map) {
        return;
    }
    for (int n = 0; n < map_count; n++) {
        int direct = 1;
        for (int i = 0; direct && i < nchain; i++) {
            direct = chain[i]->call && handler_map[i] && !handler_map[i][n];
        }
        direct_map[n] = direct;
    }
}

void sfemu_realcall_add(const struct sfemu_rewriter *rw)
{
    int i = nchain;

    if (!rw || nchain == CHAIN_MAX) {
        abort(); /* a wiring mistake in init.c, not a run-time condition */
    }
    chain[nchain++] = rw;
    if (!rw->call) {
        update_direct(); /* a rewriter acts on every number */
        return;
    }
    map_base = sfemu_syscall_base();
    map_count = sfemu_syscall_count();
    handler_map[i] = calloc(map_count ? map_count : 1, 1);
    take(i);
    if (!direct_map) {
        direct_map = calloc(map_count ? map_count : 1, 1);
    }
    update_direct();
}

void sfemu_realcall_retake(void)
{
    for (int i = 0; i < nchain; i++) {
        take(i);
    }
    update_direct();
    sfemu_hookmap_retake();
}

int sfemu_realcall_count(void)
{
    return nchain;
}

static int link_takes(int i, int num)
{
    unsigned idx = (unsigned)(num - map_base);

    if (handler_map[i] && idx < (unsigned)map_count) {
        return handler_map[i][idx];
    }
    return chain[i]->takes(num);
}

int sfemu_realcall_takes(int num)
{
    for (int i = 0; i < nchain; i++) {
        if (link_takes(i, num)) {
            return 1;
        }
    }
    return 0;
}

static int64_t run_from(int i, int num, int64_t a[SFEMU_NARGS])
{
    for (; i < nchain; i++) {
        const struct sfemu_rewriter *rw = chain[i];
        struct sfemu_rewrite_call rc;
        int64_t ret;
        int err;

        if (rw->call) {
            if (link_takes(i, num)) {
                struct sfemu_realcall_next next = { i + 1 };
                return rw->call(num, a, &next);
            }
            continue;
        }
        rc.num = num;
        rc.done = 0;
        err = rw->enter(num, a, &rc);
        if (err) {
            return err;
        }
        ret = rc.done ? rc.ret : run_from(i + 1, rc.num, a);
        rw->leave(&rc, &ret);
        return ret;
    }
    return sfemu_rt.ops->real_syscall(num, a);
}

int64_t sfemu_realcall_next(const struct sfemu_realcall_next *next, int num,
                            int64_t args[SFEMU_NARGS])
{
    return run_from(next->pos, num, args);
}

int64_t sfemu_real_syscall(int num, const int64_t args[SFEMU_NARGS])
{
    int64_t a[SFEMU_NARGS];
    unsigned idx = (unsigned)(num - map_base);

    if (!nchain ||
        (direct_map && idx < (unsigned)map_count && direct_map[idx])) {
        return sfemu_rt.ops->real_syscall(num, args);
    }
    /* The chain changes arguments: on a copy, so rules, finish.lua and the
     * observers keep seeing the guest's own arguments. */
    memcpy(a, args, sizeof(a));
    return run_from(0, num, a);
}
