/*
 * AI repair, the runtime's half (docs/ai-repair.md).  rules_examples/
 * base/ai.lua drives the flow through the bindings of api/api_ai.c:
 *   run.c       one attempt: its run id, cache/ai_runs/<run_id>/, its
 *               records, and the validation in flight (concluded here on
 *               a fatal signal)
 *   snapshot.c  snapshot.json: the watchdog report of this thread plus the
 *               trigger, the failing syscall, the rules and syscall names
 *   tool.c      the repair tool, a child process with a timeout
 *   install.c   check, install into syscall_override/, rollback, export
 *   reexec.c    the program again in a new qemu after an exit fix
 *   idle.c      the idle_deadloop attempt, on a thread of its own (the
 *               spinning guest thread makes no syscall for a rule to run on)
 */
#ifndef SFEMU_AI_H
#define SFEMU_AI_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#define SFEMU_AI_ID_MAX 96
#define SFEMU_AI_RULE_MAX (64 * 1024) /* bytes of one generated rule */

/* At start-up (before the true root changes directory): the re-exec count
 * and start directory, a validation handed over by a re-exec. */
void sfemu_ai_init(void);
/* SFEMU_AI_ENABLE=1 or auto_ai=1. */
int sfemu_ai_enabled(void);

/* ---- run.c ---- */
/* One repair in flight per process: 1 if this caller now holds it. */
int sfemu_ai_flight_take(void);
void sfemu_ai_flight_done(void);
/* A new attempt: a unique run id and RULES/cache/ai_runs/<id>/ with
 * patch/fix/syscall and patch/observe/syscall; 0 or -errno. */
int sfemu_ai_begin(const char *kind, char *run_id, size_t idcap, char *dir,
                   size_t dircap);
/* Whether dir is an attempt's directory (under RULES/cache/ai_runs/). */
int sfemu_ai_is_run_dir(const char *dir);
/* Writes RUN_DIR/name (a plain file name); 0 or -errno. */
int sfemu_ai_write(const char *run_dir, const char *name, const char *text);
/* Merges a JSON object into RUN_DIR/verdict.json (its top-level keys
 * replace the file's); 0 or -errno. */
int sfemu_ai_record(const char *run_dir, const char *text);
/* The attempt being validated (NULL: none): at a fatal signal its fix is
 * rolled back and its verdict.json says "rejected". */
void sfemu_ai_pending(const char *run_dir);

/* ---- snapshot.c ---- */
struct sfemu_ai_syscall {
    int num;
    int64_t args[6];
    int64_t ret;
    int has_ret;
};
struct sfemu_ai_trigger {
    const char *run_id, *kind, *detail;
    const char *report;                /* the watchdog report, or NULL */
    const struct sfemu_ai_syscall *sc; /* NULL: none */
};
/* Writes RUN_DIR/snapshot.json; 0 or -errno. */
int sfemu_ai_snapshot(const char *run_dir, const struct sfemu_ai_trigger *t,
                      char *path, size_t cap);
/* The same from the watchdog report t->report (off the guest thread: the
 * idle_deadloop report has no registers); 0 or -errno. */
int sfemu_ai_snapshot_from_report(const char *run_dir,
                                  const struct sfemu_ai_trigger *t, char *path,
                                  size_t cap);

/* ---- idle.c ---- */
/* The watchdog's idle hook: an idle_deadloop report of thread tid. */
void sfemu_ai_idle_report(int tid, const char *path);
/* The process ends (guest_sig: a fatal signal, or 0): an idle attempt in
 * its window is concluded now. */
void sfemu_ai_idle_end(int guest_sig);

/* ---- tool.c ---- */
struct sfemu_ai_tool_result {
    const char *status; /* ok, failed, timeout, no_tool, spawn_error */
    int code;           /* exit status, or -signal */
    char reason[256];   /* the tool's last stderr line, or ours */
    double secs;
};
void sfemu_ai_run_tool(const char *snapshot, const char *patch_dir,
                       const char *run_dir, struct sfemu_ai_tool_result *r);

/* ---- install.c ---- */
/* Checks a rule file before use; its syscall name to name.  0, or -1 with
 * why. */
int sfemu_ai_check_rule(lua_State *L, const char *path, char *name, size_t ncap,
                        char *why, size_t wcap);
/* Into RULES/syscall_override/<name>.lua (a replaced one kept in
 * RUN_DIR/backup/), seen by the running rules at once; 0, or -1 with why. */
int sfemu_ai_install(const char *run_dir, const char *src, const char *name,
                     char *dest, size_t dcap, char *why, size_t wcap);
/* Undoes the attempt's installs; the number of files restored/removed. */
int sfemu_ai_rollback(const char *run_dir);
/* Copies the attempt's fixes to RULES/cache/stable_rules/<run_id>/syscall/;
 * files copied, or -errno. */
int sfemu_ai_export(const char *run_dir, const char *run_id, char *dest,
                    size_t cap);

/* A whole small file (NUL-terminated, malloc'd; *len its size), or NULL
 * with errno (EFBIG past max bytes). */
char *sfemu_ai_slurp(const char *path, size_t max, size_t *len);
/* Writes a file through a temporary and rename (a rule watcher never sees
 * it half written); 0 or -errno. */
int sfemu_ai_put(const char *path, const char *data, size_t len);

/* ---- reexec.c ---- */
int sfemu_ai_reexec_count(void);
/* Runs this qemu again (same argv, environment, start directory) with
 * SFEMU_REEXEC_COUNT + 1 and the attempt handed over.  Returns only when
 * refused or failed: -1 with why. */
int sfemu_ai_reexec(const char *run_dir, const char *run_id, const char *kind,
                    char *why, size_t wcap);
/* The attempt a re-exec handed to this process (NULL: none). */
const char *sfemu_ai_claimed(const char **run_id, const char **kind);
void sfemu_ai_reexec_init(void);

#endif
