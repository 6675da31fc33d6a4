/* Logging: --log FILE, or <upper>/sfemu-mount.log, or stderr in -f mode. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include "sfemu_mount.h"

static FILE *log_f;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_open(const char *path, int to_stderr)
{
    if (path) {
        FILE *f = fopen(path, "ae");
        if (f) {
            setvbuf(f, NULL, _IOLBF, 0);
            log_f = f;
            return;
        }
        fprintf(stderr, "sfemu-mount: cannot open log %s, using stderr\n",
                path);
    }
    log_f = to_stderr ? stderr : NULL;
}

void log_line(const char *msg)
{
    FILE *f = log_f ? log_f : stderr;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    pthread_mutex_lock(&log_lock);
    fprintf(f, "%s.%03ld [%d] %s\n", when, ts.tv_nsec / 1000000, (int)getpid(),
            msg);
    fflush(f);
    pthread_mutex_unlock(&log_lock);
}

void log_msg(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_line(buf);
}
