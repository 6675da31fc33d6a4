/*
 * httpd: a vendor-style router web server for the SFEmu demo
 * (docs/firmware-pack.md, "The demo").  It starts the way Broadcom-based
 * router firmware does, so that each start-up step needs one of SFEmu's
 * interventions under emulation:
 *   1. NVRAM through /dev/nvram, the Broadcom way (libnvram: read/mmap),
 *   2. NVRAM through the WLCSM netlink socket (protocol 31),
 *   3. the certificate /etc/server.pem,
 *   4. SIOCGIFADDR for br0, whose address it binds (port: http_lanport),
 *   5. a double fork, then its pid in /var/run (/var -> /tmp/var).
 * A step that fails ends the program with "httpd: STEP: what was missing".
 * Then it serves a page of NVRAM values and runs CGI programs from
 * /www/cgi-bin (the demo's CGI sets a key with the nvram command).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libnvram.h"
#include "wlcsm.h"

#define CERT_PATH "/etc/server.pem"
#define PID_PATH "/var/run/httpd.pid"
#define CGI_DIR "/www/cgi-bin/"
#define LAN_IFNAME "br0"

/* What the page shows: read once at start-up, as vendor daemons do. */
struct config {
    char lan_ipaddr[64];
    char lan_hwaddr[64];
    char model_name[128];
    char br0_addr[INET_ADDRSTRLEN];
    int port;
};

static volatile sig_atomic_t stopping;

static void die(const char *step, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "httpd: %s: ", step);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static const char *errno_text(int err)
{
    return err ? strerror(err) : "no value";
}

static void copy_value(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* Step 1: Broadcom /dev/nvram through libnvram. */
static void read_nvram(struct config *cfg)
{
    const char *v;

    errno = 0;
    v = nvram_get("lan_ipaddr");
    if (!v || !*v)
        die("NVRAM", "/dev/nvram gave no lan_ipaddr (%s)", errno_text(errno));
    copy_value(cfg->lan_ipaddr, sizeof(cfg->lan_ipaddr), v);
    v = nvram_get("http_lanport");
    cfg->port = v ? atoi(v) : 0;
    if (cfg->port <= 0 || cfg->port > 65535)
        die("NVRAM", "/dev/nvram gave no valid http_lanport (%s)",
            v ? v : "unset");
    copy_value(cfg->lan_hwaddr, sizeof(cfg->lan_hwaddr),
               nvram_get("lan_hwaddr"));
    copy_value(cfg->model_name, sizeof(cfg->model_name),
               nvram_get("model_name"));
    /* An optional key no defaults file has: the run record lists it. */
    v = nvram_get("http_debug");
    if (v && atoi(v) > 0)
        fprintf(stderr, "httpd: debug level %s\n", v);
}

/* Step 2: the WLCSM netlink path, as the wireless daemons use it. */
static void check_wlcsm(void)
{
    char *v;

    errno = 0;
    v = wlcsm_nvram_get("wl0_ssid");
    if (!v || !*v)
        die("WLCSM", "netlink protocol 31 gave no wl0_ssid (%s)",
            errno_text(errno));
}

/* Step 3: the TLS certificate the firmware's init would have made. */
static void check_certificate(void)
{
    char buf[4096];
    ssize_t n;
    int fd = open(CERT_PATH, O_RDONLY);

    if (fd < 0)
        die("certificate", "%s: %s", CERT_PATH, strerror(errno));
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        die("certificate", "%s: %s", CERT_PATH, strerror(errno));
    buf[n] = '\0';
    if (!strstr(buf, "-----BEGIN "))
        die("certificate", "%s holds no PEM block", CERT_PATH);
}

/* Step 4: the LAN bridge's address, which the server binds. */
static struct in_addr lan_address(struct config *cfg)
{
    struct ifreq ifr;
    struct sockaddr_in sin;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (fd < 0)
        die("interface", "socket: %s", strerror(errno));
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", LAN_IFNAME);
    if (ioctl(fd, SIOCGIFADDR, &ifr) < 0)
        die("interface", "SIOCGIFADDR %s: %s", LAN_IFNAME, strerror(errno));
    close(fd);
    memcpy(&sin, &ifr.ifr_addr, sizeof(sin));
    inet_ntop(AF_INET, &sin.sin_addr, cfg->br0_addr, sizeof(cfg->br0_addr));
    return sin.sin_addr;
}

static int listen_on(struct in_addr addr, int port)
{
    struct sockaddr_in sin;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        die("bind", "socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr = addr;
    sin.sin_port = htons(port);
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
        die("bind", "%s:%d: %s", inet_ntoa(addr), port, strerror(errno));
    if (listen(fd, 16) < 0)
        die("bind", "listen: %s", strerror(errno));
    return fd;
}

/*
 * Step 5: double fork.  The grandchild writes the pid file and tells the
 * first process through a pipe, so the launcher's exit status says whether
 * the daemon came up (0) or why not (1, the message on stderr).
 */
static void daemonize(void)
{
    int ready[2];
    char status = 0;
    pid_t pid;
    FILE *f;

    if (pipe(ready) < 0)
        die("daemon", "pipe: %s", strerror(errno));
    pid = fork();
    if (pid < 0)
        die("daemon", "fork: %s", strerror(errno));
    if (pid > 0) {
        close(ready[1]);
        if (read(ready[0], &status, 1) != 1 || status != 'y')
            exit(1);
        exit(0);
    }
    close(ready[0]);
    setsid();
    pid = fork();
    if (pid < 0)
        die("daemon", "second fork: %s", strerror(errno));
    if (pid > 0)
        _exit(0);
    f = fopen(PID_PATH, "w");
    if (!f)
        die("pid file", "%s: %s", PID_PATH, strerror(errno));
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    if (write(ready[1], "y", 1) != 1)
        exit(1);
    close(ready[1]);
}

static void send_text(int fd, const char *s)
{
    size_t len = strlen(s);

    while (len > 0) {
        ssize_t n = write(fd, s, len);

        if (n <= 0)
            return;
        s += n;
        len -= (size_t)n;
    }
}

static void sendf(int fd, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    send_text(fd, buf);
}

static void send_status(int fd, const char *status)
{
    sendf(fd,
          "HTTP/1.0 %s\r\nContent-Type: text/plain\r\n"
          "Connection: close\r\n\r\n%s\n",
          status, status);
}

static void serve_page(int fd, const struct config *cfg)
{
    char *ssid = wlcsm_nvram_get("wl0_ssid");
    char *note = wlcsm_nvram_get("demo_note");

    sendf(fd,
          "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n"
          "Connection: close\r\n\r\n"
          "<html><head><title>%s</title></head><body>\n"
          "<h1>%s</h1>\n<table>\n",
          cfg->model_name, cfg->model_name);
    sendf(fd, "<tr><td>lan_ipaddr</td><td>%s</td></tr>\n", cfg->lan_ipaddr);
    sendf(fd, "<tr><td>lan_hwaddr</td><td>%s</td></tr>\n", cfg->lan_hwaddr);
    sendf(fd, "<tr><td>http_lanport</td><td>%d</td></tr>\n", cfg->port);
    sendf(fd, "<tr><td>br0 (SIOCGIFADDR)</td><td>%s</td></tr>\n",
          cfg->br0_addr);
    sendf(fd, "<tr><td>wl0_ssid (WLCSM)</td><td>%s</td></tr>\n",
          ssid ? ssid : "");
    sendf(fd, "<tr><td>demo_note (WLCSM)</td><td>%s</td></tr>\n",
          note ? note : "");
    send_text(fd, "</table>\n</body></html>\n");
}

/* Runs CGI_DIR/NAME with its output to the client, as a CGI/1.1 server. */
static void run_cgi(int fd, const char *name, const char *query)
{
    char path[256];
    pid_t pid;

    if (!*name || strchr(name, '/') || name[0] == '.' || strlen(name) > 64) {
        send_status(fd, "404 Not Found");
        return;
    }
    snprintf(path, sizeof(path), "%s%s", CGI_DIR, name);
    if (access(path, X_OK) < 0) {
        send_status(fd, "404 Not Found");
        return;
    }
    send_text(fd, "HTTP/1.0 200 OK\r\nConnection: close\r\n");
    pid = fork();
    if (pid == 0) {
        dup2(fd, 1); /* stderr stays the server's log */
        setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
        setenv("GATEWAY_INTERFACE", "CGI/1.1", 1);
        setenv("REQUEST_METHOD", "GET", 1);
        setenv("QUERY_STRING", query, 1);
        setenv("SCRIPT_NAME", path, 1);
        execl(path, path, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

static void handle(int fd, const struct config *cfg)
{
    char req[2048], target[1024];
    char *q, *query = "";
    ssize_t n = read(fd, req, sizeof(req) - 1);

    if (n <= 0)
        return;
    req[n] = '\0';
    if (sscanf(req, "GET %1023s", target) != 1) {
        send_status(fd, "400 Bad Request");
        return;
    }
    q = strchr(target, '?');
    if (q) {
        *q = '\0';
        query = q + 1;
    }
    if (!strcmp(target, "/") || !strcmp(target, "/index.html"))
        serve_page(fd, cfg);
    else if (!strncmp(target, "/cgi-bin/", 9))
        run_cgi(fd, target + 9, query);
    else
        send_status(fd, "404 Not Found");
}

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

int main(void)
{
    struct config cfg;
    struct sigaction sa;
    struct in_addr addr;
    int lfd;

    memset(&cfg, 0, sizeof(cfg));
    read_nvram(&cfg);
    check_wlcsm();
    check_certificate();
    addr = lan_address(&cfg);
    lfd = listen_on(addr, cfg.port);
    daemonize();

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term; /* no SA_RESTART: accept returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    while (!stopping) {
        int fd = accept(lfd, NULL, NULL);

        if (fd < 0)
            continue;
        handle(fd, &cfg);
        close(fd);
    }
    unlink(PID_PATH);
    return 0;
}
