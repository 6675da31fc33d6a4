/* The fake-resource seam (call.h): one struct per operation, onto the
 * engine's functions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "call.h"

static const char *const op_names[FAKEFS_OP_COUNT] = {
    "getattr", "open",  "read", "write",  "truncate", "ioctl",
    "connect", "close", "init", "opened", "mmap",
};

const char *fakefs_op_name(unsigned op)
{
    return op < FAKEFS_OP_COUNT ? op_names[op] : NULL;
}

void fakefs_note_append(const struct fakefs_caller *who, const char *text,
                        size_t len)
{
    size_t used;

    if (!who->note || !who->notecap) {
        return;
    }
    used = strnlen(who->note, who->notecap - 1);
    while (len) {
        const char *nl = memchr(text, '\n', len);
        size_t n = nl ? (size_t)(nl - text) + 1 : len;
        if (used + n + (nl ? 0 : 1) + 1 > who->notecap) {
            break; /* the sink is full: the rest is dropped */
        }
        memcpy(who->note + used, text, n);
        used += n;
        if (!nl) {
            who->note[used++] = '\n';
        }
        text += n;
        len -= n;
    }
    who->note[used] = '\0';
}

static long call_init(struct fakefs_engine *e, struct fakefs_call *c)
{
    char *kind = c->inlen ? strndup(c->in, c->inlen) : NULL;
    if (c->inlen && !kind) {
        return -ENOMEM;
    }
    long r = fakefs_init_resource(e, c->path, kind);
    free(kind);
    return r;
}

long fakefs_call(struct fakefs_engine *e, struct fakefs_call *c)
{
    switch (c->op) {
    case FAKEFS_GETATTR: return fakefs_getattr_call(e, c);
    case FAKEFS_OPEN: return fakefs_open(e, c->path, c->flags, &c->who);
    case FAKEFS_READ: {
        ssize_t n = fakefs_read(e, c->path, c->out, c->outcap, (off_t)c->offset,
                                c->in, c->inlen, &c->who);
        c->outlen = n > 0 ? (size_t)n : 0;
        return (long)n;
    }
    case FAKEFS_WRITE:
        return (long)fakefs_write(e, c->path, c->in, c->inlen, (off_t)c->offset,
                                  c->out, c->outcap, &c->outlen, &c->who);
    case FAKEFS_TRUNCATE:
        return fakefs_truncate(e, c->path, (off_t)c->offset, &c->who);
    case FAKEFS_IOCTL: return fakefs_ioctl_call(e, c);
    case FAKEFS_CONNECT: {
        int r =
            fakefs_connect(e, c->path, &c->action, c->out, c->outcap, &c->who);
        c->outlen = r == 0 && c->action == 1 && c->outcap
                        ? strnlen(c->out, c->outcap - 1) + 1
                        : 0;
        return r;
    }
    case FAKEFS_CLOSE: return fakefs_close(e, c->path, &c->who);
    case FAKEFS_INIT: return call_init(e, c);
    case FAKEFS_OPENED: return fakefs_opened(e, c->path, &c->who);
    case FAKEFS_MMAP:
        return fakefs_mmap(e, c->path, c->offset, c->outcap, c->out, c->outcap,
                           &c->outlen, &c->who);
    case FAKEFS_OP_COUNT: break;
    }
    return -ENOSYS;
}
