/*
 * WLCSM client (ours; see wlcsm.h): one netlink protocol 31 socket per
 * process, one request and its reply at a time.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wlcsm.h"

#define MSG_MAX 4096
#define REPLY_MS 2000

static int sock = -1;
static uint32_t seq;
static uint32_t port;

static int wlcsm_socket(void)
{
    struct sockaddr_nl me = { .nl_family = AF_NETLINK };
    socklen_t len = sizeof(me);

    if (sock >= 0) {
        return 0;
    }
    sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_WLCSM);
    if (sock < 0) {
        return -1;
    }
    if (bind(sock, (struct sockaddr *)&me, sizeof(me)) ||
        getsockname(sock, (struct sockaddr *)&me, &len)) {
        close(sock);
        sock = -1;
        return -1;
    }
    port = me.nl_pid;
    return 0;
}

/* A name or value as a pair: int length (with the NUL), bytes padded to 4. */
static size_t put_pair(char *p, const char *s)
{
    int32_t n = s ? (int32_t)strlen(s) + 1 : 0;

    memcpy(p, &n, sizeof(n));
    if (n) {
        memcpy(p + 4, s, (size_t)n);
        memset(p + 4 + n, 0, (size_t)((4 - n % 4) % 4));
    }
    return 4 + (size_t)((n + 3) & ~3);
}

/* Sends one request; returns its sequence number, or 0 with errno. */
static uint32_t send_req(int type, const char *name, const char *value)
{
    char buf[MSG_MAX] __attribute__((aligned(4)));
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    struct wlcsm_msg_hdr *w = NLMSG_DATA(h);
    char *p = (char *)(w + 1);
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    struct iovec iov = { buf, 0 };
    struct msghdr mh = { .msg_name = &kernel,
                         .msg_namelen = sizeof(kernel),
                         .msg_iov = &iov,
                         .msg_iovlen = 1 };
    size_t need = (name ? strlen(name) : 0) + (value ? strlen(value) : 0) + 64;

    if (need > sizeof(buf) - NLMSG_HDRLEN) {
        errno = E2BIG;
        return 0;
    }
    if (wlcsm_socket()) {
        return 0;
    }
    if (name) {
        p += put_pair(p, name);
    }
    if (type == WLCSM_MSG_NVRAM_SET) {
        p += put_pair(p, value);
    }
    w->type = (uint16_t)type;
    w->len = (uint16_t)(p - (char *)(w + 1));
    w->pid = port;
    h->nlmsg_len = (uint32_t)(p - buf);
    h->nlmsg_type = 0;
    h->nlmsg_flags = NLM_F_REQUEST;
    h->nlmsg_seq = ++seq ? seq : ++seq;
    h->nlmsg_pid = port;
    iov.iov_len = h->nlmsg_len;
    if (sendmsg(sock, &mh, 0) < 0) {
        return 0;
    }
    return h->nlmsg_seq;
}

/* Receives the reply of sequence s of the given type into buf; returns the
 * WLCSM header (payload after it), or NULL with errno. */
static struct wlcsm_msg_hdr *recv_reply(uint32_t s, int type, char *buf,
                                        size_t cap)
{
    struct pollfd p = { .fd = sock, .events = POLLIN };

    for (;;) {
        struct sockaddr_nl from;
        struct iovec iov = { buf, cap };
        struct msghdr mh = { .msg_name = &from,
                             .msg_namelen = sizeof(from),
                             .msg_iov = &iov,
                             .msg_iovlen = 1 };
        struct nlmsghdr *h = (struct nlmsghdr *)buf;
        struct wlcsm_msg_hdr *w = NLMSG_DATA(h);
        ssize_t n;
        int r = poll(&p, 1, REPLY_MS);

        if (r <= 0) {
            errno = r ? errno : ETIMEDOUT;
            return NULL;
        }
        n = recvmsg(sock, &mh, 0);
        if (n < 0) {
            return NULL;
        }
        if (from.nl_pid != 0 || n < (ssize_t)NLMSG_LENGTH(sizeof(*w)) ||
            h->nlmsg_seq != s) {
            continue; /* not the kernel's answer to this request */
        }
        if (h->nlmsg_type == NLMSG_ERROR) {
            struct nlmsgerr *e = NLMSG_DATA(h);
            errno = e->error ? -e->error : EPROTO;
            return NULL;
        }
        if (w->type == type && NLMSG_LENGTH(sizeof(*w) + w->len) <= (size_t)n) {
            return w;
        }
        if (w->type != WLCSM_MSG_NVRAM_GETALL_DONE) {
            continue;
        }
        return w;
    }
}

/* The int result of a set, unset or commit. */
static int simple(int type, const char *name, const char *value)
{
    char buf[256] __attribute__((aligned(4)));
    uint32_t s = send_req(type, name, value);
    struct wlcsm_msg_hdr *w = s ? recv_reply(s, type, buf, sizeof(buf)) : NULL;
    int32_t rc;

    if (!w || w->len < 4) {
        if (w) {
            errno = EPROTO;
        }
        return -1;
    }
    memcpy(&rc, w + 1, sizeof(rc));
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return 0;
}

char *wlcsm_nvram_get(const char *name)
{
    static char values[8][MSG_MAX];
    static unsigned next;
    char buf[MSG_MAX] __attribute__((aligned(4)));
    uint32_t s = send_req(WLCSM_MSG_NVRAM_GET, name, NULL);
    struct wlcsm_msg_hdr *w =
        s ? recv_reply(s, WLCSM_MSG_NVRAM_GET, buf, sizeof(buf)) : NULL;
    char *p, *end, *out;
    int32_t n;

    if (!w) {
        return NULL;
    }
    p = (char *)(w + 1);
    end = p + w->len;
    memcpy(&n, p, 4); /* the name pair, then the value pair */
    p += 4 + ((n + 3) & ~3);
    if (n < 0 || p + 4 > end) {
        errno = EPROTO;
        return NULL;
    }
    memcpy(&n, p, 4);
    if (n <= 0 || p + 4 + n > end) {
        errno = ENOENT;
        return NULL;
    }
    out = values[next++ % 8];
    memcpy(out, p + 4, (size_t)n);
    out[n - 1] = 0;
    return out;
}

int wlcsm_nvram_set(const char *name, const char *value)
{
    return simple(WLCSM_MSG_NVRAM_SET, name, value ? value : "");
}

int wlcsm_nvram_unset(const char *name)
{
    return simple(WLCSM_MSG_NVRAM_UNSET, name, NULL);
}

int wlcsm_nvram_commit(void)
{
    return simple(WLCSM_MSG_NVRAM_COMMIT, NULL, NULL);
}

int wlcsm_nvram_getall(char *out, size_t count)
{
    char buf[MSG_MAX] __attribute__((aligned(4)));
    uint32_t s = send_req(WLCSM_MSG_NVRAM_GETALL, NULL, NULL);
    size_t used = 0;

    if (!s) {
        return -1;
    }
    for (;;) {
        struct wlcsm_msg_hdr *w =
            recv_reply(s, WLCSM_MSG_NVRAM_GETALL, buf, sizeof(buf));
        if (!w) {
            return -1;
        }
        if (w->type == WLCSM_MSG_NVRAM_GETALL_DONE) {
            break;
        }
        if (used + w->len + 1 > count) {
            errno = ENOSPC;
            return -1;
        }
        memcpy(out + used, w + 1, w->len);
        used += w->len;
    }
    if (used + 1 > count) {
        errno = ENOSPC;
        return -1;
    }
    out[used++] = 0;
    return (int)used;
}
