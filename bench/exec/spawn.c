/*
 * spawn N PROG [ARG...]: N times fork + execv(PROG) + waitpid, then prints
 * "ns_per_spawn=..." (CLOCK_MONOTONIC around the loop); PROG "-": the
 * child exits at once, without an exec (the cost of the fork alone).  Without
 * arguments it exits 0 at once: the small static program being spawned.
 * Built for the guests (guest exec) and for the host (qemu started by hand).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct timespec a, b;
    long n;

    if (argc < 3) {
        return 0;
    }
    n = atol(argv[1]);
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        int st;
        pid_t p = fork();

        if (p == 0) {
            if (argv[2][0] == '-') {
                _exit(0);
            }
            execv(argv[2], argv + 2);
            _exit(127);
        }
        if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) ||
            WEXITSTATUS(st) != 0) {
            fprintf(stderr, "spawn: %s failed\n", argv[2]);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("ns_per_spawn=%.0f\n",
           ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
    return 0;
}
