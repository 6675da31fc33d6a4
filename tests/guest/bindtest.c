/*
 * Binds the sockets named on the command line and reports what the guest
 * sees, then holds them until a line arrives on stdin (so the host can look
 * at them).  Never sends traffic.  Arguments:
 *   tcp4:ADDR:PORT  tcp6:ADDR:PORT  udp4:ADDR:PORT   bind (+listen for tcp)
 *   sc4:ADDR:PORT   tcp4 through socketcall(2) (MIPS o32; elsewhere it
 *                   reports "nosocketcall")
 *   bindtodevice:IFNAME                              SO_BINDTODEVICE
 * Prints "NAME bind=R getsockname=ADDR:PORT" per socket, then "ready".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* bind/listen/getsockname as the libc would call them, or through
 * socketcall (call numbers of <linux/net.h>). */
static int sc, sc_missing;

static long via_socketcall(int call, long a0, long a1, long a2)
{
#ifdef SYS_socketcall
    long args[3] = { a0, a1, a2 };
    return syscall(SYS_socketcall, call, args);
#else
    (void)call, (void)a0, (void)a1, (void)a2;
    sc_missing = 1;
    errno = ENOSYS;
    return -1;
#endif
}

static int do_bind(int fd, const struct sockaddr *a, socklen_t len)
{
    return sc ? (int)via_socketcall(2, fd, (long)a, len) : bind(fd, a, len);
}

static int do_listen(int fd)
{
    return sc ? (int)via_socketcall(4, fd, 4, 0) : listen(fd, 4);
}

static int do_getsockname(int fd, struct sockaddr *a, socklen_t *len)
{
    return sc ? (int)via_socketcall(6, fd, (long)a, (long)len)
              : getsockname(fd, a, len);
}

static void one(const char *spec)
{
    char kind[16], addr[64];
    const char *colon = strchr(spec, ':'), *last = strrchr(spec, ':');
    struct sockaddr_storage ss = { 0 }, got = { 0 };
    socklen_t len, glen = sizeof(got);
    int fd, v6, tcp, port, r;
    char txt[INET6_ADDRSTRLEN] = "?";

    if (!colon || colon - spec >= (int)sizeof(kind)) {
        printf("%s bad\n", spec);
        return;
    }
    memcpy(kind, spec, colon - spec);
    kind[colon - spec] = '\0';
    if (!strcmp(kind, "bindtodevice")) {
        fd = socket(AF_INET, SOCK_DGRAM, 0);
        r = setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, colon + 1,
                       strlen(colon + 1) + 1);
        printf("%s setsockopt=%d\n", spec, r ? -errno : 0);
        return;
    }
    sc = !strcmp(kind, "sc4");
    sc_missing = 0;
    v6 = kind[3] == '6';
    tcp = kind[0] == 't' || sc;
    snprintf(addr, sizeof(addr), "%.*s", (int)(last - colon - 1), colon + 1);
    port = atoi(last + 1);
    fd = socket(v6 ? AF_INET6 : AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    if (v6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(port);
        inet_pton(AF_INET6, addr, &s->sin6_addr);
        len = sizeof(*s);
    } else {
        struct sockaddr_in *s = (struct sockaddr_in *)&ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        s->sin_addr.s_addr = inet_addr(addr);
        len = sizeof(*s);
    }
    r = do_bind(fd, (struct sockaddr *)&ss, len);
    if (r == 0 && tcp) {
        r = do_listen(fd);
    }
    do_getsockname(fd, (struct sockaddr *)&got, &glen);
    if (sc_missing) {
        printf("%s nosocketcall\n", spec);
        return;
    }
    if (got.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&got)->sin6_addr, txt,
                  sizeof(txt));
        port = ntohs(((struct sockaddr_in6 *)&got)->sin6_port);
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&got)->sin_addr, txt,
                  sizeof(txt));
        port = ntohs(((struct sockaddr_in *)&got)->sin_port);
    }
    printf("%s bind=%d getsockname=%s:%d\n", spec, r ? -errno : 0, txt, port);
}

int main(int argc, char **argv)
{
    char line[8];

    setvbuf(stdout, NULL, _IONBF, 0);
    for (int i = 1; i < argc; i++) {
        one(argv[i]);
    }
    printf("ready\n");
    if (read(0, line, sizeof(line)) < 0) {
        return 1;
    }
    return 0;
}
