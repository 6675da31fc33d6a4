/*
 * Guest for the true-root benchmark (bench/trueroot/run.sh).
 *
 *   path_loop open PATH N     N x (open PATH, read 64 B, close)
 *   path_loop stat PATH N     N x stat PATH
 *   path_loop create DIR N    N x (open DIR/f O_CREAT|O_TRUNC, close)
 *   path_loop rel PATH N      chdir(dirname PATH), N x open/read/close basename
 *
 * Prints one line: mode=<m> n=<N> ns=<elapsed> ns_per_iter=<x>
 * (CLOCK_MONOTONIC inside the guest, around the loop only).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int open_read_close(const char *path)
{
    char buf[64];
    int fd = open(path, O_RDONLY);

    if (fd < 0) {
        fprintf(stderr, "open %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (read(fd, buf, sizeof(buf)) < 0) {
        fprintf(stderr, "read %s: %s\n", path, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    char path[4096], dir[4096];
    const char *mode;
    struct stat st;
    uint64_t t0, t1;
    long n;

    if (argc < 4) {
        fprintf(stderr, "usage: %s open|stat|create|rel PATH N\n", argv[0]);
        return 2;
    }
    mode = argv[1];
    n = strtol(argv[3], NULL, 10);
    if (n <= 0) {
        fprintf(stderr, "bad N\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s", argv[2]);
    if (!strcmp(mode, "rel")) {
        snprintf(dir, sizeof(dir), "%s", argv[2]);
        if (chdir(dirname(dir)) != 0) {
            fprintf(stderr, "chdir: %s\n", strerror(errno));
            return 1;
        }
        snprintf(dir, sizeof(dir), "%s", argv[2]);
        snprintf(path, sizeof(path), "%s", basename(dir));
    } else if (!strcmp(mode, "create")) {
        snprintf(path, sizeof(path), "%s/sfemu-bench-create", argv[2]);
    }
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
        if (!strcmp(mode, "stat")) {
            if (stat(path, &st) != 0) {
                fprintf(stderr, "stat %s: %s\n", path, strerror(errno));
                return 1;
            }
        } else if (!strcmp(mode, "create")) {
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0) {
                fprintf(stderr, "create %s: %s\n", path, strerror(errno));
                return 1;
            }
            close(fd);
        } else if (open_read_close(path) != 0) {
            return 1;
        }
    }
    t1 = now_ns();
    if (!strcmp(mode, "create")) {
        unlink(path);
    }
    printf("mode=%s n=%ld ns=%llu ns_per_iter=%.1f\n", mode, n,
           (unsigned long long)(t1 - t0), (double)(t1 - t0) / (double)n);
    return 0;
}
