/*
 * Asynchronous HTTP probes (c_async_probe_http, the deadloop detector's
 * progress check): a helper thread connects to a loopback host:port, sends
 * "GET / HTTP/1.0" and reads the status line, off the guest's thread.
 */
#ifndef SFEMU_PROBE_H
#define SFEMU_PROBE_H

#include <stdint.h>

/* host: "127.x.y.z[:port]" or "localhost[:port]" (port 80 by default);
 * loopback only.  Returns the probe id (> 0) or -errno (host errno):
 * -EINVAL bad host, -EPERM not loopback, -EBUSY too many in flight. */
long sfemu_probe_http_start(const char *host, long timeout_ms);
/* 1: done (*ok, *status: HTTP code or -errno, *ms filled); 0: pending;
 * -ENOENT: unknown id or one overwritten by 16 newer probes. */
int sfemu_probe_http_result(long id, int *ok, int *status, long *ms);
/* The last completed probe: its completion time (CLOCK_MONOTONIC ns, 0 if
 * none yet) and in *ok whether the service answered HTTP. */
int64_t sfemu_probe_http_last(int *ok);
void sfemu_probe_after_fork(void);

#endif
