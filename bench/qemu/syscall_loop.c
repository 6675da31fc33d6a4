/*
 * Guest for the hook-runtime benchmark (bench/qemu/run.sh).
 *
 *   syscall_loop getppid N      N x syscall(SYS_getppid)
 *   syscall_loop file N [DIR]   N x (pwrite 64 B + pread 64 B) on a temp file
 *   syscall_loop rw N [DIR]     N x (lseek 0 + write 64 B + lseek 0 + read
 *                               64 B) on a temp file (calls rules_examples
 *                               hooks)
 *   syscall_loop map N          N x (mmap 64 KiB anonymous + a write to
 *                               its first page + munmap): what malloc does
 *                               for a large block (rules_examples hooks
 *                               mmap2 and munmap for fake mappings)
 *   syscall_loop watch N        getppid() until its result has changed N
 *                               times; prints "change=<r> t=<ns>" with the
 *                               CLOCK_REALTIME of each change
 *                               (bench/qemu/reload.sh)
 *
 * Prints one line:
 *   mode=<m> n=<N> syscalls=<S> ns=<elapsed> ns_per_syscall=<x>
 *   cpu_ns_per_syscall=<y> last=<r>
 * (elapsed is CLOCK_MONOTONIC inside the guest, around the loop only, y the
 * same with the thread's CPU time (CLOCK_THREAD_CPUTIME_ID: QEMU's host
 * thread), which a busy machine inflates less; last is
 * the return value of the last getppid / pread / read, so a test rule that fakes the
 * result can be seen to have run).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

int main(int argc, char **argv)
{
    const char *mode;
    long n;
    uint64_t t0, t1, c0, c1, nsys;
    long last = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: %s getppid|file N [DIR]\n", argv[0]);
        return 2;
    }
    mode = argv[1];
    n = strtol(argv[2], NULL, 10);
    if (n <= 0) {
        fprintf(stderr, "bad N\n");
        return 2;
    }

    if (!strcmp(mode, "getppid")) {
        c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        t0 = now_ns();
        for (long i = 0; i < n; i++) {
            last = syscall(SYS_getppid);
        }
        t1 = now_ns();
        c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        nsys = (uint64_t)n;
    } else if (!strcmp(mode, "file") || !strcmp(mode, "rw")) {
        char path[4096];
        char wbuf[64], rbuf[64];
        const char *dir = argc > 3 ? argv[3] : "/tmp";
        int fd;

        snprintf(path, sizeof path, "%s/sfemu-bench-XXXXXX", dir);
        fd = mkstemp(path);
        if (fd < 0) {
            fprintf(stderr, "mkstemp %s: %s\n", path, strerror(errno));
            return 1;
        }
        unlink(path);
        memset(wbuf, 'x', sizeof wbuf);
        c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        t0 = now_ns();
        for (long i = 0; mode[0] == 'r' && i < n; i++) {
            wbuf[0] = (char)i;
            if (lseek(fd, 0, SEEK_SET) != 0 ||
                write(fd, wbuf, sizeof wbuf) != (ssize_t)sizeof wbuf ||
                lseek(fd, 0, SEEK_SET) != 0) {
                fprintf(stderr, "write/lseek: %s\n", strerror(errno));
                return 1;
            }
            last = read(fd, rbuf, sizeof rbuf);
            if (last != (long)sizeof rbuf || rbuf[0] != (char)i) {
                fprintf(stderr, "read: %s\n", strerror(errno));
                return 1;
            }
        }
        for (long i = 0; mode[0] == 'f' && i < n; i++) {
            wbuf[0] = (char)i;
            if (pwrite(fd, wbuf, sizeof wbuf, 0) != (ssize_t)sizeof wbuf) {
                fprintf(stderr, "pwrite: %s\n", strerror(errno));
                return 1;
            }
            last = pread(fd, rbuf, sizeof rbuf, 0);
            if (last != (long)sizeof rbuf || rbuf[0] != (char)i) {
                fprintf(stderr, "pread: %s\n", strerror(errno));
                return 1;
            }
        }
        t1 = now_ns();
        c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        close(fd);
        nsys = (mode[0] == 'r' ? 4 : 2) * (uint64_t)n;
    } else if (!strcmp(mode, "map")) {
        c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        t0 = now_ns();
        for (long i = 0; i < n; i++) {
            char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) {
                fprintf(stderr, "mmap: %s\n", strerror(errno));
                return 1;
            }
            p[0] = (char)i;
            last = munmap(p, 65536);
        }
        t1 = now_ns();
        c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        nsys = 2 * (uint64_t)n;
    } else if (!strcmp(mode, "watch")) {
        long prev = syscall(SYS_getppid);
        for (long k = 0; k < n;) {
            struct timespec ts;
            last = syscall(SYS_getppid);
            if (last != prev) {
                clock_gettime(CLOCK_REALTIME, &ts);
                printf("change=%ld t=%lld\n", last,
                       (long long)ts.tv_sec * 1000000000 + ts.tv_nsec);
                fflush(stdout);
                prev = last;
                k++;
            }
        }
        return 0;
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }

    printf("mode=%s n=%ld syscalls=%llu ns=%llu ns_per_syscall=%.1f "
           "cpu_ns_per_syscall=%.1f last=%ld\n",
           mode, n, (unsigned long long)nsys, (unsigned long long)(t1 - t0),
           (double)(t1 - t0) / (double)nsys, (double)(c1 - c0) / (double)nsys,
           last);
    return 0;
}
