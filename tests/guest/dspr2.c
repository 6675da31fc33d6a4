/*
 * A MIPS32r2 program built for the 74Kc with DSP r2 (-march=74kc -mdspr2):
 * mul.ph is a DSPr2 instruction, so QEMU's default 24Kf (and a DSP r1 core
 * such as 24KEc) stop it with SIGILL.  Prints the product of two
 * halfword pairs, then runs PROGRAM ARGS... (execv) when given.
 */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int a = 0x00030002, b = 0x00050004, r;

    __asm__ volatile("mul.ph %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    printf("mul.ph=0x%08x\n", r);
    fflush(stdout);
    if (argc > 1) {
        execv(argv[1], argv + 1);
        perror("execv");
        return 1;
    }
    return 0;
}
