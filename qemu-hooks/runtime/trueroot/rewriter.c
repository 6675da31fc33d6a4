/* The true root as the runtime's syscall rewriter (core/realcall.h). */
#include "core/realcall.h"
#include "core/syscall_names.h"
#include "trueroot/trueroot.h"

_Static_assert(sizeof(struct sfemu_tr_call) <=
                   sizeof(struct sfemu_rewrite_call),
               "struct sfemu_tr_call must fit the rewriter's call area");

static int tr_rw_takes(int num)
{
    return sfemu_trueroot_takes_paths(num, sfemu_syscall_name(num));
}

static int tr_rw_enter(int num, int64_t args[SFEMU_NARGS],
                       struct sfemu_rewrite_call *c)
{
    struct sfemu_tr_call *tc = (struct sfemu_tr_call *)c->data;
    int rc = sfemu_trueroot_enter(num, sfemu_syscall_name(num), args, tc);

    c->num = tc->num;
    c->done = tc->done;
    c->ret = tc->ret;
    return rc;
}

static void tr_rw_leave(struct sfemu_rewrite_call *c, int64_t *ret)
{
    sfemu_trueroot_leave((struct sfemu_tr_call *)c->data, ret);
}

const struct sfemu_rewriter sfemu_trueroot_rewriter = {
    .name = "true root",
    .takes = tr_rw_takes,
    .enter = tr_rw_enter,
    .leave = tr_rw_leave,
};
