/*
 * sfemu run (docs/run.md): from an unpacked firmware root to a verified,
 * recorded HTTP answer.  One file per area: main.c (options, exit codes),
 * detect.c (architecture from the ELF), find.c (which program, which
 * arguments), mount.c (the overlay and the rules copy), service.c (the
 * namespaces and the qemu process), probe.c (ports and HTTP), record.c
 * (the run record).
 */
#ifndef SFEMU_RUN_H
#define SFEMU_RUN_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit codes (docs/run.md, "Exit codes"). */
enum run_exit {
    RUN_OK = 0,             /* the service answered HTTP */
    RUN_ERR = 1,            /* an internal error (a file we cannot write...) */
    RUN_USAGE = 2,          /* bad command line */
    RUN_NOT_ROOTFS = 3,     /* ROOTFS is not a firmware root */
    RUN_NO_BINARY = 4,      /* no binary given or found */
    RUN_UNKNOWN_ARCH = 5,   /* not ELF, or no qemu for its architecture */
    RUN_HOST_BINARY = 6,    /* a binary for the host: nothing to emulate */
    RUN_PRIVILEGE = 7,      /* namespaces or the mount need privileges */
    RUN_MOUNT = 8,          /* sfemu-mount failed */
    RUN_NOT_STARTED = 10,   /* the service did not start */
    RUN_NOT_LISTENING = 11, /* started, never listened on TCP */
    RUN_NO_ANSWER = 12,     /* listened, no HTTP answer */
    RUN_INTERRUPTED = 130,
};

/* The stages, in order: the verdict is the last one reached. */
enum run_stage {
    STAGE_NONE,
    STAGE_STARTED,
    STAGE_LISTENING,
    STAGE_ANSWERED,
    STAGE_WELL_FORMED,
};
const char *run_stage_name(enum run_stage s);

/* snprintf that says when the text did not fit: 0 or -ENAMETOOLONG. */
int run_fmt(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* What the binary needs: detect.c */
struct run_arch {
    char qemu[16]; /* qemu-ARCH suffix: arm, mipsel ... */
    int machine;   /* EM_* */
    int bits;      /* 32 or 64 */
    int big_endian;
    char abi[64]; /* "EABI5 soft-float", "o32" ... */
    char cpu[64]; /* the CPU model the patched qemu picks, or "" */
    char cpu_why[256];
};
/* 0, or an exit code with a message in err. */
int run_detect(const char *rootfs, const char *guest, struct run_arch *a,
               char *err, size_t cap);
/* The host path of GUEST inside ROOTFS, symlinks resolved inside it. */
int run_resolve(const char *rootfs, const char *guest, char *out, size_t cap);

/* Which program and arguments: find.c */
struct run_target {
    char guest[PATH_MAX]; /* the guest path given to qemu */
    char **args;          /* arguments after argv[0] (NULL-terminated) */
    int nargs;
    int searched; /* 1: found by the search, 0: given */
    char why[1024];
};
int run_find(const char *rootfs, struct run_target *t, char *err, size_t cap);
/* Whether ROOTFS looks like a firmware root: 0 or RUN_NOT_ROOTFS. */
int run_check_rootfs(const char *rootfs, char *err, size_t cap);

/* The overlay and the rules: mount.c */
struct run_mount {
    char rootfs[PATH_MAX]; /* absolute */
    char upper[PATH_MAX];  /* ROOTFS.sfemu */
    char rules[PATH_MAX];
    char point[PATH_MAX]; /* where the overlay is (ROOTFS itself) */
    int reused;           /* an SFEmu mount was there already */
    int mounted;          /* we mounted it (and unmount it) */
};
const char *run_tool(const char *env, const char *rel, const char *inst,
                     char *buf, size_t cap);
int run_rules(struct run_mount *m, const char *given, char *err, size_t cap);
int run_mount_up(struct run_mount *m, char *err, size_t cap);
int run_mount_down(struct run_mount *m);
/* --init: sfemu-mount --init on the mount (its report is printed). */
int run_mount_init(struct run_mount *m, char *err, size_t cap);

/* The service: service.c */
struct run_service {
    pid_t init;      /* the pid namespace's init (host pid) */
    int status_fd;   /* the init reports the service's exit here */
    int exited;      /* the service (first process) has exited */
    int exit_status; /* its wait status */
    int init_gone;
    unsigned long pidns; /* inode of its pid namespace */
};
int run_netns(char *err, size_t cap);
int run_service_start(struct run_service *s, const char *qemu, const char *mnt,
                      const char *rules, const char *out, const char *host_bin,
                      char **args, char *err, size_t cap);
void run_service_poll(struct run_service *s);
int run_service_count(const struct run_service *s);
void run_service_stop(struct run_service *s);

/* Ports and HTTP: probe.c */
#define RUN_MAX_PORTS 16
struct run_port {
    char address[64]; /* as bound: 0.0.0.0, 127.0.0.1, :: */
    int port;
    int v6;
    double t_listen;
    int code; /* HTTP status, 0: no answer yet */
    double t_answer;
    int well_formed;
    char title[128];
    char why[256]; /* why it is or is not well-formed / no answer */
};
struct run_ports {
    struct run_port p[RUN_MAX_PORTS];
    int n;
};
/* Adds the TCP ports the service's processes listen on; returns how many
 * were new. */
int run_ports_scan(const struct run_service *s, struct run_ports *ps, double t);
/* Probes the ports without an answer yet. */
void run_probe(struct run_ports *ps, double t);

/* The record: record.c */
struct run_result {
    const char *rootfs;
    const struct run_mount *m;
    const struct run_target *t;
    const struct run_arch *a;
    const struct run_service *s;
    const struct run_ports *ps;
    const char *out;      /* the run directory */
    const char *analysis; /* the -sfanalysis directory */
    int netns;
    double started, ended;
    double t_started;
    enum run_stage reached;
    uint64_t syscalls; /* guest syscalls of every process of the run */
    int exit_code;
    char why[512];
};
int run_record(struct run_result *r, char *err, size_t cap);

/* What the user sees while it runs: status.c */
void run_status_init(void);
/* "sfemu run: " and the line, below the status line (which it clears). */
void run_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Redraws the status line on a terminal; keeps the syscall rate. */
void run_status(double el, int procs, const char *analysis, const char *log,
                const struct run_ports *ps);
void run_status_end(void);
/* The last lines of the service's log: the runtime's ("[sfemu PID] TEXT":
 * TEXT), the watchdog's (a TEXT starting "watchdog: ") and the guest's own
 * (any other line); "" for none.  tail > 0: only the last tail bytes are
 * read.  A NULL output is not wanted. */
void run_log_last(const char *file, long tail, char *rt, char *wd, char *guest,
                  size_t cap);
/* The service's syscalls so far (the -sfanalysis live counts). */
uint64_t run_syscall_count(const char *analysis);

#endif
