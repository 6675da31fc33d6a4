/*
 * ring-forge MOUNTROOT GUESTPATH: a hostile client of an sfemu-mount's ring
 * (tests/mount/ring.sh).  It finds the control socket as qemu does (the
 * mount root's FAKEFS_RING_XATTR), writes garbage on a control connection,
 * posts forged slots (unknown op, bad lengths, a path without its NUL, an
 * owner that never connected), then one honest getattr of GUESTPATH.
 * Prints one line per step; exits 0 when every forgery got -EINVAL and the
 * honest call was served.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "../unit/ring_forge.h"

int main(int argc, char **argv)
{
    char sock[4096], err[256];
    struct fakefs_ring_client *rc;
    int bad = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: ring-forge MOUNTROOT GUESTPATH\n");
        return 2;
    }
    ssize_t n = getxattr(argv[1], FAKEFS_RING_XATTR, sock, sizeof sock - 1);
    if (n <= 0) {
        perror("getxattr " FAKEFS_RING_XATTR);
        return 2;
    }
    sock[n] = 0;
    if (fakefs_ring_connect(sock, &rc, err, sizeof err) < 0) {
        fprintf(stderr, "connect: %s\n", err);
        return 2;
    }
    /* garbage on a control connection of its own */
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(sock) >= sizeof sa.sun_path) {
        return 2;
    }
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    int g = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(g, (struct sockaddr *)&sa, sizeof sa) == 0) {
        printf("garbage on the control socket: %zd bytes\n",
               send(g, "\xff\xfe garbage", 10, MSG_NOSIGNAL));
    }
    void *map = fakefs_ring_map(rc);
    struct {
        const char *what;
        int32_t owner;
        uint32_t op, pathlen, inlen;
        const char *path;
    } f[] = {
        { "unknown op", getpid(), 77, 5, 0, "/dev" },
        { "path length 0", getpid(), FAKEFS_IOCTL, 0, 0, "" },
        { "path length past the slot", getpid(), FAKEFS_READ, 1u << 30, 0,
          "/dev" },
        { "in length past the slot", getpid(), FAKEFS_WRITE, 5, 0xffffff00u,
          "/dev" },
        { "path without NUL", getpid(), FAKEFS_OPEN, 4, 0, "/devXX" },
        { "owner never connected", 1, FAKEFS_OPEN, 5, 0, "/dev" },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        long r = ring_forge(map, f[i].owner, f[i].op, f[i].pathlen, f[i].inlen,
                            f[i].path);
        printf("forged %s: %ld\n", f[i].what, r);
        bad += r != -EINVAL;
    }
    struct fakefs_call c = { .op = FAKEFS_GETATTR, .path = argv[2] };
    long r = 1;
    int e = fakefs_ring_call(rc, &c, 500, &r);
    printf("honest getattr %s: transport %d result %ld size %llu\n", argv[2], e,
           r, (unsigned long long)c.attr.size);
    bad += e != 0 || r != 0;
    close(g);
    fakefs_ring_close(rc);
    return bad ? 1 : 0;
}
