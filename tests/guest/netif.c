/*
 * Interface ioctls as router firmware asks them (tests/qemu/pack_netif.sh).
 *   netif show NAME...   SIOCGIFINDEX, SIOCGIFADDR, SIOCGIFNETMASK,
 *                        SIOCGIFBRDADDR, SIOCGIFHWADDR, SIOCGIFFLAGS,
 *                        SIOCGIFMTU of each; SIOCGIFNAME of the index
 *   netif conf           SIOCGIFCONF: the names and addresses listed
 *   netif private        bridge, wireless and device-private ioctls
 *   netif bench N        the time of one FIONREAD (not routed to the rule)
 *                        and of one SIOCGIFFLAGS of br0, over N calls
 * One line a result: the value, or "errno=NAME".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SIOCBRADDBR
#define SIOCBRADDBR 0x89a0
#endif
#ifndef SIOCDEVPRIVATE
#define SIOCDEVPRIVATE 0x89F0
#endif
#define SIOCIWFIRSTPRIV 0x8BE0
#define SIOCGIWNAME 0x8B01

static const char *err_name(int e)
{
    static char other[32];

    switch (e) {
    case ENODEV: return "ENODEV";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case ENOTTY: return "ENOTTY";
    case EPERM: return "EPERM";
    case ENXIO: return "ENXIO";
    }
    snprintf(other, sizeof(other), "%d", e);
    return other;
}

static int ask(int s, unsigned long cmd, struct ifreq *r, const char *name)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->ifr_name, IFNAMSIZ, "%s", name);
    return ioctl(s, cmd, r);
}

static void show_in(const char *what, const char *name, int rc, struct ifreq *r)
{
    struct sockaddr_in *a = (struct sockaddr_in *)&r->ifr_addr;

    if (rc) {
        printf("%s %s errno=%s\n", name, what, err_name(errno));
    } else {
        printf("%s %s %s family=%d\n", name, what, inet_ntoa(a->sin_addr),
               a->sin_family);
    }
}

static void show(int s, const char *name)
{
    struct ifreq r;
    int rc, idx;
    unsigned char *m;

    rc = ask(s, SIOCGIFINDEX, &r, name);
    idx = r.ifr_ifindex;
    if (rc) {
        printf("%s index errno=%s\n", name, err_name(errno));
    } else {
        printf("%s index %d\n", name, idx);
    }
    show_in("addr", name, ask(s, SIOCGIFADDR, &r, name), &r);
    show_in("netmask", name, ask(s, SIOCGIFNETMASK, &r, name), &r);
    show_in("broadcast", name, ask(s, SIOCGIFBRDADDR, &r, name), &r);
    rc = ask(s, SIOCGIFHWADDR, &r, name);
    m = (unsigned char *)r.ifr_hwaddr.sa_data;
    if (rc) {
        printf("%s hwaddr errno=%s\n", name, err_name(errno));
    } else {
        printf("%s hwaddr %02x:%02x:%02x:%02x:%02x:%02x type=%d\n", name, m[0],
               m[1], m[2], m[3], m[4], m[5], r.ifr_hwaddr.sa_family);
    }
    rc = ask(s, SIOCGIFFLAGS, &r, name);
    if (rc) {
        printf("%s flags errno=%s\n", name, err_name(errno));
    } else {
        printf("%s flags 0x%x up=%d\n", name, (unsigned short)r.ifr_flags,
               !!(r.ifr_flags & IFF_UP));
    }
    rc = ask(s, SIOCGIFMTU, &r, name);
    if (rc) {
        printf("%s mtu errno=%s\n", name, err_name(errno));
    } else {
        printf("%s mtu %d\n", name, r.ifr_mtu);
    }
    if (!ask(s, SIOCGIFINDEX, &r, name)) {
        memset(&r, 0, sizeof(r));
        r.ifr_ifindex = idx;
        rc = ioctl(s, SIOCGIFNAME, &r);
        printf("%s name-of-index %s\n", name,
               rc ? err_name(errno) : r.ifr_name);
    }
}

static void conf(int s)
{
    struct ifreq list[32];
    struct ifconf c = { .ifc_len = sizeof(list), .ifc_req = list };
    struct ifconf none = { .ifc_len = 0, .ifc_buf = NULL };

    if (ioctl(s, SIOCGIFCONF, &none)) {
        printf("conf size errno=%s\n", err_name(errno));
    } else {
        printf("conf size ok=%d\n", none.ifc_len >= (int)sizeof(struct ifreq));
    }
    if (ioctl(s, SIOCGIFCONF, &c)) {
        printf("conf errno=%s\n", err_name(errno));
        return;
    }
    for (int i = 0; i < c.ifc_len / (int)sizeof(struct ifreq); i++) {
        struct sockaddr_in *a = (struct sockaddr_in *)&list[i].ifr_addr;
        printf("conf %s %s\n", list[i].ifr_name, inet_ntoa(a->sin_addr));
    }
}

static void private_ioctls(int s)
{
    static const struct {
        const char *name;
        unsigned long cmd;
    } calls[] = { { "SIOCBRADDBR", SIOCBRADDBR },
                  { "SIOCDEVPRIVATE", SIOCDEVPRIVATE },
                  { "SIOCDEVPRIVATE+1", SIOCDEVPRIVATE + 1 },
                  { "SIOCIWFIRSTPRIV", SIOCIWFIRSTPRIV },
                  { "SIOCGIWNAME", SIOCGIWNAME } };
    struct ifreq r;

    for (unsigned i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        int rc = ask(s, calls[i].cmd, &r, "wl0");
        printf("%s -> %d %s\n", calls[i].name, rc, rc ? err_name(errno) : "");
    }
}

static double us_since(const struct timespec *t0, long n)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return ((t1.tv_sec - t0->tv_sec) * 1e9 + (t1.tv_nsec - t0->tv_nsec)) / n /
           1e3;
}

static void bench(int s, long n)
{
    struct timespec t0;
    struct ifreq r;
    int avail;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        ioctl(s, FIONREAD, &avail);
    }
    printf("FIONREAD %.2f us\n", us_since(&t0, n));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        ask(s, SIOCGIFFLAGS, &r, "br0");
    }
    printf("SIOCGIFFLAGS br0 %.2f us\n", us_since(&t0, n));
}

int main(int argc, char **argv)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);

    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "conf")) {
        conf(s);
    } else if (argc > 2 && !strcmp(argv[1], "bench")) {
        bench(s, atol(argv[2]));
    } else if (argc > 1 && !strcmp(argv[1], "private")) {
        private_ioctls(s);
    } else {
        for (int i = 2; i < argc; i++) {
            show(s, argv[i]);
        }
    }
    return 0;
}
