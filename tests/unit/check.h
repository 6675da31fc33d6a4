/*
 * The checks of the unit tests: one "PASS: ..." or "FAIL: ..." line
 * each, and a summary whose status is the test's exit status.
 */
#ifndef SFEMU_UNIT_CHECK_H
#define SFEMU_UNIT_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int checks_run, checks_failed;

__attribute__((format(printf, 2, 3))) static void check(int ok, const char *fmt,
                                                        ...)
{
    va_list ap;

    checks_run++;
    checks_failed += !ok;
    printf("%s: ", ok ? "PASS" : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static int checks_done(void)
{
    printf("%s: %d checks, %d failed\n", checks_failed ? "FAIL" : "PASS",
           checks_run, checks_failed);
    return checks_failed ? 1 : 0;
}

#endif
