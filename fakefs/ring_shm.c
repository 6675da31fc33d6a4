/* Futexes on the ring's shared words, the hello message (ring_shm.h). */
#include <errno.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "ring_shm.h"

void ring_fdmsg_init(struct ring_fdmsg *f, struct ring_hello *h)
{
    memset(f, 0, sizeof *f);
    f->iov.iov_base = h;
    f->iov.iov_len = sizeof *h;
    f->m.msg_iov = &f->iov;
    f->m.msg_iovlen = 1;
    f->m.msg_control = f->u.buf;
    f->m.msg_controllen = sizeof f->u.buf;
}

int ring_futex_wait(uint32_t *w, uint32_t v, int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    long r = syscall(SYS_futex, w, FUTEX_WAIT, v, ms < 0 ? NULL : &ts, NULL, 0);
    if (r == 0 || errno == EAGAIN) {
        return 0;
    }
    return errno == ETIMEDOUT ? -ETIMEDOUT : -EINTR;
}

void ring_futex_wake(uint32_t *w, int n)
{
    syscall(SYS_futex, w, FUTEX_WAKE, n, NULL, NULL, 0);
}
