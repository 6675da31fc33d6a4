/*
 * Any-address bind (see netbind.h).  Guest and host share file descriptors
 * (QEMU does not renumber them), so the fallback bind, getsockname and
 * SO_TYPE run on the host socket directly; a record per socket (by inode,
 * so a closed and reused fd is never confused with it) keeps the address
 * the guest asked for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "analysis/analysis.h"
#include "core/log.h"
#include "core/options.h"
#include "core/runtime.h"
#include "core/syscall_names.h"
#include "emu/netbind.h"

#define G_AF_INET 2
#define G_AF_INET6 10
#define G_IPPROTO_IP 0
#define G_IP_MULTICAST_IF 32
#define G_IP_ADD_MEMBERSHIP 35
#define SYS_BIND_ 2 /* socketcall numbers */
#define SYS_LISTEN_ 4
#define SYS_GETSOCKNAME_ 6
#define SYS_SETSOCKOPT_ 14
#define MAX_RECORDS 256
#define MAX_LISTENERS 1024
#define SA_MAX 28 /* sockaddr_in6 */

struct bind_rec {
    dev_t dev;
    ino_t ino;
    uint8_t asked[SA_MAX]; /* the guest's own sockaddr bytes */
    unsigned asked_len;
};

enum { NR_BIND, NR_LISTEN, NR_GETSOCKNAME, NR_SETSOCKOPT, NR_SOCKETCALL, NRS };
static const char *const nr_names[NRS] = { "bind", "listen", "getsockname",
                                           "setsockopt", "socketcall" };

static struct {
    int nr[NRS];
    int e_addrnotavail, e_acces, e_nodev; /* guest errno values */
    struct in_addr fb4;
    struct in6_addr fb6;
    int has_fb4, has_fb6, wildcard;
    long port_offset;
    pthread_mutex_t lock; /* everything below */
    struct bind_rec recs[MAX_RECORDS];
    unsigned nrecs, next_rec;
    struct {
        dev_t dev;
        ino_t ino;
    } listeners[MAX_LISTENERS];
    unsigned nlisteners;
    unsigned logged_opts; /* bit per no-op kind already logged */
} nb = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The real syscall the handler wraps, with the guest's arguments. */
struct real {
    int num;
    const int64_t *a;
    const struct sfemu_realcall_next *next;
};

static int64_t run_real(const struct real *r)
{
    int64_t b[SFEMU_NARGS];

    memcpy(b, r->a, sizeof(b));
    return sfemu_realcall_next(r->next, r->num, b);
}

static int sock_id(int fd, dev_t *dev, ino_t *ino)
{
    struct stat st;

    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        return -1;
    }
    *dev = st.st_dev;
    *ino = st.st_ino;
    return 0;
}

static unsigned guest_family(const uint8_t *sa)
{
    return sfemu_rt.t->big_endian ? (unsigned)(sa[0] << 8 | sa[1])
                                  : (unsigned)(sa[1] << 8 | sa[0]);
}

/* The guest's sockaddr as a host one: 0, or -1 for another family. */
static int to_host(const uint8_t *sa, unsigned len, struct sockaddr_storage *ss,
                   socklen_t *hlen)
{
    unsigned fam = guest_family(sa);

    memset(ss, 0, sizeof(*ss));
    if (fam == G_AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        memcpy(s4, sa, sizeof(*s4));
        s4->sin_family = AF_INET;
        *hlen = sizeof(*s4);
        return 0;
    }
    if (fam == G_AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        memcpy(s6, sa, sizeof(*s6));
        s6->sin6_family = AF_INET6;
        *hlen = sizeof(*s6);
        return 0;
    }
    return -1;
}

static void sa_text(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char a[INET6_ADDRSTRLEN] = "?";

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
        snprintf(out, cap, "%s:%u", a, ntohs(s4->sin_port));
    } else {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
        snprintf(out, cap, "[%s]:%u", a, ntohs(s6->sin6_port));
    }
}

static in_port_t *port_of(struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET ? &((struct sockaddr_in *)ss)->sin_port
                                    : &((struct sockaddr_in6 *)ss)->sin6_port;
}

/* 255.255.255.255 (INADDR_NONE: what inet_addr() makes of an empty or bad
 * string), or a wildcard address under -bind-wildcard loopback. */
static int redirect_always(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        uint32_t a = ((const struct sockaddr_in *)ss)->sin_addr.s_addr;
        return a == INADDR_BROADCAST || (nb.wildcard && a == INADDR_ANY);
    }
    return nb.wildcard && IN6_IS_ADDR_UNSPECIFIED(
                              &((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* Puts the fallback address of ss's family into ss; v6mapped: the IPv4
 * fallback as ::ffff:a.b.c.d (when the host has no ::1).  0 or -1. */
static int set_fallback(struct sockaddr_storage *ss, int v6mapped)
{
    if (ss->ss_family == AF_INET) {
        ((struct sockaddr_in *)ss)->sin_addr = nb.fb4;
        return nb.has_fb4 ? 0 : -1;
    }
    if (!v6mapped) {
        ((struct sockaddr_in6 *)ss)->sin6_addr = nb.fb6;
        return nb.has_fb6 ? 0 : -1;
    }
    if (!nb.has_fb4) {
        return -1;
    }
    struct in6_addr *a = &((struct sockaddr_in6 *)ss)->sin6_addr;
    memset(a, 0, sizeof(*a));
    a->s6_addr[10] = a->s6_addr[11] = 0xff;
    memcpy(&a->s6_addr[12], &nb.fb4, 4);
    return 0;
}

static void remember(int fd, const uint8_t *sa, unsigned len)
{
    struct bind_rec r = { 0 };

    if (sock_id(fd, &r.dev, &r.ino) != 0) {
        return;
    }
    memcpy(r.asked, sa, len);
    r.asked_len = len;
    pthread_mutex_lock(&nb.lock);
    for (unsigned i = 0; i < nb.nrecs; i++) {
        if (nb.recs[i].dev == r.dev && nb.recs[i].ino == r.ino) {
            nb.recs[i] = r;
            pthread_mutex_unlock(&nb.lock);
            return;
        }
    }
    nb.recs[nb.next_rec] = r; /* the oldest record goes when full */
    nb.next_rec = (nb.next_rec + 1) % MAX_RECORDS;
    if (nb.nrecs < MAX_RECORDS) {
        nb.nrecs++;
    }
    pthread_mutex_unlock(&nb.lock);
}

static int recall(int fd, struct bind_rec *out)
{
    dev_t dev;
    ino_t ino;
    int found = 0;

    if (sock_id(fd, &dev, &ino) != 0) {
        return 0;
    }
    pthread_mutex_lock(&nb.lock);
    for (unsigned i = 0; i < nb.nrecs && !found; i++) {
        if (nb.recs[i].dev == dev && nb.recs[i].ino == ino) {
            *out = nb.recs[i];
            found = 1;
        }
    }
    pthread_mutex_unlock(&nb.lock);
    return found;
}

/* ------------------------------------------------------------ bind */

static int64_t do_bind(int fd, uint64_t addr_g, uint64_t len,
                       const struct real *real)
{
    uint8_t sa[SA_MAX];
    struct sockaddr_storage asked, got;
    socklen_t hlen;
    int64_t ret = 0;
    int now, tried_port = 0, tried_mapped = 0, err;
    char a_txt[64], g_txt[64];

    if (len > SA_MAX) {
        len = SA_MAX;
    }
    if (len < 2 || sfemu_rt.ops->read_mem(addr_g, sa, len) != 0 ||
        to_host(sa, (unsigned)len, &asked, &hlen) != 0) {
        return run_real(real);
    }
    now = redirect_always(&asked);
    if (!now) {
        ret = run_real(real);
        if (ret != -nb.e_addrnotavail && ret != -nb.e_acces) {
            return ret;
        }
    }
    got = asked;
    if ((now || ret == -nb.e_addrnotavail) && set_fallback(&got, 0) != 0 &&
        set_fallback(&got, 1) != 0) {
        return now ? run_real(real) : ret;
    }
    for (;;) {
        if (bind(fd, (struct sockaddr *)&got, hlen) == 0) {
            break;
        }
        err = errno;
        if (err == EACCES && !tried_port && nb.port_offset &&
            ntohs(*port_of(&got)) > 0 && ntohs(*port_of(&got)) < 1024) {
            tried_port = 1;
            *port_of(&got) = htons(ntohs(*port_of(&got)) + nb.port_offset);
            continue;
        }
        if (err == EADDRNOTAVAIL && got.ss_family == AF_INET6 &&
            !tried_mapped && set_fallback(&got, 1) == 0) {
            tried_mapped = 1; /* the host has no ::1: IPv4 loopback */
            continue;
        }
        sa_text(&asked, a_txt, sizeof(a_txt));
        sa_text(&got, g_txt, sizeof(g_txt));
        sfemu_log("bind %s: the fallback %s failed too (%s)", a_txt, g_txt,
                  strerror(err));
        return now ? -sfemu_rt.ops->errno_to_guest(err) : ret;
    }
    remember(fd, sa, (unsigned)len);
    sa_text(&asked, a_txt, sizeof(a_txt));
    sa_text(&got, g_txt, sizeof(g_txt));
    sfemu_log("bind %s -> %s (%s)", a_txt, g_txt,
              ret == -nb.e_acces ? "privileged port"
              : now              ? "an address no service can be reached at"
                                 : "the host has no such address");
    return 0;
}

/* ------------------------------------------------------------ listen */

static void log_listener(int fd)
{
    struct sockaddr_storage got, asked;
    socklen_t glen = sizeof(got), hlen;
    struct bind_rec r;
    char a_txt[64], g_txt[64];
    dev_t dev;
    ino_t ino;
    int type = 0;
    socklen_t tlen = sizeof(type);

    if (sock_id(fd, &dev, &ino) != 0 ||
        getsockname(fd, (struct sockaddr *)&got, &glen) != 0 ||
        (got.ss_family != AF_INET && got.ss_family != AF_INET6)) {
        return;
    }
    pthread_mutex_lock(&nb.lock);
    for (unsigned i = 0; i < nb.nlisteners; i++) {
        if (nb.listeners[i].dev == dev && nb.listeners[i].ino == ino) {
            pthread_mutex_unlock(&nb.lock);
            return; /* logged once */
        }
    }
    if (nb.nlisteners < MAX_LISTENERS) {
        nb.listeners[nb.nlisteners].dev = dev;
        nb.listeners[nb.nlisteners++].ino = ino;
    }
    pthread_mutex_unlock(&nb.lock);
    asked = got;
    if (recall(fd, &r) && to_host(r.asked, r.asked_len, &asked, &hlen) == 0 &&
        !*port_of(&asked)) {
        *port_of(&asked) = *port_of(&got); /* asked for any port */
    }
    sa_text(&asked, a_txt, sizeof(a_txt));
    sa_text(&got, g_txt, sizeof(g_txt));
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen);
    if (strcmp(a_txt, g_txt)) {
        sfemu_log("listening: %s %s (asked %s)",
                  type == SOCK_STREAM ? "tcp" : "other", g_txt, a_txt);
    } else {
        sfemu_log("listening: %s %s", type == SOCK_STREAM ? "tcp" : "other",
                  g_txt);
    }
    sfemu_analysis_listen(type == SOCK_STREAM ? "tcp" : "other", a_txt, g_txt);
}

/* ------------------------------------------------------------ getsockname */

static void put_guest_u32(uint64_t g, uint32_t v)
{
    uint8_t b[4];

    for (int i = 0; i < 4; i++) {
        b[sfemu_rt.t->big_endian ? 3 - i : i] = (uint8_t)(v >> 8 * i);
    }
    sfemu_rt.ops->write_mem(g, b, 4);
}

static int64_t do_getsockname(int fd, uint64_t addr_g, uint64_t len_g,
                              const struct real *real)
{
    int64_t ret = run_real(real);
    struct bind_rec r;
    uint8_t cap_b[4];
    uint32_t cap;

    if (ret != 0 || !recall(fd, &r) ||
        sfemu_rt.ops->read_mem(len_g, cap_b, 4) != 0) {
        return ret;
    }
    cap = sfemu_rt.t->big_endian ? (uint32_t)cap_b[0] << 24 | cap_b[1] << 16 |
                                       cap_b[2] << 8 | cap_b[3]
                                 : (uint32_t)cap_b[3] << 24 | cap_b[2] << 16 |
                                       cap_b[1] << 8 | cap_b[0];
    if (r.asked[2] == 0 && r.asked[3] == 0) {
        struct sockaddr_storage got;
        socklen_t glen = sizeof(got);
        if (getsockname(fd, (struct sockaddr *)&got, &glen) == 0) {
            memcpy(&r.asked[2], port_of(&got), 2); /* asked for any port */
        }
    }
    sfemu_rt.ops->write_mem(addr_g, r.asked,
                            cap < r.asked_len ? cap : r.asked_len);
    put_guest_u32(len_g, r.asked_len);
    return 0;
}

/* ------------------------------------------------------------ setsockopt */

static int64_t do_setsockopt(int fd, int level, int opt, uint64_t val_g,
                             uint64_t len, const struct real *real)
{
    int64_t ret = run_real(real);
    unsigned kind;
    char what[64];

    (void)fd;
    if (ret >= 0) {
        return ret;
    }
    if (level == sfemu_rt.t->sol_socket && opt == sfemu_rt.t->so_bindtodevice) {
        char dev[17] = { 0 };
        sfemu_rt.ops->read_mem(val_g, dev, len < 16 ? len : 16);
        snprintf(what, sizeof(what), "SO_BINDTODEVICE \"%s\"", dev);
        kind = 1;
    } else if (level == G_IPPROTO_IP &&
               (opt == G_IP_ADD_MEMBERSHIP || opt == G_IP_MULTICAST_IF) &&
               (ret == -nb.e_nodev || ret == -nb.e_addrnotavail)) {
        snprintf(what, sizeof(what), "%s",
                 opt == G_IP_ADD_MEMBERSHIP ? "IP_ADD_MEMBERSHIP"
                                            : "IP_MULTICAST_IF");
        kind = opt == G_IP_ADD_MEMBERSHIP ? 2 : 4;
    } else {
        return ret;
    }
    pthread_mutex_lock(&nb.lock);
    if (!(nb.logged_opts & kind)) {
        nb.logged_opts |= kind;
        sfemu_log("setsockopt %s: the host refuses it (errno %d), so it "
                  "succeeds as a no-op (logged once)",
                  what, (int)-ret);
    }
    pthread_mutex_unlock(&nb.lock);
    return 0;
}

/* ------------------------------------------------------------ dispatch */

static int64_t nb_call(int num, int64_t a[SFEMU_NARGS],
                       const struct sfemu_realcall_next *next)
{
    struct real real = { num, a, next };
    int64_t v[5];

    if (num == nb.nr[NR_SOCKETCALL]) {
        static const int nargs[] = { [SYS_BIND_] = 3,
                                     [SYS_LISTEN_] = 2,
                                     [SYS_GETSOCKNAME_] = 3,
                                     [SYS_SETSOCKOPT_] = 5 };
        int call = (int)a[0], w = sfemu_rt.t->abi_bits / 8;
        uint8_t b[5 * 8];

        if (call < 0 || call >= (int)(sizeof(nargs) / sizeof(*nargs)) ||
            !nargs[call] ||
            sfemu_rt.ops->read_mem(sfemu_guest_addr(a[1]), b,
                                   nargs[call] * w) != 0) {
            return run_real(&real);
        }
        for (int i = 0; i < nargs[call]; i++) {
            uint64_t x = 0;
            for (int k = 0; k < w; k++) {
                x = x << 8 |
                    b[i * w + (sfemu_rt.t->big_endian ? k : w - 1 - k)];
            }
            v[i] = sfemu_abi_long((int64_t)x);
        }
        num = call == SYS_BIND_          ? nb.nr[NR_BIND]
              : call == SYS_LISTEN_      ? nb.nr[NR_LISTEN]
              : call == SYS_GETSOCKNAME_ ? nb.nr[NR_GETSOCKNAME]
                                         : nb.nr[NR_SETSOCKOPT];
        if (num < 0) {
            num = -100 - call; /* no direct syscall: dispatch on call */
        }
    } else {
        memcpy(v, a, sizeof(v));
    }
    if (num == nb.nr[NR_BIND] || num == -100 - SYS_BIND_) {
        return do_bind((int)v[0], sfemu_guest_addr(v[1]),
                       sfemu_guest_addr(v[2]), &real);
    }
    if (num == nb.nr[NR_LISTEN] || num == -100 - SYS_LISTEN_) {
        int64_t ret = run_real(&real);
        if (ret == 0) {
            log_listener((int)v[0]);
        }
        return ret;
    }
    if (num == nb.nr[NR_GETSOCKNAME] || num == -100 - SYS_GETSOCKNAME_) {
        return do_getsockname((int)v[0], sfemu_guest_addr(v[1]),
                              sfemu_guest_addr(v[2]), &real);
    }
    return do_setsockopt((int)v[0], (int)v[1], (int)v[2],
                         sfemu_guest_addr(v[3]), sfemu_guest_addr(v[4]), &real);
}

static int nb_takes(int num)
{
    for (int i = 0; i < NRS; i++) {
        if (num >= 0 && num == nb.nr[i]) {
            return 1;
        }
    }
    return 0;
}

static const struct sfemu_rewriter nb_handler = {
    .name = "bind fallback",
    .takes = nb_takes,
    .call = nb_call,
};

int sfemu_netbind_wanted(void)
{
    const char *v = sfemu_opt_str(SFEMU_OPT_bind_fallback);

    if (v && !strcmp(v, "off")) {
        return 0;
    }
    return sfemu_opt_given(SFEMU_OPT_bind_fallback) ||
           sfemu_opt_str(SFEMU_OPT_rules) != NULL;
}

static void __attribute__((noreturn)) bad_fallback(const char *v)
{
    fprintf(stderr,
            "qemu: -bind-fallback '%s': expected an IPv4 and/or an IPv6 "
            "address (comma-separated), or off\n",
            v);
    exit(EXIT_FAILURE);
}

const struct sfemu_rewriter *sfemu_netbind_init(void)
{
    const char *v = sfemu_opt_str(SFEMU_OPT_bind_fallback);
    char copy[128], *save = NULL;

    if (!v || strlen(v) >= sizeof(copy)) {
        bad_fallback(v ? v : "");
    }
    snprintf(copy, sizeof(copy), "%s", v);
    for (char *t = strtok_r(copy, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        if (!nb.has_fb4 && inet_pton(AF_INET, t, &nb.fb4) == 1) {
            nb.has_fb4 = 1;
        } else if (!nb.has_fb6 && inet_pton(AF_INET6, t, &nb.fb6) == 1) {
            nb.has_fb6 = 1;
        } else {
            bad_fallback(v);
        }
    }
    if (!nb.has_fb4 && !nb.has_fb6) {
        bad_fallback(v);
    }
    nb.wildcard = sfemu_opt_long(SFEMU_OPT_bind_wildcard) == 1;
    nb.port_offset = sfemu_opt_long(SFEMU_OPT_bind_port_offset);
    for (int i = 0; i < NRS; i++) {
        nb.nr[i] = sfemu_syscall_num(nr_names[i]);
    }
    nb.e_addrnotavail = sfemu_rt.ops->errno_to_guest(EADDRNOTAVAIL);
    nb.e_acces = sfemu_rt.ops->errno_to_guest(EACCES);
    nb.e_nodev = sfemu_rt.ops->errno_to_guest(ENODEV);
    return &nb_handler;
}
