/*
 * A client of a unix socket nobody listens on (tests/qemu/fake_socket.sh):
 * the fakefile rules make it a managed fake socket served by a fakeconfig
 * (tests/fixtures/sock.fakeconfig.lua speaks a line protocol: a greeting,
 * "GET key", "PUSH text", "BYE").  One line of output per check.
 *   fakesock talk PATH     stream: greeting, write+read, send+recv,
 *                          sendmsg+recvmsg, poll, select, a nonblocking
 *                          recv, EOF, close; a nonblocking socket; fork
 *   fakesock dgram PATH [seq]  the same protocol over SOCK_DGRAM
 *                          (SOCK_SEQPACKET): one reply per datagram
 *   fakesock plain PATH    the default socket fakeconfig: connect, EOF
 *                          at once, write succeeds
 *   fakesock real PATH     connect to a real listening socket and read
 *   fakesock send PATH     connect and write (a server that never speaks)
 *   fakesock orphan PATH   connect, fork, the parent exits: the child's
 *                          socket must read EOF (its pump is gone), not hang
 *   fakesock rtt PATH N    N "GET color" round trips (bench/sock), after
 *                          the greeting: prints the replies that were right
 * talk and dgram then wait (in this process: the pump is its thread) for
 * the close handler to show in the record PATH.fakefile.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int sock_to(const char *path, int type)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int s = socket(AF_UNIX, type, 0);
    int c;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    c = s < 0 ? -1 : connect(s, (struct sockaddr *)&sa, sizeof(sa));
    printf("connect %s -> %d errno=%d\n", path, c, c ? errno : 0);
    if (c) {
        exit(1);
    }
    return s;
}

/* What one read gives, without its newline, as "[text]" (or the error). */
static const char *got(long n, const char *buf)
{
    static char out[256];

    if (n < 0) {
        snprintf(out, sizeof(out), "-1 errno=%d", errno);
    } else {
        snprintf(out, sizeof(out), "[%.*s]",
                 (int)(n && buf[n - 1] == '\n' ? n - 1 : n), buf);
    }
    return out;
}

static int readable(int s, int ms)
{
    struct pollfd p = { .fd = s, .events = POLLIN };
    int r = poll(&p, 1, ms);
    return r < 0 ? -errno : (p.revents & POLLIN) != 0;
}

static void talk(const char *path)
{
    char buf[256], a[8], b[64];
    int s = sock_to(path, SOCK_STREAM), r;
    long n;

    n = read(s, buf, sizeof(buf));
    printf("greeting %s\n", got(n, buf));
    printf("poll before a request: %d\n", readable(s, 0));
    n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
    printf("nonblocking recv %s\n", got(n, buf));

    n = write(s, "GET color\n", 10);
    printf("poll after a request: %d\n", readable(s, 10000));
    n = read(s, buf, sizeof(buf));
    printf("write+read %s\n", got(n, buf));

    send(s, "GET model\n", 10, 0);
    n = recv(s, buf, sizeof(buf), 0);
    printf("send+recv %s\n", got(n, buf));

    /* a request in two pieces, a reply into two buffers */
    struct iovec out[2] = { { "GET co", 6 }, { "lor\n", 4 } };
    struct msghdr m = { .msg_iov = out, .msg_iovlen = 2 };
    n = sendmsg(s, &m, 0);
    struct iovec in[2] = { { a, 2 }, { b, sizeof(b) } };
    struct msghdr mi = { .msg_iov = in, .msg_iovlen = 2 };
    readable(s, 10000);
    n = recvmsg(s, &mi, 0);
    printf("sendmsg+recvmsg %ld [%.2s|%.*s]\n", n, a, n > 3 ? (int)n - 3 : 0,
           b);

    /* answered by the read handler, not by the write's reply */
    write(s, "PUSH later\n", 11);
    fd_set rd;
    struct timeval tv = { 10, 0 };
    FD_ZERO(&rd);
    FD_SET(s, &rd);
    r = select(s + 1, &rd, NULL, NULL, &tv);
    printf("select %d %d\n", r, r > 0 && FD_ISSET(s, &rd));
    n = read(s, buf, sizeof(buf));
    printf("pushed %s\n", got(n, buf));

    /* a forked child talks on the same socket: the parent's pump serves */
    pid_t pid = fork();
    if (pid == 0) {
        char cb[64];
        write(s, "GET model\n", 10);
        long cn = read(s, cb, sizeof(cb));
        printf("child %s\n", got(cn, cb));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    write(s, "GET color\n", 10);
    n = read(s, buf, sizeof(buf));
    printf("after fork %s\n", got(n, buf));

    /* a socket made nonblocking before connect stays so */
    int nb = sock_to(path, SOCK_STREAM | SOCK_NONBLOCK);
    readable(nb, 10000);
    n = read(nb, buf, sizeof(buf));
    printf("nonblocking socket greeting %s\n", got(n, buf));
    n = read(nb, buf, sizeof(buf));
    printf("nonblocking socket read %s\n", got(n, buf));
    close(nb);

    write(s, "BYE\n", 4);
    n = read(s, buf, sizeof(buf));
    printf("after BYE read %ld\n", n);
    printf("close %d\n", close(s));
    fflush(stdout);
}

static void dgram(const char *path, int type)
{
    char buf[256];
    int s = sock_to(path, type);
    long n;

    n = recv(s, buf, sizeof(buf), 0);
    printf("greeting %s\n", got(n, buf));
    printf("poll before a request: %d\n", readable(s, 0));
    send(s, "GET color\n", 10, 0);
    send(s, "GET model\n", 10, 0);
    printf("poll after a request: %d\n", readable(s, 10000));
    n = recv(s, buf, sizeof(buf), 0);
    printf("first %s\n", got(n, buf));
    n = recv(s, buf, sizeof(buf), 0);
    printf("second %s\n", got(n, buf));
    n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
    printf("nonblocking recv %s\n", got(n, buf));
    printf("close %d\n", close(s));
    fflush(stdout);
}

static void plain(const char *path)
{
    char buf[64];
    int s = sock_to(path, SOCK_STREAM);

    printf("poll %d\n", readable(s, 10000));
    printf("read %ld\n", (long)read(s, buf, sizeof(buf)));
    printf("write %ld\n", (long)write(s, "ping", 4));
    printf("read again %ld\n", (long)read(s, buf, sizeof(buf)));
    printf("close %d\n", close(s));
}

static void send_only(const char *path)
{
    int s = sock_to(path, SOCK_STREAM);

    printf("write %ld\n", (long)write(s, "ping", 4));
    printf("close %d\n", close(s));
}

static void rtt(const char *path, long n)
{
    char buf[64];
    int s = sock_to(path, SOCK_STREAM);
    long right = 0;

    read(s, buf, sizeof(buf)); /* the greeting */
    for (long i = 0; i < n; i++) {
        write(s, "GET color\n", 10);
        right += read(s, buf, sizeof(buf)) == 5 && !memcmp(buf, "blue\n", 5);
    }
    printf("rtt %ld of %ld right\n", right, n);
}

static void orphan(const char *path)
{
    char buf[64];
    int s = sock_to(path, SOCK_STREAM);

    read(s, buf, sizeof(buf)); /* the greeting */
    if (fork() != 0) {
        _exit(0); /* the pump goes with this process */
    }
    /* the peer hangs up once the parent is gone (unless this process
     * kept a copy of the pump's end: then nothing comes) */
    struct pollfd p = { .fd = s, .events = POLLRDHUP };
    int r = poll(&p, 1, 10000);
    long w = send(s, "GET color\n", 10, MSG_NOSIGNAL | MSG_DONTWAIT);
    int e = errno;
    long n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
    printf("orphan hup=%d send %ld errno=%d read %s\n",
           r == 1 && (p.revents & (POLLHUP | POLLRDHUP)) != 0, w, w < 0 ? e : 0,
           got(n, buf));
}

static void real(const char *path)
{
    char buf[64];
    int s = sock_to(path, SOCK_STREAM);
    long n = read(s, buf, sizeof(buf));

    printf("real %s\n", got(n, buf));
}

/* The close handler runs in the pump after close returns: wait for it. */
static void waitstate(const char *path, const char *state)
{
    char want[64], buf[4096];

    snprintf(want, sizeof(want), "state=%s\n", state);
    for (int i = 0; i < 1500; i++) {
        int fd = open(path, O_RDONLY);
        long n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (fd >= 0) {
            close(fd);
        }
        buf[n > 0 ? n : 0] = '\0';
        if (strstr(buf, want)) {
            printf("state %s after %d ms\n", state, i * 10);
            return;
        }
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    printf("state never %s: %s\n", state, buf);
}

int main(int argc, char **argv)
{
    char record[256];

    alarm(50); /* a hang fails the test, it does not stall it */
    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(record, sizeof(record), "%s.fakefile", argc >= 3 ? argv[2] : "");
    if (argc >= 3 && !strcmp(argv[1], "talk")) {
        talk(argv[2]);
        waitstate(record, "closed");
    } else if (argc >= 3 && !strcmp(argv[1], "dgram")) {
        dgram(argv[2], argc > 3 ? SOCK_SEQPACKET : SOCK_DGRAM);
        waitstate(record, "closed");
    } else if (argc >= 3 && !strcmp(argv[1], "plain")) {
        plain(argv[2]);
    } else if (argc >= 3 && !strcmp(argv[1], "send")) {
        send_only(argv[2]);
    } else if (argc >= 4 && !strcmp(argv[1], "rtt")) {
        alarm(0);
        rtt(argv[2], atol(argv[3]));
    } else if (argc >= 3 && !strcmp(argv[1], "orphan")) {
        orphan(argv[2]);
    } else if (argc >= 3 && !strcmp(argv[1], "real")) {
        real(argv[2]);
    } else {
        fprintf(stderr,
                "usage: fakesock talk|dgram|plain|send|orphan|real|rtt PATH\n");
        return 2;
    }
    return 0;
}
