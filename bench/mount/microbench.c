/* Timing helpers for bench/mount/bench.sh (built by the script with cc).
 *   microbench seqread FILE          -> MiB/s reading FILE in 1 MiB blocks
 *   microbench orc FILE N            -> ns per open+read(4 KiB)+close
 *   microbench stat FILE N           -> ns per stat
 *   microbench run N PROG ARGS...    -> ns per fork+exec+wait of PROG */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        return 2;
    }
    static char buf[1 << 20];
    if (!strcmp(argv[1], "seqread")) {
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0) {
            perror(argv[2]);
            return 1;
        }
        double t = now();
        long total = 0;
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0) {
            total += n;
        }
        t = now() - t;
        close(fd);
        printf("%.1f\n", (double)total / (1 << 20) / t);
        return 0;
    }
    long n = argc > 3 ? atol(argv[3]) : 10000;
    if (!strcmp(argv[1], "orc")) {
        double t = now();
        for (long i = 0; i < n; i++) {
            int fd = open(argv[2], O_RDONLY);
            if (fd < 0 || read(fd, buf, 4096) < 0) {
                perror(argv[2]);
                return 1;
            }
            close(fd);
        }
        printf("%.0f\n", (now() - t) / (double)n * 1e9);
        return 0;
    }
    if (!strcmp(argv[1], "stat")) {
        struct stat st;
        double t = now();
        for (long i = 0; i < n; i++) {
            if (stat(argv[2], &st) < 0) {
                perror(argv[2]);
                return 1;
            }
        }
        printf("%.0f\n", (now() - t) / (double)n * 1e9);
        return 0;
    }
    if (!strcmp(argv[1], "run")) {
        n = atol(argv[2]);
        double t = now();
        for (long i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0) {
                int nul = open("/dev/null", O_WRONLY);
                dup2(nul, 1);
                execv(argv[3], argv + 3);
                _exit(127);
            }
            int st;
            waitpid(p, &st, 0);
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                fprintf(stderr, "run failed\n");
                return 1;
            }
        }
        printf("%.0f\n", (now() - t) / (double)n * 1e9);
        return 0;
    }
    return 2;
}
