/*
 * Guest exec probe (tests/qemu/emu_exec.sh): system(), popen(), execve's
 * errno, the start directory and chdir.
 *   exectest system CMD        system(CMD); prints "system=STATUS"
 *   exectest popen CMD         prints "popen: LINE" per line, "pclose=STATUS"
 *   exectest exec PATH ARG0 [ARG...]
 *                              execve(PATH, {ARG0, ARG...}, environ);
 *                              on failure prints "errno=NAME"
 *   exectest execnoenv PATH ARG0 [ARG...]
 *                              the same with an empty environment
 *   exectest show              prints "argv0=...", "GE_VAR=..." and
 *                              "SFEMU_RULE_MAX_INSNS=..."
 *   exectest self              prints what the program sees of itself:
 *                              "exe=" readlink("/proc/self/exe"), "pidexe="
 *                              readlink("/proc/PID/exe"), "execfn="
 *                              getauxval(AT_EXECFN), "argv0=", and
 *                              "exe_open=same" when open("/proc/self/exe")
 *                              is the file "exe=" names
 *   exectest cwd               prints "cwd=PATH"
 *   exectest chdir DIR FILE    chdir(DIR), then prints "cwd=..." and the
 *                              first line of FILE (relative to DIR)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *errname(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT";
    case ENOEXEC: return "ENOEXEC";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case ELOOP: return "ELOOP";
    case ENOTDIR: return "ENOTDIR";
    case EPERM: return "EPERM";
    default: return "other";
    }
}

static void show_link(const char *name, const char *link)
{
    char buf[4096];
    ssize_t n = readlink(link, buf, sizeof(buf) - 1);

    buf[n > 0 ? n : 0] = 0;
    printf("%s=%s\n", name, n > 0 ? buf : errname(errno));
}

/* What the program sees of its own identity. */
static int show_self(const char *argv0)
{
    char link[64], exe[4096];
    const char *fn = (const char *)getauxval(AT_EXECFN);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    struct stat a, b;
    FILE *f = fopen("/proc/self/exe", "r");

    exe[n > 0 ? n : 0] = 0;
    show_link("exe", "/proc/self/exe");
    snprintf(link, sizeof(link), "/proc/%d/exe", (int)getpid());
    show_link("pidexe", link);
    printf("execfn=%s\nargv0=%s\n", fn ? fn : "(none)", argv0);
    printf("exe_open=%s\n", f && fstat(fileno(f), &a) == 0 &&
                                    stat(exe, &b) == 0 &&
                                    a.st_ino == b.st_ino && a.st_dev == b.st_dev
                                ? "same"
                                : "differs");
    if (f) {
        fclose(f);
    }
    return 0;
}

static int first_line(const char *path)
{
    char line[256];
    FILE *f = fopen(path, "r");

    if (!f) {
        printf("open %s: %s\n", path, errname(errno));
        return 1;
    }
    if (fgets(line, sizeof(line), f)) {
        printf("line=%s", line);
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    char buf[4096];

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 3 && !strcmp(argv[1], "system")) {
        int st = system(argv[2]);

        printf("system=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "popen")) {
        FILE *p = popen(argv[2], "r");

        if (!p) {
            printf("popen failed: %s\n", errname(errno));
            return 1;
        }
        while (fgets(buf, sizeof(buf), p)) {
            printf("popen: %s", buf);
        }
        printf("pclose=%d\n", WEXITSTATUS(pclose(p)));
        return 0;
    }
    if (argc >= 4 &&
        (!strcmp(argv[1], "exec") || !strcmp(argv[1], "execnoenv"))) {
        char *none[] = { NULL };

        execve(argv[2], argv + 3, strcmp(argv[1], "exec") ? none : environ);
        printf("errno=%s\n", errname(errno));
        return 1;
    }
    if (argc >= 2 && !strcmp(argv[1], "show")) {
        const char *v = getenv("GE_VAR");
        const char *m = getenv("SFEMU_RULE_MAX_INSNS");

        printf("argv0=%s\nGE_VAR=%s\nSFEMU_RULE_MAX_INSNS=%s\n", argv[0],
               v ? v : "(unset)", m ? m : "(unset)");
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "self")) {
        return show_self(argv[0]);
    }
    if (argc >= 2 && !strcmp(argv[1], "cwd")) {
        printf("cwd=%s\n", getcwd(buf, sizeof(buf)) ? buf : "(error)");
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "chdir")) {
        if (chdir(argv[2]) != 0) {
            printf("chdir %s: %s\n", argv[2], errname(errno));
            return 1;
        }
        printf("cwd=%s\n", getcwd(buf, sizeof(buf)) ? buf : "(error)");
        return first_line(argv[3]);
    }
    fprintf(stderr,
            "usage: exectest system|popen|exec|show|self|cwd|chdir ...\n");
    return 2;
}
