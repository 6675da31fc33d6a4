/*
 * sfemu run [options] ROOTFS [-- BINARY ARGS...] (docs/run.md): the
 * command line, the order of the steps, the stage loop and the exit code.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "run.h"

static void usage(FILE *f)
{
    fputs(
        "Usage: sfemu run [options] ROOTFS [-- BINARY ARGS...]\n"
        "\n"
        "Mount ROOTFS with sfemu-mount, start BINARY (a guest path; by\n"
        "default the web server found in ROOTFS) under the patched qemu in\n"
        "its own pid namespace, probe HTTP on every port it listens on and\n"
        "write a run record (docs/run.md).\n"
        "\n"
        "Options:\n"
        "  --check SECONDS  exit 0 once the service answers HTTP, else exit\n"
        "                   with the stage reached after SECONDS\n"
        "  --netns          a fresh network namespace, loopback only\n"
        "  --rules DIR      rules tree (default: a copy of rules_examples/ in\n"
        "                   ROOTFS.sfemu/rules, made on first use)\n"
        "  --out DIR        run directory (default ROOTFS.sfemu/runs/TIME)\n"
        "  --init           first replay the firmware's boot-time file\n"
        "                   preparation into the overlay (sfemu-mount --init)\n"
        "  --keep-mount     leave the overlay mounted at the end\n"
        "  -h, --help       this help\n"
        "\n"
        "Exit codes: 0 answered, 2 usage, 3 not a rootfs, 4 no binary,\n"
        "5 unknown architecture, 6 host binary, 7 missing privilege,\n"
        "8 mount failed, 10 not started, 11 not listening, 12 no HTTP\n"
        "answer, 130 interrupted, 1 other errors.\n",
        f);
}

static volatile sig_atomic_t interrupted;
static void on_signal(int sig)
{
    interrupted = sig;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int mkdirs(const char *path)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
    }
    return mkdir(p, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static int fail(int code, const char *msg)
{
    fprintf(stderr, "sfemu run: %s\n", msg);
    return code;
}

struct opts {
    int check;
    int netns;
    int keep;
    int init;
    const char *rules;
    const char *out;
    const char *rootfs;
    char **cmd;
    int ncmd;
};

static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = { { "check", required_argument, 0, 'c' },
                                        { "netns", no_argument, 0, 'n' },
                                        { "rules", required_argument, 0, 'r' },
                                        { "out", required_argument, 0, 'o' },
                                        { "keep-mount", no_argument, 0, 'k' },
                                        { "init", no_argument, 0, 'i' },
                                        { "help", no_argument, 0, 'h' },
                                        { 0, 0, 0, 0 } };
    int c;
    memset(o, 0, sizeof *o);
    while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'c':
            o->check = (int)strtol(optarg, &end, 10);
            if (*end || o->check <= 0) {
                fprintf(stderr,
                        "sfemu run: --check %s: give a number of "
                        "seconds > 0\n",
                        optarg);
                return RUN_USAGE;
            }
            break;
        case 'n': o->netns = 1; break;
        case 'r': o->rules = optarg; break;
        case 'o': o->out = optarg; break;
        case 'k': o->keep = 1; break;
        case 'i': o->init = 1; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return RUN_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return RUN_USAGE;
    }
    o->rootfs = argv[optind++];
    if (optind < argc && !strcmp(argv[optind - 1], "--")) {
        /* getopt stopped at ROOTFS; "--" comes after it */
    }
    if (optind < argc && !strcmp(argv[optind], "--")) {
        optind++;
    }
    if (optind < argc) {
        o->cmd = argv + optind;
        o->ncmd = argc - optind;
        if (o->cmd[0][0] != '/') {
            fprintf(stderr,
                    "sfemu run: %s: give the binary's absolute path "
                    "in the root (/usr/sbin/httpd)\n",
                    o->cmd[0]);
            return RUN_USAGE;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "run") != 0) {
        if (argc >= 2 &&
            (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return RUN_USAGE;
    }
    struct opts o;
    int r = parse(argc - 1, argv + 1, &o);
    char err[2048];
    if (r) {
        return r;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    run_status_init();
    if ((r = run_check_rootfs(o.rootfs, err, sizeof err))) {
        return fail(r, err);
    }
    static struct run_target t;
    if (o.cmd) {
        snprintf(t.guest, sizeof t.guest, "%s", o.cmd[0]);
        t.args = o.cmd + 1;
        t.nargs = o.ncmd - 1;
        snprintf(t.why, sizeof t.why, "given on the command line");
    } else if ((r = run_find(o.rootfs, &t, err, sizeof err))) {
        return fail(r, err);
    }
    printf("sfemu run: binary: %s", t.guest);
    for (int i = 0; i < t.nargs; i++) {
        printf(" %s", t.args[i]);
    }
    printf(" (%s)\n", t.why);
    struct run_arch a;
    if ((r = run_detect(o.rootfs, t.guest, &a, err, sizeof err))) {
        return fail(r, err);
    }
    /* $SFEMU_QEMU_DIR/qemu-ARCH, build/qemu-hooks/qemu-ARCH, or the
     * installed PREFIX/bin/sfemu-qemu-ARCH */
    char rel[64], inst[64], qemu[PATH_MAX + 32];
    snprintf(rel, sizeof rel, "qemu-hooks/qemu-%s", a.qemu);
    snprintf(inst, sizeof inst, "sfemu-qemu-%s", a.qemu);
    const char *qdir = getenv("SFEMU_QEMU_DIR");
    if (qdir && *qdir) {
        snprintf(qemu, sizeof qemu, "%s/qemu-%s", qdir, a.qemu);
    } else {
        run_tool("SFEMU_QEMU_DIR", rel, inst, qemu, sizeof qemu);
    }
    if (access(qemu, X_OK) < 0) {
        run_fmt(err, sizeof err,
                "%s: %s program, but %s is not built "
                "(SFEMU_QEMU_DIR)",
                t.guest, a.qemu, qemu);
        return fail(RUN_UNKNOWN_ARCH, err);
    }
    printf("sfemu run: qemu: %s\n", qemu);
    printf("sfemu run: arch: qemu-%s, %d-bit %s-endian, %s, cpu %s%s%s%s\n",
           a.qemu, a.bits, a.big_endian ? "big" : "little", a.abi, a.cpu,
           a.cpu_why[0] ? " (" : "", a.cpu_why, a.cpu_why[0] ? ")" : "");
    if (geteuid() != 0) {
        return fail(RUN_PRIVILEGE,
                    o.netns ? "--netns: a network namespace needs "
                              "CAP_SYS_ADMIN, as do the service's pid "
                              "namespace and the FUSE mount: run as root"
                            : "the service's pid namespace and the FUSE "
                              "mount need CAP_SYS_ADMIN: run as root");
    }
    static struct run_mount m;
    snprintf(m.rootfs, sizeof m.rootfs, "%s", o.rootfs);
    if ((r = run_rules(&m, o.rules, err, sizeof err))) {
        return fail(r, err);
    }
    if (o.netns && (r = run_netns(err, sizeof err))) {
        return fail(r, err);
    }
    char out[PATH_MAX];
    if (o.out) {
        snprintf(out, sizeof out, "%s", o.out);
    } else {
        time_t now = time(NULL);
        char ts[32];
        strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", gmtime(&now));
        run_fmt(out, sizeof out, "%s/runs/%s-%d", m.upper, ts, (int)getpid());
    }
    char abs_out[PATH_MAX];
    if (mkdirs(out) < 0 || !realpath(out, abs_out)) {
        run_fmt(err, sizeof err, "%s: cannot create the run directory: %s", out,
                strerror(errno));
        return fail(RUN_ERR, err);
    }
    snprintf(out, sizeof out, "%s", abs_out);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if ((r = run_mount_up(&m, err, sizeof err))) {
        return fail(r, err);
    }
    if (o.init && (r = run_mount_init(&m, err, sizeof err))) {
        run_mount_down(&m);
        return fail(r, err);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct run_result res = { .rootfs = m.rootfs,
                              .m = &m,
                              .t = &t,
                              .a = &a,
                              .out = out,
                              .netns = o.netns };
    char an[PATH_MAX + 16], host_bin[PATH_MAX * 2], log[PATH_MAX + 16];
    snprintf(an, sizeof an, "%s/analysis", out);
    snprintf(log, sizeof log, "%s/service.log", out);
    snprintf(host_bin, sizeof host_bin, "%s%s", m.point, t.guest);
    res.analysis = an;
    static struct run_service s;
    static struct run_ports ps;
    res.s = &s;
    res.ps = &ps;
    res.started = wall();
    char **args = calloc((size_t)t.nargs + 1, sizeof *args);
    for (int i = 0; i < t.nargs; i++) {
        args[i] = t.args[i];
    }
    printf("sfemu run: run directory %s\n", out);
    r = run_service_start(&s, qemu, m.point, m.rules, out, host_bin, args, err,
                          sizeof err);
    if (r) {
        run_mount_down(&m);
        return fail(r, err);
    }
    double deadline = o.check ? res.started + o.check : 0;
    while (!interrupted) {
        double t_now = wall(), el = t_now - res.started;
        run_service_poll(&s);
        int procs = run_service_count(&s);
        if (res.reached < STAGE_STARTED && procs > 0) {
            res.reached = STAGE_STARTED;
            res.t_started = el;
            run_say("[%.1fs] started: %s (%d process%s)", el, t.guest, procs,
                    procs > 1 ? "es" : "");
        }
        int before = ps.n;
        if (run_ports_scan(&s, &ps, el) > 0) {
            for (int i = before; i < ps.n; i++) {
                run_say("[%.1fs] listening: %s:%d", el, ps.p[i].address,
                        ps.p[i].port);
            }
            if (res.reached < STAGE_LISTENING) {
                res.reached = STAGE_LISTENING;
            }
        }
        int answered[RUN_MAX_PORTS];
        for (int i = 0; i < ps.n; i++) {
            answered[i] = ps.p[i].code != 0;
        }
        run_probe(&ps, el);
        for (int i = 0; i < ps.n; i++) {
            struct run_port *p = &ps.p[i];
            if (!answered[i] && p->code) {
                run_say("[%.1fs] answered: %s:%d HTTP %d; %s%s%s", el,
                        p->address, p->port, p->code,
                        p->well_formed ? "well-formed: " : "not well-formed: ",
                        p->why, p->title[0] ? "" : "");
                enum run_stage st =
                    p->well_formed ? STAGE_WELL_FORMED : STAGE_ANSWERED;
                res.reached = st > res.reached ? st : res.reached;
            }
        }
        run_status(el, procs, an, log, &ps);
        if (o.check && res.reached >= STAGE_ANSWERED) {
            break;
        }
        if (s.init_gone) {
            break;
        }
        if (deadline && t_now >= deadline) {
            break;
        }
        usleep(250000);
    }
    run_status_end();
    res.syscalls = run_syscall_count(an);
    int sig = interrupted;
    char svc_exit[128] = "";
    if (s.exited) {
        snprintf(svc_exit, sizeof svc_exit,
                 WIFEXITED(s.exit_status) ? "exited with status %d"
                                          : "was killed by signal %d",
                 WIFEXITED(s.exit_status) ? WEXITSTATUS(s.exit_status)
                                          : WTERMSIG(s.exit_status));
    }
    printf("sfemu run: stopping the service\n");
    /* a launcher that is exiting (the answer often comes as a daemonising
     * service's first process exits) gets to finish its -sfanalysis
     * record before the SIGTERM */
    if (!s.init_gone) {
        usleep(500000);
        run_service_poll(&s);
    }
    run_service_stop(&s);
    res.ended = wall();
    char wd[512], guest[512];
    run_log_last(log, 0, NULL, wd, guest, sizeof wd);
    if (res.reached >= STAGE_ANSWERED) {
        res.exit_code = sig ? RUN_INTERRUPTED : RUN_OK;
        snprintf(res.why, sizeof res.why, "%sanswered HTTP",
                 sig ? "interrupted; the service had " : "");
    } else {
        static const int code[] = { RUN_NOT_STARTED, RUN_NOT_LISTENING,
                                    RUN_NO_ANSWER };
        static const char *const stuck[] = {
            "did not start", "started but never listened on a TCP port",
            "listened but never answered HTTP"
        };
        res.exit_code = sig ? RUN_INTERRUPTED : code[res.reached];
        const char *why = sig           ? "interrupted"
                          : s.init_gone ? "no process left"
                                        : "time limit reached";
        run_fmt(res.why, sizeof res.why,
                "stage %s: the service %s (%s%s%s)%s%s%s%s%s",
                run_stage_name(res.reached), stuck[res.reached], why,
                svc_exit[0] ? "; the first process " : "", svc_exit,
                wd[0] ? "; last " : "", wd,
                guest[0] ? "; its last words: \"" : "", guest,
                guest[0] ? "\"" : "");
    }
    if ((r = run_record(&res, err, sizeof err))) {
        fprintf(stderr, "sfemu run: %s\n", err);
    }
    if (!o.keep && run_mount_down(&m) != 0) {
        fprintf(stderr, "sfemu run: cannot unmount %s\n", m.point);
    } else if (o.keep || m.reused) {
        printf("sfemu run: the overlay stays mounted on %s\n", m.point);
    }
    printf("sfemu run: record %s/run.json, summary %s/run.txt\n", out, out);
    printf("sfemu run: %s: %s\n",
           res.exit_code == RUN_OK            ? "OK"
           : res.exit_code == RUN_INTERRUPTED ? "STOPPED"
                                              : "FAILED",
           res.why);
    curl_global_cleanup();
    return r ? RUN_ERR : res.exit_code;
}
