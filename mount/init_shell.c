/*
 * The shell engine of --init: the firmware's own /bin/sh runs the init
 * script under the patched qemu (true root on the mount), with the rules
 * tree rules_examples/init/ neutralising the hardware steps.  The rules
 * log one "init: ..." line per action and skip; they are read back from
 * the qemu log into the report.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "init_fs.h"
#include "init_replay.h"
#include "sfemu_mount.h"

/* The shell engine's rules tree: $SFEMU_INIT_RULES, else the installed
 * tree's PREFIX/share/sfemu/rules_examples/init beside this program (an
 * installed copy moved anywhere after `meson install --destdir`), else the
 * source tree's rules_examples/init it was built from (meson defines it). */
#ifndef SFEMU_INIT_RULES_DIR
#define SFEMU_INIT_RULES_DIR "rules_examples/init"
#endif
#ifndef SFEMU_RULES_SHARE
#define SFEMU_RULES_SHARE "/usr/local/share/sfemu/rules_examples"
#endif

const char *init_rules_dir(void)
{
    static char found[PATH_MAX + 16]; /* as each of where[] below */
    const char *r = getenv("SFEMU_INIT_RULES");
    if (r && r[0]) {
        return r;
    }
    if (!found[0]) {
        /* the first of these with the shell engine's execve rule */
        const char *self = rules_beside_self();
        char where[3][PATH_MAX + 16];
        snprintf(where[0], sizeof where[0], "%s%s", self,
                 self[0] ? "/init" : "");
        snprintf(where[1], sizeof where[1], "%s", SFEMU_INIT_RULES_DIR);
        snprintf(where[2], sizeof where[2], "%s/init", SFEMU_RULES_SHARE);
        memcpy(found, where[1], sizeof found);
        for (size_t i = 0; i < 3; i++) {
            char p[sizeof where[0] + 24];
            if (where[i][0] &&
                snprintf(p, sizeof p, "%s/syscall/execve.lua", where[i]) <
                    (int)sizeof p &&
                access(p, R_OK) == 0) {
                memcpy(found, where[i], sizeof found);
                break;
            }
        }
    }
    return found;
}

/* The qemu arch of the root's shell, from its ELF header. */
static const char *shell_arch(int root)
{
    static const char *const shells[] = { "/bin/busybox", "/bin/sh" };
    for (size_t i = 0; i < 2; i++) {
        unsigned char h[EI_NIDENT + 4];
        int fd = ifs_open(root, shells[i], O_RDONLY, 0);
        if (fd < 0) {
            continue;
        }
        ssize_t n = read(fd, h, sizeof h);
        close(fd);
        if (n < (ssize_t)sizeof h || memcmp(h, ELFMAG, SELFMAG)) {
            continue;
        }
        int be = h[EI_DATA] == ELFDATA2MSB;
        unsigned machine = be ? (unsigned)(h[18] << 8 | h[19])
                              : (unsigned)(h[19] << 8 | h[18]);
        if (machine == EM_ARM) {
            return be ? "armeb" : "arm";
        }
        if (machine == EM_MIPS && h[EI_CLASS] == ELFCLASS32) {
            return be ? "mips" : "mipsel";
        }
        if (machine == EM_AARCH64 && !be) {
            return "aarch64";
        }
        return NULL;
    }
    return NULL;
}

static int executable(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* qemu-ARCH: --qemu DIR, $SFEMU_QEMU_DIR, the build tree, the installed
 * sfemu-qemu-ARCH beside this program, $PATH. */
static int find_qemu(const struct init_opts *o, const char *arch, char *out,
                     size_t cap)
{
    const char *dirs[3] = { o->qemu_dir, getenv("SFEMU_QEMU_DIR"), NULL };
    char self[PATH_MAX], build[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) { /* the build tree: build/mount/../qemu-hooks */
        self[n] = 0;
        *strrchr(self, '/') = 0;
        snprintf(build, sizeof build, "%s/../qemu-hooks", self);
        dirs[2] = build;
    }
    for (int i = 0; i < 3; i++) {
        if (!dirs[i] || !dirs[i][0]) {
            continue;
        }
        snprintf(out, cap, "%s/qemu-%s", dirs[i], arch);
        if (executable(out)) {
            return 0;
        }
        if (i == 2) { /* installed: PREFIX/bin/sfemu-qemu-ARCH */
            snprintf(out, cap, "%s/sfemu-qemu-%s", self, arch);
            if (executable(out)) {
                return 0;
            }
        }
        if (i == 0) {
            return -ENOENT; /* the user named the directory */
        }
    }
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin");
    int rc = -ENOENT;
    for (char *d = strtok(copy, ":"); d; d = strtok(NULL, ":")) {
        snprintf(out, cap, "%s/qemu-%s", d, arch);
        if (executable(out)) {
            rc = 0;
            break;
        }
    }
    free(copy);
    return rc;
}

int init_shell_probe(int root, const struct init_opts *o, char *qemu,
                     size_t cap, struct init_report *r)
{
    struct stat st;
    int fd = ifs_open(root, "/bin/sh", O_RDONLY, 0);
    if (fd < 0) {
        init_say(r, INIT_NOTE, "shell engine: the root has no /bin/sh");
        return -ENOEXEC;
    }
    close(fd);
    const char *arch = shell_arch(root);
    if (!arch) {
        init_say(r, INIT_NOTE,
                 "shell engine: /bin/busybox or /bin/sh is no ELF of a known "
                 "arch (arm, armeb, mips, mipsel, aarch64)");
        return -ENOEXEC;
    }
    if (find_qemu(o, arch, qemu, cap) < 0) {
        init_say(r, INIT_NOTE, "shell engine: no qemu-%s found (--qemu DIR)",
                 arch);
        return -ENOEXEC;
    }
    char entry[PATH_MAX];
    snprintf(entry, sizeof entry, "%s/syscall/execve.lua", init_rules_dir());
    if (stat(entry, &st) < 0) {
        init_say(r, INIT_NOTE,
                 "shell engine: the rules tree %s has no syscall/execve.lua "
                 "(set SFEMU_INIT_RULES)",
                 init_rules_dir());
        return -ENOEXEC;
    }
    init_say(r, INIT_NOTE, "shell engine: %s, rules %s", qemu,
             init_rules_dir());
    return 0;
}

/* Reads the rules' "init: " lines from the qemu log into the report. */
static void collect(const char *logpath, struct init_report *r)
{
    FILE *f = fopen(logpath, "re");
    if (!f) {
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = 0;
        char *m = strstr(line, "] init: ");
        char *made = strstr(line, "] true root: made directory ");
        if (made) { /* a missing parent the true root made */
            made += 28;
            made[strcspn(made, " ")] = 0;
            init_say(r, INIT_ACTION, "+ mkdir %s (a missing parent)", made);
            continue;
        }
        if (!m) {
            continue;
        }
        m += 8;
        enum init_kind k = !strncmp(m, "skipped ", 8)  ? INIT_SKIP
                           : !strncmp(m, "failed ", 7) ? INIT_ERROR
                                                       : INIT_ACTION;
        init_say(r, k, "%s", m);
    }
    free(line);
    fclose(f);
}

/* The script's own output (its errors above all), as notes. */
static void show_output(const char *path, struct init_report *r)
{
    FILE *f = fopen(path, "re");
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (f && getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = 0;
        if (++n > 100) {
            init_say(r, INIT_NOTE, "output: ... (the rest is in %s)", path);
            break;
        }
        init_say(r, INIT_NOTE, "output: %s", line);
    }
    free(line);
    if (f) {
        fclose(f);
    }
}

int init_shell_run(const struct init_opts *o, const char *qemu,
                   const char *script, int is_command, struct init_report *r)
{
    char logpath[PATH_MAX], outpath[PATH_MAX];
    snprintf(logpath, sizeof logpath, "%s/init-qemu.log", o->upper);
    snprintf(outpath, sizeof outpath, "%s/init-shell.log", o->upper);
    unlink(logpath);
    int out = open(outpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        init_say(r, INIT_ERROR, "cannot write %s: %s", outpath,
                 strerror(errno));
        return -errno;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(out, 1);
        dup2(out, 2);
        if (chdir(o->mount) < 0) {
            _exit(126);
        }
        char logenv[PATH_MAX + 16], sh[PATH_MAX + 16];
        /* qemu takes the program as a host path: the root's through the
         * mount */
        snprintf(sh, sizeof sh, "%s/bin/sh", o->mount);
        snprintf(logenv, sizeof logenv, "SFEMU_LOG=%s", logpath);
        char *envp[] = { "PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/",
                         "TERM=dumb", logenv, NULL };
        char *argv[] = { (char *)qemu,
                         "-L",
                         (char *)o->mount,
                         "-rules",
                         (char *)init_rules_dir(),
                         sh,
                         is_command ? "-c" : (char *)script,
                         is_command ? (char *)script : NULL,
                         NULL };
        execve(qemu, argv, envp);
        _exit(127);
    }
    close(out);
    if (pid < 0) {
        return -errno;
    }
    setpgid(pid, pid);
    struct timespec start, now, tick = { 0, 20 * 1000 * 1000 };
    clock_gettime(CLOCK_MONOTONIC, &start);
    int st = 0, timed_out = 0;
    while (waitpid(pid, &st, WNOHANG) == 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= o->timeout) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
            timed_out = 1;
            break;
        }
        nanosleep(&tick, NULL);
    }
    kill(-pid, SIGKILL); /* what the script left running (daemons) */
    collect(logpath, r);
    show_output(outpath, r);
    if (timed_out) {
        init_say(r, INIT_ERROR,
                 "stopped %s after %d s (--init-timeout); its output is in %s",
                 script, o->timeout, outpath);
    } else if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
        init_say(r, INIT_ERROR, "cannot run %s", qemu);
    } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        init_say(r, INIT_NOTE, "%s ended with status %d; its output is in %s",
                 script, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
                 outpath);
    }
    return 0;
}
