/*
 * The ports the service listens on (TCP sockets of its processes, from
 * /proc/net/tcp and tcp6 of the namespace sfemu run shares with it) and
 * the HTTP probe of each (libcurl): the code, and whether the page is
 * well-formed (HTML with a title or a login form; a 401 is a login).
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "run.h"

#define MAX_INODES 512

/* Socket inodes of the processes in the service's pid namespace. */
static int socket_inodes(const struct run_service *s, unsigned long *ino,
                         int cap)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d))) {
        char p[300], l[64];
        unsigned long ns;
        if (e->d_name[0] < '0' || e->d_name[0] > '9') {
            continue;
        }
        snprintf(p, sizeof p, "/proc/%s/ns/pid", e->d_name);
        ssize_t k = readlink(p, l, sizeof l - 1);
        if (k <= 0 || (l[k] = 0, sscanf(l, "pid:[%lu]", &ns) != 1) ||
            ns != s->pidns) {
            continue;
        }
        snprintf(p, sizeof p, "/proc/%s/fd", e->d_name);
        DIR *fd = opendir(p);
        struct dirent *f;
        while (fd && (f = readdir(fd)) && n < cap) {
            char fp[600];
            snprintf(fp, sizeof fp, "%s/%s", p, f->d_name);
            k = readlink(fp, l, sizeof l - 1);
            if (k > 0 && (l[k] = 0, sscanf(l, "socket:[%lu]", &ino[n]) == 1)) {
                n++;
            }
        }
        if (fd) {
            closedir(fd);
        }
    }
    if (d) {
        closedir(d);
    }
    return n;
}

static void scan_file(const char *path, int v6, const unsigned long *ino,
                      int ni, struct run_ports *ps, double t, int *added)
{
    FILE *f = fopen(path, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char local[64];
        unsigned st, port;
        unsigned long inode;
        if (sscanf(line,
                   " %*d: %63[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*s %*s "
                   "%lu",
                   local, &port, &st, &inode) != 4 ||
            st != 0x0A) {
            continue;
        }
        int mine = 0;
        for (int i = 0; i < ni && !mine; i++) {
            mine = ino[i] == inode;
        }
        if (!mine) {
            continue;
        }
        /* the address: 32-bit words in host order */
        unsigned char a[16];
        for (int w = 0; w < (v6 ? 4 : 1); w++) {
            unsigned x;
            char h[9];
            memcpy(h, local + w * 8, 8);
            h[8] = 0;
            sscanf(h, "%x", &x);
            memcpy(a + w * 4, &x, 4);
        }
        char addr[64];
        inet_ntop(v6 ? AF_INET6 : AF_INET, a, addr, sizeof addr);
        int known = 0;
        for (int i = 0; i < ps->n && !known; i++) {
            known =
                ps->p[i].port == (int)port && !strcmp(ps->p[i].address, addr);
        }
        if (known || ps->n >= RUN_MAX_PORTS) {
            continue;
        }
        struct run_port *p = &ps->p[ps->n++];
        memset(p, 0, sizeof *p);
        snprintf(p->address, sizeof p->address, "%s", addr);
        p->port = (int)port;
        p->v6 = v6;
        p->t_listen = t;
        (*added)++;
    }
    if (f) {
        fclose(f);
    }
}

int run_ports_scan(const struct run_service *s, struct run_ports *ps, double t)
{
    unsigned long ino[MAX_INODES];
    int ni = socket_inodes(s, ino, MAX_INODES), added = 0;
    if (ni > 0) {
        scan_file("/proc/self/net/tcp", 0, ino, ni, ps, t, &added);
        scan_file("/proc/self/net/tcp6", 1, ino, ni, ps, t, &added);
    }
    return added;
}

struct body {
    char *b;
    size_t n;
};

static size_t on_data(char *p, size_t sz, size_t nm, void *u)
{
    struct body *b = u;
    size_t n = sz * nm, room = 65536 - b->n;
    size_t k = n < room ? n : room;
    memcpy(b->b + b->n, p, k);
    b->n += k;
    b->b[b->n] = 0;
    return n;
}

/* Whether the answer is a page a person would see: why says. */
static void judge(struct run_port *p, const char *body)
{
    const char *t = strcasestr(body, "<title");
    const char *form = strcasestr(body, "<form");
    const char *pw = strcasestr(body, "type=\"password\"");
    if (!pw) {
        pw = strcasestr(body, "type=password");
    }
    if (p->code == 401) {
        p->well_formed = 1;
        snprintf(p->why, sizeof p->why, "401: a login (HTTP authentication)");
    } else if (t && (t = strchr(t, '>'))) {
        const char *e = strcasestr(t, "</title");
        size_t n = e ? (size_t)(e - t - 1) : 0;
        n = n < sizeof p->title ? n : sizeof p->title - 1;
        memcpy(p->title, t + 1, n);
        p->title[n] = 0;
        p->well_formed = 1;
        snprintf(p->why, sizeof p->why, "HTML with a title");
    } else if (form && pw) {
        p->well_formed = 1;
        snprintf(p->why, sizeof p->why, "HTML with a login form");
    } else {
        snprintf(p->why, sizeof p->why, "%s",
                 body[0] ? "the page has no <title> and no login form"
                         : "an empty page");
    }
}

void run_probe(struct run_ports *ps, double t)
{
    static char buf[65537];
    for (int i = 0; i < ps->n; i++) {
        struct run_port *p = &ps->p[i];
        if (p->code) {
            continue;
        }
        /* a wildcard is reached through loopback */
        const char *host = !strcmp(p->address, "0.0.0.0") ? "127.0.0.1"
                           : !strcmp(p->address, "::")    ? "::1"
                                                          : p->address;
        char url[128];
        snprintf(url, sizeof url, p->v6 ? "http://[%s]:%d/" : "http://%s:%d/",
                 host, p->port);
        struct body b = { buf, 0 };
        buf[0] = 0;
        CURL *c = curl_easy_init();
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 3L);
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        CURLcode r = curl_easy_perform(c);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (r == CURLE_OK && code > 0) {
            p->code = (int)code;
            p->t_answer = t;
            judge(p, buf);
        } else {
            snprintf(p->why, sizeof p->why, "%s: %s", url,
                     curl_easy_strerror(r));
        }
        curl_easy_cleanup(c);
    }
}
