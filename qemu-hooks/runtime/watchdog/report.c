/*
 * Watchdog reports (see report.h).  A report never contains the values of
 * environment variables (secrets live there): only guest data, registers,
 * the ring and the runtime's own facts.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "core/log.h"
#include "fakefile/fake.h"
#include "core/regs.h"
#include "analysis/shadow.h"
#include "watchdog/report.h"
#include "core/options.h"
#include "core/runtime.h"
#include "core/syscall_names.h"
#include "trueroot/guestfs.h"
#include "trueroot/trueroot.h"

#define MAX_EXEC_MAPS 128
#define MAX_FRAMES 24
#define MAX_STACK_FRAMES 16
#define STACK_SCAN_DEFAULT 4096 /* bytes of guest stack scanned from sp */

/* What a report may allocate: far more than the largest one (the ring, 128
 * maps, 24 frames, 4096 fake fds) takes. */
#define REPORT_MAX_BYTES (16 << 20)

static void report_regs(cJSON *rep)
{
    const struct sfemu_host_ops *ops = sfemu_rt.ops;
    int n = ops->reg_count();
    cJSON *regs = json_put(rep, "registers", cJSON_CreateObject());

    for (int i = 0; i < n; i++) {
        uint8_t b[REG_MAX];
        int num, len;
        const char *name, *feature;
        if (ops->reg_info(i, &num, &name, &feature) != 0 || !name ||
            (len = ops->reg_read(num, b, sizeof(b))) <= 0) {
            continue;
        }
        if (len <= 8) {
            json_put(regs, name, json_hex(sfemu_reg_bytes_to_u64(b, len)));
        } else {
            char hex[2 * REG_MAX + 1];
            for (int k = 0; k < len; k++) {
                snprintf(hex + 2 * k, 3, "%02x", b[k]); /* guest order */
            }
            json_put(regs, name, cJSON_CreateString(hex));
        }
    }
}

/* ---- backtrace: pc, link register, heuristic stack scan ---- */

struct exec_maps {
    int n;
    struct {
        uint64_t start, end;
        char path[80];
    } m[MAX_EXEC_MAPS];
};

static void collect_exec(void *opaque, uint64_t start, uint64_t end, int prot,
                         uint64_t offset, const char *path)
{
    struct exec_maps *x = opaque;

    (void)offset;
    if (!(prot & PROT_EXEC) || x->n >= MAX_EXEC_MAPS) {
        return;
    }
    x->m[x->n].start = start;
    x->m[x->n].end = end;
    sfemu_guestfs_guest_name(path, x->m[x->n].path, sizeof(x->m[x->n].path));
    x->n++;
}

/* In an executable mapping other than the stack's own (old ARM ABIs map
 * the stack executable; its words are not code addresses). */
static int in_exec(const struct exec_maps *x, uint64_t a, uint64_t sp)
{
    for (int i = 0; i < x->n; i++) {
        if (a >= x->m[i].start && a < x->m[i].end &&
            !(sp >= x->m[i].start && sp < x->m[i].end)) {
            return 1;
        }
    }
    return 0;
}

static void frame(cJSON *bt, uint64_t addr, const char *how, char *first_sym,
                  size_t cap)
{
    char sym[256];
    cJSON *f = json_put(bt, NULL, cJSON_CreateObject());

    sfemu_syms_resolve(addr, sym, sizeof(sym));
    json_put(f, "addr", json_hex(addr));
    json_put(f, "sym", json_bytes(sym));
    json_put(f, "how", cJSON_CreateString(how));
    if (first_sym && !*first_sym) {
        snprintf(first_sym, cap, "%s", sym);
    }
}

static long stack_scan_bytes(void)
{
    return sfemu_opt_long(SFEMU_OPT_watchdog_stack_scan);
}

static void report_backtrace(cJSON *rep, uint64_t *pc_out, char *first_sym,
                             size_t cap)
{
    cJSON *j;
    struct exec_maps *x = calloc(1, sizeof(*x));
    int pcn = sfemu_reg_num("pc"), spn = sfemu_reg_num("sp");
    int lrn = sfemu_reg_num("lr");
    uint64_t pc = 0, sp = 0, lr = 0;
    unsigned wsz = sfemu_rt.t->abi_bits / 8;
    int frames = 0, from_stack = 0;
    long scan = stack_scan_bytes();

    if (lrn < 0) {
        lrn = sfemu_reg_num("ra");
    }
    if (x) {
        sfemu_rt.ops->guest_maps(collect_exec, x);
    }
    if (spn >= 0) {
        sfemu_reg_u64(spn, &sp);
    }
    j = json_put(rep, "backtrace", cJSON_CreateArray());
    if (pcn >= 0 && sfemu_reg_u64(pcn, &pc) == 0) {
        frame(j, pc, "pc", first_sym, cap);
        frames++;
        *pc_out = pc;
    }
    /* With -shadowstack the exact call chain replaces the guesswork. */
    {
        struct sfemu_shadow_frame sf[MAX_FRAMES];
        int ns = sfemu_shadow_get(sf, MAX_FRAMES - frames);
        for (int i = 0; i < ns; i++) {
            frame(j, sf[i].ret, "shadowstack", NULL, 0);
            frames++;
        }
        if (ns > 0) {
            sp = 0; /* no stack scan */
            lrn = -1;
        }
    }
    if (lrn >= 0 && sfemu_reg_u64(lrn, &lr) == 0 && lr &&
        (!x || in_exec(x, lr, sp))) {
        frame(j, lr, "lr", NULL, 0);
        frames++;
    }
    if (x && sp) {
        uint8_t buf[256];
        for (long off = 0;
             off < scan && frames < MAX_FRAMES && from_stack < MAX_STACK_FRAMES;
             off += sizeof(buf)) {
            if (sfemu_rt.ops->read_mem(sp + off, buf, sizeof(buf)) != 0) {
                break; /* the top of the stack mapping */
            }
            for (unsigned k = 0;
                 k + wsz <= sizeof(buf) && frames < MAX_FRAMES &&
                 from_stack < MAX_STACK_FRAMES;
                 k += wsz) {
                uint64_t w = sfemu_reg_bytes_to_u64(buf + k, wsz);
                if (w && w != pc && w != lr && in_exec(x, w, sp)) {
                    frame(j, w, "stack", NULL, 0);
                    frames++;
                    from_stack++;
                }
            }
        }
    }
    if (x) {
        cJSON *maps = json_put(rep, "exec_maps", cJSON_CreateArray());
        for (int i = 0; i < x->n; i++) {
            cJSON *m = json_put(maps, NULL, cJSON_CreateObject());
            json_put(m, "start", json_hex(x->m[i].start));
            json_put(m, "end", json_hex(x->m[i].end));
            json_put(m, "path", json_bytes(x->m[i].path));
        }
    }
    json_put(rep, "sp", json_hex(sp));
    free(x);
}

/* ---- the ring ---- */

cJSON *sfemu_report_ring_ent(const struct sfemu_ring_ent *e)
{
    const char *name = sfemu_syscall_name(e->num);
    cJSON *o = cJSON_CreateObject(), *args;
    int64_t sec, nsec;

    sfemu_mono_to_real(e->t_ns, &sec, &nsec);
    json_put(o, "num", json_int(e->num));
    json_put(o, "name", cJSON_CreateString(name ? name : "?"));
    args = json_put(o, "args", cJSON_CreateArray());
    for (int i = 0; i < SFEMU_RING_ARGS; i++) {
        json_put(args, NULL, json_hex(sfemu_guest_addr(e->args[i])));
    }
    if (e->fd_arg >= 0) {
        json_put(o, "fd", json_int((int32_t)e->args[(int)e->fd_arg]));
    }
    if (e->path_arg >= 0) {
        json_put(o, "path", json_bytes(e->path));
    }
    json_put(o, "done", cJSON_CreateBool(e->done));
    if (e->done) {
        json_put(o, "ret", json_int(e->ret));
        if (sfemu_is_err(e->ret)) {
            const char *en = sfemu_errno_name((int)-e->ret);
            json_put(o, "errno", cJSON_CreateString(en ? en : "?"));
        }
        json_put(o, "intercepted", cJSON_CreateBool(e->intercepted));
        json_put(o, "dur_us", json_int(e->dur_ns / 1000));
    }
    json_put(o, "pc", json_hex(e->pc));
    json_put(o, "sec", json_int(sec));
    json_put(o, "nsec", json_int(nsec));
    return o;
}

struct fake_lists {
    cJSON *created, *open_fds;
};

static void fake_each(void *opaque, const char *path, int fd)
{
    struct fake_lists *l = opaque;

    if (fd < 0) {
        json_put(l->created, NULL, json_bytes(path));
    } else {
        cJSON *o = json_put(l->open_fds, NULL, cJSON_CreateObject());
        json_put(o, "fd", json_int(fd));
        json_put(o, "path", json_bytes(path));
    }
}

static void report_ring(cJSON *rep, const struct sfemu_ring *r)
{
    int enoent = sfemu_errno_num("ENOENT");
    cJSON *ctx = json_put(rep, "ctx", cJSON_CreateArray());
    cJSON *fake, *missing;
    struct fake_lists lists;

    for (unsigned i = 0; r && i < r->count; i++) {
        json_put(ctx, NULL, sfemu_report_ring_ent(sfemu_ring_at(r, i)));
    }
    /* Fake resources touched: those fakefile created, the fake fds open,
     * and the paths that were missing (the ring). */
    fake = json_put(rep, "fake_resources", cJSON_CreateObject());
    lists.created = json_put(fake, "created", cJSON_CreateArray());
    lists.open_fds = json_put(fake, "open_fds", cJSON_CreateArray());
    sfemu_fake_each(fake_each, &lists);
    missing = json_put(fake, "missing_paths", cJSON_CreateArray());
    for (unsigned i = 0; r && i < r->count; i++) {
        const struct sfemu_ring_ent *e = sfemu_ring_at(r, i);
        int dup = 0;
        if (e->path_arg < 0 || !e->done || e->ret != -enoent) {
            continue;
        }
        for (unsigned k = i + 1; k < r->count && !dup; k++) {
            const struct sfemu_ring_ent *f = sfemu_ring_at(r, k);
            dup = f->path_arg >= 0 && f->done && f->ret == -enoent &&
                  !strcmp(f->path, e->path);
        }
        if (!dup) {
            json_put(missing, NULL, json_bytes(e->path));
        }
    }
}

/* ---- files ---- */

static char run_id[64];
static atomic_uint report_seq;

void sfemu_report_new_run(void)
{
    /* An AI re-exec runs again in the same pid, often the same second. */
    const char *rx = getenv("SFEMU_REEXEC_COUNT");

    snprintf(run_id, sizeof(run_id), "%d-%lld%s%.8s", (int)getpid(),
             (long long)time(NULL), rx && *rx ? "-r" : "", rx ? rx : "");
    atomic_store(&report_seq, 0);
}

static void mkdirs(const char *root)
{
    static const char *const sub[] = { "cache", "cache/ctx", "cache/ai_runs",
                                       "cache/stable_rules", "log" };
    char p[PATH_MAX];

    for (size_t i = 0; i < sizeof(sub) / sizeof(*sub); i++) {
        snprintf(p, sizeof(p), "%s/%s", root, sub[i]);
        mkdir(p, 0755);
    }
}

static void summary(const char *root, const char *line)
{
    char p[PATH_MAX];
    int fd;

    sfemu_log("%s", line);
    snprintf(p, sizeof(p), "%s/log/watchdog-%s.log", root, run_id);
    fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        size_t n = strlen(line);
        if (write(fd, line, n) != (ssize_t)n || write(fd, "\n", 1) != 1) {
            /* the log line above already says it */
        }
        close(fd);
    }
}

/* The report as JSON text (cJSON_free it), or NULL: out of memory. */
/* A directory the true root made for a create (missing parents). */
static void put_dir_made(void *opaque, const char *gpath)
{
    json_put(opaque, NULL, json_bytes(gpath));
}

static char *report_text(const struct sfemu_report *r, unsigned seq,
                         uint64_t *pc, char *sym, size_t cap)
{
    cJSON *rep;
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    json_begin(REPORT_MAX_BYTES);
    rep = cJSON_CreateObject();
    json_put(rep, "kind", cJSON_CreateString(r->kind));
    json_put(rep, "detail", json_bytes(r->detail));
    json_put(rep, "run_id", cJSON_CreateString(run_id));
    json_put(rep, "seq", json_int(seq));
    json_put(rep, "pid", json_int(getpid()));
    json_put(rep, "tid", json_int(r->tid));
    json_put(rep, "time", json_int(now.tv_sec));
    json_put(rep, "arch", json_bytes(sfemu_rt.t->arch));
    json_put(rep, "exec_path", json_bytes(sfemu_rt.exec_path));
    sfemu_trueroot_dirs_made(put_dir_made,
                             json_put(rep, "dirs_made", cJSON_CreateArray()));
    if (r->extra) {
        r->extra(rep, r->opaque);
    }
    if (r->on_guest_thread) {
        report_backtrace(rep, pc, sym, cap);
        json_put(rep, "pc", json_hex(*pc));
        report_regs(rep);
    } else {
        /* Registers belong to the guest thread, which is running guest code
         * now: the last syscall's pc in the ring is the best we have. */
        json_put(rep, "registers", cJSON_CreateNull());
        json_put(rep, "backtrace", cJSON_CreateArray());
        if (r->ring && r->ring->count) {
            *pc = sfemu_ring_at(r->ring, r->ring->count - 1)->pc;
            json_put(rep, "last_syscall_pc", json_hex(*pc));
        }
    }
    report_ring(rep, r->ring);
    return json_end(rep);
}

char *sfemu_report_json(const struct sfemu_report *r)
{
    char sym[256] = "";
    uint64_t pc = 0;

    return report_text(r, 0, &pc, sym, sizeof(sym));
}

int sfemu_report_write(const struct sfemu_report *r, char *path, size_t cap)
{
    const char *root = sfemu_opt_str(SFEMU_OPT_rules);
    char sym[256] = "", line[1024], *text;
    uint64_t pc = 0;
    unsigned seq = atomic_fetch_add(&report_seq, 1) + 1;
    int err;

    if (!root) {
        return -ENOENT;
    }
    mkdirs(root);
    snprintf(path, cap, "%s/cache/ctx/%s-%s-%u.json", root, r->kind, run_id,
             seq);
    text = report_text(r, seq, &pc, sym, sizeof(sym));
    err = text ? json_save(path, O_EXCL, text) : -ENOMEM;
    cJSON_free(text);
    if (err) {
        sfemu_log("watchdog: %s: cannot write %s: %s", r->kind, path,
                  strerror(-err));
    }
    snprintf(line, sizeof(line),
             "watchdog: %s (tid %d): %s; pc 0x%" PRIx64 "%s%s%s; report %s",
             r->kind, r->tid, r->detail, pc, *sym ? " (" : "", sym,
             *sym ? ")" : "", err ? "not written" : path);
    summary(root, line);
    sfemu_analysis_trigger(r->kind, r->detail);
    return err;
}
