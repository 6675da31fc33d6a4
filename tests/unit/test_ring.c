/*
 * The shared-memory ring (fakefs/ring.h) between processes: this process
 * serves, forked children are clients.  Exact counts from many processes,
 * requests larger than a slot in pieces, forged slots rejected with a log
 * line while the server keeps serving, a client that dies holding a slot,
 * a slow handler (timeout) and a server that goes away (-EPIPE).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "ring.h"
#include "ring_forge.h"
#include "ring_shm.h"

#define KIDS 6
#define CALLS 400
#define BIG (100u << 10) /* three slots' worth */

static long ioctls, bytes_written;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char logs[16384];

static void log_line(const char *m)
{
    pthread_mutex_lock(&log_lock);
    size_t n = strlen(logs);
    snprintf(logs + n, sizeof logs - n, "%s\n", m);
    pthread_mutex_unlock(&log_lock);
}

static int logged(const char *what)
{
    pthread_mutex_lock(&log_lock);
    int yes = strstr(logs, what) != NULL;
    pthread_mutex_unlock(&log_lock);
    return yes;
}

/* The "engine": ioctl counts and echoes its bytes reversed, read serves
 * byte (offset % 251), write counts and replies "ack" (a fake socket's
 * answer), /slow sleeps. */
static long serve(void *ud, struct fakefs_call *c)
{
    (void)ud;
    if (!strcmp(c->path, "/slow")) {
        sleep(2);
        return 0;
    }
    switch (c->op) {
    case FAKEFS_IOCTL:
        __atomic_add_fetch(&ioctls, 1, __ATOMIC_RELAXED);
        for (size_t i = 0; i < c->inlen && i < c->outcap; i++) {
            ((char *)c->out)[i] = ((const char *)c->in)[c->inlen - 1 - i];
        }
        c->outlen = c->inlen < c->outcap ? c->inlen : c->outcap;
        return (long)(c->cmd & 0xff);
    case FAKEFS_READ:
        for (size_t i = 0; i < c->outcap; i++) {
            ((unsigned char *)c->out)[i] =
                (unsigned char)((c->offset + i) % 251);
        }
        c->outlen = c->outcap;
        return (long)c->outcap;
    case FAKEFS_WRITE:
        __atomic_add_fetch(&bytes_written, (long)c->inlen, __ATOMIC_RELAXED);
        if (c->outcap >= 3) {
            memcpy(c->out, "ack", 3);
            c->outlen = 3;
        }
        return (long)c->inlen;
    case FAKEFS_GETATTR:
        c->attr.type = FAKEFS_DEV;
        c->attr.size = 42;
        if (!strcmp(c->path, "/noted")) {
            /* a handler's fakefile.note lines, for the caller */
            fakefs_note_append(&c->who, "unknown key a\nunknown key b", 27);
        }
        return 0;
    default: return 0;
    }
}

static int kid_calls(const char *sock)
{
    struct fakefs_ring_client *rc;
    char err[256];
    if (fakefs_ring_connect(sock, &rc, err, sizeof err) < 0) {
        fprintf(stderr, "kid: %s\n", err);
        return 10;
    }
    for (int i = 0; i < CALLS; i++) {
        char in[8], out[8];
        snprintf(in, sizeof in, "k%06d", i);
        struct fakefs_call c = { .op = FAKEFS_IOCTL,
                                 .path = "/dev/counter",
                                 .cmd = 0x4007,
                                 .in = in,
                                 .inlen = 7,
                                 .out = out,
                                 .outcap = 7 };
        long r = -1;
        if (fakefs_ring_call(rc, &c, 500, &r) < 0 || r != 7 || c.outlen != 7 ||
            out[0] != in[6] || out[6] != in[0]) {
            return 11;
        }
    }
    unsigned char *big = malloc(BIG);
    struct fakefs_call rd = { .op = FAKEFS_READ,
                              .path = "/dev/big",
                              .offset = 7,
                              .out = big,
                              .outcap = BIG };
    long r = -1;
    if (fakefs_ring_call(rc, &rd, 500, &r) < 0 || r != (long)BIG ||
        rd.outlen != BIG) {
        return 12;
    }
    for (size_t i = 0; i < BIG; i++) {
        if (big[i] != (unsigned char)((7 + i) % 251)) {
            return 13;
        }
    }
    /* a write's reply comes back; in pieces, the pieces' replies */
    char ack[64];
    size_t room = FAKEFS_RING_DATA - sizeof("/dev/big");
    size_t pieces = (BIG + room - 1) / room;
    struct fakefs_call wr = { .op = FAKEFS_WRITE,
                              .path = "/dev/big",
                              .in = big,
                              .inlen = BIG,
                              .out = ack,
                              .outcap = sizeof ack };
    if (fakefs_ring_call(rc, &wr, 500, &r) < 0 || r != (long)BIG) {
        return 14;
    }
    if (wr.outlen != 3 * pieces || memcmp(ack, "ackack", 6)) {
        return 15;
    }
    wr.inlen = 5;
    if (fakefs_ring_call(rc, &wr, 500, &r) < 0 || r != 5 || wr.outlen != 3) {
        return 16;
    }
    free(big);
    fakefs_ring_close(rc);
    return 0;
}

static int wait_kids(pid_t *k, int n)
{
    int ok = 1;
    for (int i = 0; i < n; i++) {
        int st;
        waitpid(k[i], &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st)) {
            fprintf(stderr, "kid %d: status %d\n", i, st);
            ok = 0;
        }
    }
    return ok;
}

int main(void)
{
    char dir[] = "/tmp/test-ring-XXXXXX", sock[64], err[256];
    if (!mkdtemp(dir)) {
        return 1;
    }
    snprintf(sock, sizeof sock, "%s/ring.sock", dir);
    struct fakefs_ring_server *s =
        fakefs_ring_serve(sock, 0, "/rules", 2, serve, NULL, log_line);
    check(s != NULL, "the server listens on %s", sock);
    if (!s) {
        return checks_done();
    }

    /* many processes at once: exact counts */
    pid_t kids[KIDS];
    for (int i = 0; i < KIDS; i++) {
        kids[i] = fork();
        if (!kids[i]) {
            _exit(kid_calls(sock));
        }
    }
    check(wait_kids(kids, KIDS),
          "%d processes x %d ioctls, a %u-byte read and write each, a small "
          "write: every reply right (a write's too)",
          KIDS, CALLS, BIG);
    check(ioctls == KIDS * CALLS, "the server ran exactly %d ioctls (%ld)",
          KIDS * CALLS, ioctls);
    check(bytes_written == (long)KIDS * (BIG + 5),
          "writes larger than a slot arrive whole, in pieces (%ld bytes)",
          bytes_written);

    /* this process as a client too, and its header */
    struct fakefs_ring_client *rc = NULL;
    int r = fakefs_ring_connect(sock, &rc, err, sizeof err);
    check(r == 0, "connect: %s", r ? err : "ok");
    if (r) {
        return checks_done();
    }
    check(!strcmp(fakefs_ring_rules(rc), "/rules"),
          "the header names the rules tree");
    void *map = fakefs_ring_map(rc);
    struct fakefs_call ga = { .op = FAKEFS_GETATTR, .path = "/dev/x" };
    long res = -1;
    r = fakefs_ring_call(rc, &ga, 500, &res);
    check(r == 0 && res == 0 && ga.attr.size == 42 &&
              ga.attr.type == FAKEFS_DEV,
          "getattr over the ring carries the attributes");
    char note[64] = "";
    struct fakefs_call gn = { .op = FAKEFS_GETATTR,
                              .path = "/noted",
                              .who = { .note = note, .notecap = sizeof note } };
    r = fakefs_ring_call(rc, &gn, 500, &res);
    check(r == 0 && !strcmp(note, "unknown key a\nunknown key b\n"),
          "the handler's notes come back in the reply (%s)", note);
    char small[16] = "";
    gn.who.note = small;
    gn.who.notecap = sizeof small;
    r = fakefs_ring_call(rc, &gn, 500, &res);
    check(r == 0 && !strcmp(small, "unknown key a\n"),
          "notes beyond the caller's room are dropped whole (%s)", small);

    /* forged slots: rejected, logged, and the server keeps serving */
    uint64_t served0, rej0, served1, rej1;
    fakefs_ring_counts(s, &served0, &rej0);
    check(ring_forge(map, getpid(), 99, 5, 0, "/dev") == -EINVAL &&
              logged("unknown op 99"),
          "an unknown op is rejected with a log line");
    check(ring_forge(map, getpid(), FAKEFS_IOCTL, 0, 0, "") == -EINVAL &&
              logged("path length 0 out of range"),
          "a zero path length is rejected");
    check(ring_forge(map, getpid(), FAKEFS_WRITE, 5, 0xfffffff0u, "/dev") ==
                  -EINVAL &&
              logged("in length 4294967280"),
          "a forged in length is rejected");
    check(ring_forge(map, getpid(), FAKEFS_READ, 4, 0, "/devXYZ") == -EINVAL &&
              logged("not one absolute NUL-terminated string"),
          "a path without its NUL is rejected");
    check(ring_forge(map, 1, FAKEFS_OPEN, 5, 0, "/dev") != 0 &&
              logged("pid 1 has no control connection"),
          "a request from a process that never connected is rejected");
    fakefs_ring_counts(s, &served1, &rej1);
    check(rej1 - rej0 == 5 && served1 == served0,
          "five rejected, none run (%llu rejected)",
          (unsigned long long)(rej1 - rej0));
    res = -1;
    r = fakefs_ring_call(rc, &ga, 500, &res);
    check(r == 0 && res == 0, "the server still serves after them");

    /* a client that dies with a posted request and a claimed slot */
    pid_t k = fork();
    if (!k) {
        struct fakefs_ring_client *kc;
        if (fakefs_ring_connect(sock, &kc, err, sizeof err) < 0) {
            _exit(1);
        }
        void *km = fakefs_ring_map(kc);
        for (unsigned i = 10; i < 14; i++) {
            struct fakefs_ring_slot *sl = ring_slot(km, i);
            if (ring_move(&sl->state, RING_FREE, RING_CLAIMED)) {
                sl->owner = getpid();
            }
        }
        _exit(0);
    }
    waitpid(k, NULL, 0);
    int freed = 0;
    for (int i = 0; i < 200 && !freed; i++) {
        freed = 1;
        for (unsigned j = 0; j < FAKEFS_RING_SLOTS; j++) {
            freed &= ring_state(&ring_slot(map, j)->state) == RING_FREE;
        }
        usleep(10000);
    }
    check(freed && logged("went away holding 4 slot(s)"),
          "the slots of a process that died are freed, with a log line");

    /* a handler slower than the client's patience: -ETIMEDOUT */
    struct fakefs_call slow = { .op = FAKEFS_OPEN, .path = "/slow" };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = fakefs_ring_call(rc, &slow, 25, &res); /* 20 x 25 ms */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    check(r == -ETIMEDOUT && secs < 1.5,
          "a slow handler times out after the patience (%.2f s)", secs);
    sleep(2); /* the abandoned slot is freed when the run ends */

    /* the server goes away: a client notices within one step */
    fakefs_ring_stop(s);
    struct fakefs_call gone = { .op = FAKEFS_GETATTR, .path = "/dev/x" };
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = fakefs_ring_call(rc, &gone, 100, &res);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) +
           (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    check(r == -EPIPE && secs < 0.5,
          "a call to a stopped server fails with EPIPE in one step (%.2f s)",
          secs);
    fakefs_ring_close(rc);
    rmdir(dir);
    return checks_done();
}
