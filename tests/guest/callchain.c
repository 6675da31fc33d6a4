/*
 * Known call chains for the shadow stack tests (tests/qemu/shadowstack.sh).
 * Cross-compiled for arm (and arm-thumb), mips, mipsel, aarch64.
 *   callchain              main -> level1 -> level2 -> level3 -> getppid
 *   callchain recurse N    main -> recurse(N) ... recurse(0) -> getppid,
 *                          back to main, then main -> getppid (depth ~1)
 *   callchain hot N        main -> hot_outer -> hot_inner, N times, then
 *                          one getppid from main (the summary's hot path)
 *   callchain jump         main -> catcher -> (setjmp) jump1 -> jump2 -> jump3
 *                          -> longjmp back into catcher, which returns to
 *                          main (a return that skips the jump frames), then
 *                          getppid from main
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

volatile long sink;

static NOINLINE long ppid(void)
{
    return syscall(SYS_getppid);
}

NOINLINE long level3(long x)
{
    long r = syscall(SYS_getppid);
    sink = x;
    return r + x;
}

NOINLINE long level2(long x)
{
    long r = level3(x + 1);
    sink = r;
    return r + 1;
}

NOINLINE long level1(long x)
{
    long r = level2(x + 1);
    sink = r;
    return r + 1;
}

NOINLINE long recurse(long n)
{
    long r;
    if (n <= 0) {
        return syscall(SYS_getppid);
    }
    r = recurse(n - 1);
    sink = r;
    return r + 1;
}

NOINLINE long hot_inner(long x)
{
    sink = x;
    return x * 3 + 1;
}

NOINLINE long hot_outer(long x)
{
    long r = hot_inner(x);
    sink = r;
    return r + 1;
}

static jmp_buf jb;

NOINLINE void jump3(long x)
{
    sink = x;
    longjmp(jb, 1);
}

NOINLINE void jump2(long x)
{
    jump3(x + 1);
    sink = x;
}

NOINLINE void jump1(long x)
{
    jump2(x + 1);
    sink = x;
}

NOINLINE long catcher(long x)
{
    if (!setjmp(jb)) {
        jump1(x);
    }
    sink = x;
    return x + 1;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "chain";

    if (!strcmp(mode, "chain")) {
        printf("chain=%ld\n", level1(argc));
    } else if (!strcmp(mode, "recurse")) {
        long n = argc > 2 ? atol(argv[2]) : 20;
        printf("recurse=%ld\n", recurse(n));
        printf("after=%ld\n", ppid());
    } else if (!strcmp(mode, "hot")) {
        long n = argc > 2 ? atol(argv[2]) : 1000, s = 0;
        for (long i = 0; i < n; i++) {
            s += hot_outer(i);
        }
        printf("hot=%ld\n", s);
        printf("after=%ld\n", ppid());
    } else if (!strcmp(mode, "jump")) {
        printf("caught=%ld\n", catcher(argc));
        printf("after=%ld\n", ppid());
    } else {
        fprintf(stderr, "usage: callchain [chain|recurse N|hot N|jump]\n");
        return 2;
    }
    return 0;
}
