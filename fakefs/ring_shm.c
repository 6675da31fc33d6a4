/* Futexes on the ring's shared words (ring_shm.h). */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "ring_shm.h"

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
