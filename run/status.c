/*
 * What the user sees while the service runs: the stage lines, and on a
 * terminal one status line redrawn in place (elapsed, processes,
 * syscalls/s, last event, ports).  Off a terminal only the stage lines
 * are printed, so logs and pipes stay plain.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "run.h"

static struct {
    int tty;   /* stdout is a terminal */
    int drawn; /* a status line is on the screen */
    uint64_t last_count;
    double last_t;
    double rate;
} st;

void run_status_init(void)
{
    st.tty = isatty(STDOUT_FILENO) && !getenv("SFEMU_NO_STATUS");
}

static void clear(void)
{
    if (st.drawn) {
        fputs("\r\033[K", stdout);
        st.drawn = 0;
    }
}

void run_say(const char *fmt, ...)
{
    va_list ap;
    clear();
    fputs("sfemu run: ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

uint64_t run_syscall_count(const char *analysis)
{
    char dir[PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/live", analysis);
    DIR *d = opendir(dir);
    uint64_t sum = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[PATH_MAX + 300];
        uint64_t v;
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        FILE *f = fopen(p, "rb");
        if (f && fread(&v, sizeof v, 1, f) == 1) {
            sum += v;
        }
        if (f) {
            fclose(f);
        }
    }
    if (d) {
        closedir(d);
    }
    return sum;
}

void run_log_last(const char *file, long tail, char *rt, char *wd, char *guest,
                  size_t cap)
{
    char *const out[] = { rt, wd, guest };
    for (int i = 0; i < 3; i++) {
        if (out[i]) {
            out[i][0] = 0;
        }
    }
    FILE *f = fopen(file, "r");
    char line[512];
    if (!f) {
        return;
    }
    if (tail > 0 && fseek(f, -tail, SEEK_END) == 0 &&
        fgets(line, sizeof line, f)) {
        /* a partial first line */
    }
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        const char *e = strstr(line, "] ");
        if (!strncmp(line, "[sfemu ", 7) && e) {
            if (rt) {
                snprintf(rt, cap, "%s", e + 2);
            }
            if (wd && !strncmp(e + 2, "watchdog: ", 10)) {
                snprintf(wd, cap, "%s", e + 2);
            }
        } else if (guest && line[0] && strncmp(line, "[sfemu ", 7) != 0) {
            snprintf(guest, cap, "%s", line);
        }
    }
    fclose(f);
}

void run_status(double el, int procs, const char *analysis, const char *log,
                const struct run_ports *ps)
{
    uint64_t n = run_syscall_count(analysis);
    if (el - st.last_t >= 1.0 || !st.last_t) {
        double dt = el - st.last_t;
        st.rate = st.last_t && dt > 0 && n >= st.last_count
                      ? (double)(n - st.last_count) / dt
                      : 0;
        st.last_count = n;
        st.last_t = el;
    }
    if (!st.tty) {
        return;
    }
    char line[1024], ev[256], ports[256] = "";
    /* the tail is enough: the log can grow large */
    run_log_last(log, 8192, ev, NULL, NULL, sizeof ev);
    for (int i = 0; i < ps->n && strlen(ports) < 200; i++) {
        size_t l = strlen(ports);
        snprintf(ports + l, sizeof ports - l, "%s%s:%d", i ? " " : "",
                 ps->p[i].address, ps->p[i].port);
    }
    snprintf(line, sizeof line,
             "[%.0fs] %d process%s, %.0f syscalls/s, ports: %s | %s", el, procs,
             procs == 1 ? "" : "es", st.rate, ports[0] ? ports : "none",
             ev[0] ? ev : "-");
    struct winsize ws;
    size_t width = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col
                       ? ws.ws_col
                       : 80;
    if (strlen(line) >= width) {
        line[width - 1] = 0; /* one screen line, or \r cannot redraw it */
    }
    fputs("\r\033[K", stdout);
    fputs(line, stdout);
    fflush(stdout);
    st.drawn = 1;
}

void run_status_end(void)
{
    clear();
    fflush(stdout);
}
