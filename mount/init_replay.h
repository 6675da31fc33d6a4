/*
 * Boot-time preparation of a mounted firmware tree (`sfemu-mount --init`,
 * docs/mount.md "Boot-time preparation: --init"): the filesystem part of
 * the firmware's init scripts is replayed into the mount's upper layer,
 * then the rules tree's config/prepare.conf is applied.  init_replay() is
 * the one entry point (sfemu-mount's main calls it; a runner calls
 * `sfemu-mount --init`).
 */
#ifndef SFEMU_INIT_REPLAY_H
#define SFEMU_INIT_REPLAY_H

#include <stdio.h>

enum init_engine { INIT_AUTO, INIT_SHELL, INIT_INTERPRET };

#define INIT_MAX_SCRIPTS 16

struct init_opts {
    const char *mount;      /* the mount point (an sfemu mount) */
    const char *upper;      /* its upper directory: init-report.txt */
    const char *prep_rules; /* --rules DIR (config/prepare.conf) or NULL */
    const char *scripts[INIT_MAX_SCRIPTS]; /* --init-script, or none */
    int nscripts;
    enum init_engine engine;
    int timeout;          /* seconds, for the shell engine */
    const char *qemu_dir; /* --qemu DIR or NULL */
};

/* 0 when the replay ran (with skips or not), else 1 (the message is on
 * stderr). */
int init_replay(const struct init_opts *o);

/* ---------------------------------------------------------- for engines */

enum init_kind { INIT_ACTION, INIT_SKIP, INIT_ERROR, INIT_NOTE };

struct init_report {
    FILE *out;
    char *buf; /* every line, for <upper>/init-report.txt */
    size_t len, cap;
    int actions, skips, errors;
};

/* One report line "init: ...", on stdout and in the report. */
void init_say(struct init_report *r, enum init_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The init rules tree (the shell engine's -rules, and skip.conf):
 * $SFEMU_INIT_RULES, else the source tree's rules_examples/init. */
const char *init_rules_dir(void);

/* Why a command is not replayed: "hardware", "service", or NULL when it
 * is neither (a file operation or an unknown command). */
const char *init_skip_reason(const char *argv0);

/* The interpreter: replays the script at guest path script (or, with
 * is_command, the command line script itself).  0, or -errno when the
 * script cannot be read. */
int init_interpret(int root, const char *script, int is_command,
                   struct init_report *r);

/* The firmware's shell under the patched qemu.  0; -ENOEXEC when it
 * cannot run here (no shell, no qemu for the arch): the caller falls back
 * to the interpreter in auto mode. */
int init_shell_probe(int root, const struct init_opts *o, char *qemu,
                     size_t cap, struct init_report *r);
int init_shell_run(const struct init_opts *o, const char *qemu,
                   const char *script, int is_command, struct init_report *r);

/* Applies RULES/config/prepare.conf (with r NULL: only checks it).  0, or
 * -EINVAL after a bad line (the error names file:line on stderr). */
int init_prepare(int root, const char *rules_dir, struct init_report *r);

#endif
