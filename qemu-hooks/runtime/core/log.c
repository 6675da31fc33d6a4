/*
 * Log destination: $SFEMU_LOG (a file, appended) or a private duplicate of
 * stderr taken at start-up, so a guest that closes or redirects its fd 2
 * (daemons do) does not silence the runtime.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/options.h"
#include "core/log.h"

#define SFEMU_LOG_FD_MIN 1000 /* out of the way of the guest's low fds */

static int log_fd = 2;

void sfemu_log_init(void)
{
    const char *path = sfemu_opt_str(SFEMU_OPT_log);
    int fd;

    if (path && *path) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) {
            fprintf(stderr,
                    "[sfemu] cannot open SFEMU_LOG '%s': %m; "
                    "logging to stderr\n",
                    path);
            fd = 2;
        }
    } else {
        fd = 2;
    }
    log_fd = fcntl(fd, F_DUPFD_CLOEXEC, SFEMU_LOG_FD_MIN);
    if (log_fd < 0) {
        log_fd = fd;
    } else if (fd != 2) {
        close(fd);
    }
}

int sfemu_log_fd(void)
{
    return log_fd;
}

void sfemu_log(const char *fmt, ...)
{
    char buf[4096];
    int n = snprintf(buf, sizeof(buf), "[sfemu %d] ", (int)getpid());
    va_list ap;

    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 2) {
        n = sizeof(buf) - 2;
    }
    buf[n++] = '\n';
    if (write(log_fd, buf, n) < 0) {
        /* nowhere left to report it */
    }
}
