/* The real syscall and the rewriter seam (see realcall.h). */
#include <string.h>

#include "core/realcall.h"
#include "core/runtime.h"

static const struct sfemu_rewriter *rewriter;

void sfemu_realcall_set_rewriter(const struct sfemu_rewriter *rw)
{
    rewriter = rw;
}

int sfemu_realcall_takes(int num)
{
    return rewriter && rewriter->takes(num);
}

int64_t sfemu_real_syscall(int num, const int64_t args[SFEMU_NARGS])
{
    struct sfemu_rewrite_call rc;
    int64_t a[SFEMU_NARGS], ret;
    int err;

    if (!rewriter) {
        return sfemu_rt.ops->real_syscall(num, args);
    }
    /* The rewriter changes pointers: on a copy, so rules, finish.lua and the
     * observers keep seeing the guest's own arguments. */
    memcpy(a, args, sizeof(a));
    rc.num = num;
    rc.done = 0;
    err = rewriter->enter(num, a, &rc);
    if (err) {
        return err;
    }
    ret = rc.done ? rc.ret : sfemu_rt.ops->real_syscall(rc.num, a);
    rewriter->leave(&rc, &ret);
    return ret;
}
