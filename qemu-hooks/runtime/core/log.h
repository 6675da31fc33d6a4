/* The runtime's log: one write() per line, so lines from threads and forked
 * children never interleave. */
#ifndef SFEMU_LOG_H
#define SFEMU_LOG_H

void sfemu_log_init(void);
void sfemu_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The fd log lines go to (a helper thread with its own fd table keeps it). */
int sfemu_log_fd(void);

#endif
