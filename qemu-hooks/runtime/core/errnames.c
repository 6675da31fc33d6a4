/* Guest errno names from QEMU's own mapping (see errnames.h). */
#include <pthread.h>
#include <string.h>

#include "core/errnames.h"
#include "core/runtime.h"

#define GUEST_ERRNO_MAX 4096
#define HOST_ERRNO_MAX 512

static short host_of[GUEST_ERRNO_MAX]; /* guest errno -> host errno */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
    for (int h = 1; h < HOST_ERRNO_MAX; h++) {
        int g = sfemu_rt.ops && sfemu_rt.ops->errno_to_guest
                    ? sfemu_rt.ops->errno_to_guest(h)
                    : h;
        if (g > 0 && g < GUEST_ERRNO_MAX && !host_of[g] && strerrorname_np(h)) {
            host_of[g] = (short)h;
        }
    }
}

const char *sfemu_errno_name(int guest_errno)
{
    pthread_once(&once, build);
    if (guest_errno <= 0 || guest_errno >= GUEST_ERRNO_MAX ||
        !host_of[guest_errno]) {
        return NULL;
    }
    return strerrorname_np(host_of[guest_errno]);
}

int sfemu_errno_num(const char *name)
{
    pthread_once(&once, build);
    for (int g = 1; g < GUEST_ERRNO_MAX; g++) {
        if (host_of[g] && !strcmp(strerrorname_np(host_of[g]), name)) {
            return g;
        }
    }
    return 0;
}
