/* Asynchronous loopback HTTP probes (see probe.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "watchdog/ctxring.h"
#include "watchdog/probe.h"
#include "helper_thread.h"

#define PROBE_SLOTS 16
#define PROBE_MAX_INFLIGHT 4
#define PROBE_FD_MIN 1000 /* out of the way of the guest's low fds */

struct probe {
    long id; /* 0: free */
    int done, ok, status;
    long ms;
    struct sockaddr_in addr;
    long timeout_ms;
};

static pthread_mutex_t probe_mu = PTHREAD_MUTEX_INITIALIZER;
static struct probe slots[PROBE_SLOTS];
static long next_id = 1;
static int inflight;
static int64_t last_done_ns;
static int last_ok;

static int parse_host(const char *host, struct sockaddr_in *sa)
{
    char buf[64], *colon;
    long port = 80;

    if (strlen(host) >= sizeof(buf)) {
        return -EINVAL;
    }
    strcpy(buf, host);
    colon = strrchr(buf, ':');
    if (colon) {
        char *end;
        *colon = '\0';
        port = strtol(colon + 1, &end, 10);
        if (*end || port <= 0 || port > 65535) {
            return -EINVAL;
        }
    }
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (!strcmp(buf, "localhost")) {
        strcpy(buf, "127.0.0.1");
    }
    if (inet_pton(AF_INET, buf, &sa->sin_addr) != 1) {
        return -EINVAL;
    }
    if ((ntohl(sa->sin_addr.s_addr) >> 24) != 127) {
        return -EPERM;
    }
    return 0;
}

/* Remaining ms of the deadline, at least 0. */
static int left_ms(int64_t deadline)
{
    int64_t d = (deadline - sfemu_mono_ns()) / 1000000;

    return d > 0 ? (int)d : 0;
}

/* HTTP status code, or -errno. */
static int probe_once(const struct sockaddr_in *sa, long timeout_ms)
{
    static const char req[] = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
    int64_t deadline = sfemu_mono_ns() + timeout_ms * 1000000;
    char buf[64];
    size_t got = 0;
    int s, fd, rc = 0, err = 0;
    socklen_t len = sizeof(err);
    struct pollfd p;

    s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) {
        return -errno;
    }
    fd = fcntl(s, F_DUPFD_CLOEXEC, PROBE_FD_MIN);
    if (fd >= 0) {
        close(s);
        s = fd;
    }
    if (connect(s, (const struct sockaddr *)sa, sizeof(*sa)) != 0 &&
        errno != EINPROGRESS) {
        rc = -errno;
        goto out;
    }
    p = (struct pollfd){ .fd = s, .events = POLLOUT };
    if (poll(&p, 1, left_ms(deadline)) != 1) {
        rc = -ETIMEDOUT;
        goto out;
    }
    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        rc = -err;
        goto out;
    }
    if (send(s, req, sizeof(req) - 1, MSG_NOSIGNAL) != sizeof(req) - 1) {
        rc = -EIO;
        goto out;
    }
    while (got < sizeof(buf) - 1 && !memchr(buf, '\n', got)) {
        ssize_t n;
        p = (struct pollfd){ .fd = s, .events = POLLIN };
        if (poll(&p, 1, left_ms(deadline)) != 1) {
            rc = -ETIMEDOUT;
            goto out;
        }
        n = recv(s, buf + got, sizeof(buf) - 1 - got, 0);
        if (n <= 0) {
            break;
        }
        got += n;
    }
    buf[got] = '\0';
    if (strncmp(buf, "HTTP/", 5) || !strchr(buf, ' ')) {
        rc = -EPROTO;
    } else {
        rc = atoi(strchr(buf, ' ') + 1);
        if (rc <= 0) {
            rc = -EPROTO;
        }
    }
out:
    close(s);
    return rc;
}

static void *probe_thread(void *arg)
{
    struct probe *slot = arg, mine;
    int64_t t0 = sfemu_mono_ns();
    int status;

    pthread_mutex_lock(&probe_mu);
    mine = *slot;
    pthread_mutex_unlock(&probe_mu);
    status = probe_once(&mine.addr, mine.timeout_ms);
    pthread_mutex_lock(&probe_mu);
    if (slot->id == mine.id) {
        slot->done = 1;
        slot->status = status;
        slot->ok = status > 0;
        slot->ms = (long)((sfemu_mono_ns() - t0) / 1000000);
    }
    last_done_ns = sfemu_mono_ns();
    last_ok = status > 0;
    inflight--;
    pthread_mutex_unlock(&probe_mu);
    return NULL;
}

long sfemu_probe_http_start(const char *host, long timeout_ms)
{
    struct sockaddr_in sa;
    struct probe *slot;
    long id;
    int rc = parse_host(host, &sa);

    if (rc) {
        return rc;
    }
    if (timeout_ms <= 0 || timeout_ms > 60000) {
        timeout_ms = timeout_ms <= 0 ? 1000 : 60000;
    }
    pthread_mutex_lock(&probe_mu);
    if (inflight >= PROBE_MAX_INFLIGHT) {
        pthread_mutex_unlock(&probe_mu);
        return -EBUSY;
    }
    id = next_id++;
    slot = &slots[id % PROBE_SLOTS];
    *slot = (struct probe){ .id = id, .addr = sa, .timeout_ms = timeout_ms };
    inflight++;
    rc = sfemu_thread_start(probe_thread, slot);
    if (rc) {
        inflight--;
        slot->id = 0;
        id = rc;
    }
    pthread_mutex_unlock(&probe_mu);
    return id;
}

int sfemu_probe_http_result(long id, int *ok, int *status, long *ms)
{
    struct probe *slot = &slots[(id > 0 ? id : 0) % PROBE_SLOTS];
    int rc;

    pthread_mutex_lock(&probe_mu);
    if (id <= 0 || slot->id != id) {
        rc = -ENOENT;
    } else if (!slot->done) {
        rc = 0;
    } else {
        *ok = slot->ok;
        *status = slot->status;
        *ms = slot->ms;
        rc = 1;
    }
    pthread_mutex_unlock(&probe_mu);
    return rc;
}

int64_t sfemu_probe_http_last(int *ok)
{
    int64_t t;

    pthread_mutex_lock(&probe_mu);
    t = last_done_ns;
    *ok = last_ok;
    pthread_mutex_unlock(&probe_mu);
    return t;
}

/* Probe threads do not survive fork: their slots would stay pending. */
void sfemu_probe_after_fork(void)
{
    pthread_mutex_init(&probe_mu, NULL);
    for (int i = 0; i < PROBE_SLOTS; i++) {
        if (slots[i].id && !slots[i].done) {
            slots[i].done = 1;
            slots[i].status = -ECANCELED;
        }
    }
    inflight = 0;
}
