/*
 * A client of Broadcom's private netlink protocol 31 (tests/qemu/pack_netlink.sh):
 * the host kernel has no such protocol; the rules give a virtual socket that
 * acknowledges requests.  One line of output per check.
 *   nl31 ack     socket, bind, getsockname, sendto/sendmsg/send with and
 *                without NLM_F_ACK, recvfrom/recvmsg/recv, poll, select
 *   nl31 other   sockets the rules must leave alone: NETLINK_ROUTE, a UDP
 *                loopback round trip (bind, getsockname, sendto, recvfrom)
 *   nl31 reuse   a virtual socket closed, its number reused by a UDP socket
 *                (the rules tree may lack the close rule): plain UDP
 *   nl31 bench N N UDP loopback round trips (sendto + recvfrom): the time
 *                of one, for docs/BENCHMARKS.md
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PROTO 31
#define TYPE 0x10

static void req(struct nlmsghdr *h, uint32_t seq, int ack)
{
    memset(h, 0, sizeof(*h));
    h->nlmsg_len = sizeof(*h);
    h->nlmsg_type = TYPE;
    h->nlmsg_flags = NLM_F_REQUEST | (ack ? NLM_F_ACK : 0);
    h->nlmsg_seq = seq;
    h->nlmsg_pid = (uint32_t)getpid();
}

/* Prints what one received datagram is. */
static void show(const char *how, const char *buf, long n,
                 const struct sockaddr_nl *from)
{
    const struct nlmsghdr *h = (const void *)buf;
    const struct nlmsgerr *e = NLMSG_DATA(h);

    if (n < (long)NLMSG_LENGTH(sizeof(*e)) || h->nlmsg_type != NLMSG_ERROR) {
        printf("%s: %ld bytes, not an ack\n", how, n);
        return;
    }
    printf("%s: ack len=%u seq=%u error=%d of type=0x%x seq=%u to_me=%d", how,
           h->nlmsg_len, h->nlmsg_seq, e->error, e->msg.nlmsg_type,
           e->msg.nlmsg_seq, h->nlmsg_pid == (uint32_t)getpid());
    if (from) {
        printf(" from=%d:%u", from->nl_family, from->nl_pid);
    }
    printf("\n");
}

static int ack_checks(void)
{
    struct sockaddr_nl me = { .nl_family = AF_NETLINK }, kernel = me, got;
    socklen_t len = sizeof(got);
    struct nlmsghdr m[3];
    char buf[256];
    struct iovec iov = { m, sizeof(m) };
    struct msghdr mh = { .msg_name = &kernel,
                         .msg_namelen = sizeof(kernel),
                         .msg_iov = &iov,
                         .msg_iovlen = 1 };
    struct pollfd p;
    fd_set rd;
    struct timeval tv = { 2, 0 };
    long n;
    int s = socket(AF_NETLINK, SOCK_RAW, PROTO);

    printf("socket -> %s errno=%d\n", s >= 0 ? "fd" : "-1", s >= 0 ? 0 : errno);
    if (s < 0) {
        return 1;
    }
    printf("bind -> %d\n", bind(s, (struct sockaddr *)&me, sizeof(me)));
    memset(&got, 0, sizeof(got));
    printf("getsockname -> %d family=%d pid_is_mine=%d len=%u\n",
           getsockname(s, (struct sockaddr *)&got, &len), got.nl_family,
           got.nl_pid == (uint32_t)getpid(), (unsigned)len);

    p.fd = s;
    p.events = POLLIN;
    printf("poll before a request: %d\n", poll(&p, 1, 100));

    req(&m[0], 7, 1);
    printf("sendto -> %ld\n",
           (long)sendto(s, m, m[0].nlmsg_len, 0, (struct sockaddr *)&kernel,
                        sizeof(kernel)));
    printf("poll after a request: %d\n", poll(&p, 1, 2000));
    len = sizeof(got);
    memset(&got, 0x55, sizeof(got));
    n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&got, &len);
    show("recvfrom", buf, n, &got);

    /* three messages in one datagram; the middle one asks for no ack */
    req(&m[0], 8, 1);
    req(&m[1], 9, 0);
    req(&m[2], 10, 1);
    printf("sendmsg -> %ld\n", (long)sendmsg(s, &mh, 0));
    FD_ZERO(&rd);
    FD_SET(s, &rd);
    printf("select -> %d\n", select(s + 1, &rd, NULL, NULL, &tv));
    for (int i = 0; i < 2; i++) {
        struct sockaddr_nl from;
        struct iovec riov = { buf, sizeof(buf) };
        struct msghdr rh = { .msg_name = &from,
                             .msg_namelen = sizeof(from),
                             .msg_iov = &riov,
                             .msg_iovlen = 1 };
        memset(&from, 0x55, sizeof(from));
        n = recvmsg(s, &rh, 0);
        show("recvmsg", buf, n, &from);
    }
    n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
    printf("then recv -> %ld errno=%d\n", n, n < 0 ? errno : 0);

    req(&m[0], 11, 1);
    printf("send -> %ld\n", (long)send(s, m, m[0].nlmsg_len, 0));
    n = read(s, buf, sizeof(buf));
    show("read", buf, n, NULL);

    req(&m[0], 13, 1);
    printf("write -> %ld\n", (long)write(s, m, m[0].nlmsg_len));
    n = recv(s, buf, sizeof(buf), 0);
    show("recv", buf, n, NULL);

    req(&m[0], 12, 0);
    printf("no ack asked: send -> %ld, poll -> %d\n",
           (long)send(s, m, m[0].nlmsg_len, 0), poll(&p, 1, 200));
    printf("close -> %d\n", close(s));

    s = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, PROTO);
    n = recv(s, buf, sizeof(buf), 0);
    printf("nonblocking socket: O_NONBLOCK=%d FD_CLOEXEC=%d recv -> %ld "
           "errno=%d\n",
           !!(fcntl(s, F_GETFL) & O_NONBLOCK),
           !!(fcntl(s, F_GETFD) & FD_CLOEXEC), n, n < 0 ? errno : 0);
    return 0;
}

static int other_checks(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET }, from;
    socklen_t len = sizeof(a);
    char buf[32];
    int r = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    long n;

    printf("NETLINK_ROUTE socket -> %s\n", r >= 0 ? "fd" : strerror(errno));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(u, (struct sockaddr *)&a, sizeof(a));
    getsockname(u, (struct sockaddr *)&a, &len);
    sendto(u, "ping", 4, 0, (struct sockaddr *)&a, sizeof(a));
    len = sizeof(from);
    n = recvfrom(u, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
    printf("udp loopback: %ld [%.4s] from_me=%d\n", n, buf,
           from.sin_port == a.sin_port && from.sin_family == AF_INET);
    return 0;
}

static int reuse(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof(a);
    char buf[8];
    int s = socket(AF_NETLINK, SOCK_RAW, PROTO), u;
    long n;

    close(s);
    u = socket(AF_INET, SOCK_DGRAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(u, (struct sockaddr *)&a, sizeof(a));
    getsockname(u, (struct sockaddr *)&a, &len);
    n = sendto(u, "ping", 4, 0, (struct sockaddr *)&a, sizeof(a));
    printf("reused=%d sendto %ld recv %ld\n", s == u, n,
           (long)recv(u, buf, sizeof(buf), MSG_DONTWAIT));
    return 0;
}

static int bench(long n)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof(a);
    struct timespec t0, t1;
    char buf[8];
    int u = socket(AF_INET, SOCK_DGRAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(u, (struct sockaddr *)&a, sizeof(a));
    getsockname(u, (struct sockaddr *)&a, &len);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        len = sizeof(a);
        sendto(u, "p", 1, 0, (struct sockaddr *)&a, sizeof(a));
        recvfrom(u, buf, sizeof(buf), 0, (struct sockaddr *)&a, &len);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("udp round trip %.2f us\n",
           ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n /
               1e3);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "reuse")) {
        return reuse();
    }
    if (argc > 2 && !strcmp(argv[1], "bench")) {
        return bench(atol(argv[2]));
    }
    if (argc > 1 && !strcmp(argv[1], "other")) {
        return other_checks();
    }
    return ack_checks();
}
