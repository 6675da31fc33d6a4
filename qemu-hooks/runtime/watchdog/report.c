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

#define MAX_EXEC_MAPS 128
#define MAX_FRAMES 24
#define MAX_STACK_FRAMES 16
#define STACK_SCAN_DEFAULT 4096 /* bytes of guest stack scanned from sp */

/* ---- JSON emitter ---- */

/* Bytes >= 0x80 become \u00XX (read as Latin-1): guest paths are not
 * always UTF-8 and the file must stay valid JSON. */
static void json_quote(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fputc('\\', f);
            fputc(*p, f);
        } else if (*p == '\n') {
            fputs("\\n", f);
        } else if (*p < 0x20 || *p >= 0x7f) {
            fprintf(f, "\\u%04x", *p);
        } else {
            fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void json_key(struct sfemu_json *j, const char *key)
{
    uint32_t bit = 1u << j->depth;

    if (j->nonempty & bit) {
        fputc(',', j->f);
    }
    j->nonempty |= bit;
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++) {
        fputc(' ', j->f);
    }
    if (key) {
        json_quote(j->f, key);
        fputs(": ", j->f);
    }
}

void sfemu_json_obj(struct sfemu_json *j, const char *key)
{
    if (j->depth > 0 || key) {
        json_key(j, key);
    }
    fputc('{', j->f);
    j->depth++;
    j->nonempty &= ~(1u << j->depth);
}

void sfemu_json_arr(struct sfemu_json *j, const char *key)
{
    json_key(j, key);
    fputc('[', j->f);
    j->depth++;
    j->nonempty &= ~(1u << j->depth);
}

static void json_end(struct sfemu_json *j, int c)
{
    int had = (j->nonempty >> j->depth) & 1;

    j->depth--;
    if (had) {
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++) {
            fputc(' ', j->f);
        }
    }
    fputc(c, j->f);
}

void sfemu_json_end_obj(struct sfemu_json *j)
{
    json_end(j, '}');
}

void sfemu_json_end_arr(struct sfemu_json *j)
{
    json_end(j, ']');
}

void sfemu_json_str(struct sfemu_json *j, const char *key, const char *s)
{
    json_key(j, key);
    json_quote(j->f, s ? s : "");
}

void sfemu_json_int(struct sfemu_json *j, const char *key, int64_t v)
{
    json_key(j, key);
    fprintf(j->f, "%" PRId64, v);
}

void sfemu_json_hex(struct sfemu_json *j, const char *key, uint64_t v)
{
    json_key(j, key);
    fprintf(j->f, "\"0x%" PRIx64 "\"", v);
}

void sfemu_json_bool(struct sfemu_json *j, const char *key, int v)
{
    json_key(j, key);
    fputs(v ? "true" : "false", j->f);
}

void sfemu_json_null(struct sfemu_json *j, const char *key)
{
    json_key(j, key);
    fputs("null", j->f);
}

static void report_regs(struct sfemu_json *j)
{
    const struct sfemu_host_ops *ops = sfemu_rt.ops;
    int n = ops->reg_count();

    sfemu_json_obj(j, "registers");
    for (int i = 0; i < n; i++) {
        uint8_t b[REG_MAX];
        int num, len;
        const char *name, *feature;
        if (ops->reg_info(i, &num, &name, &feature) != 0 || !name ||
            (len = ops->reg_read(num, b, sizeof(b))) <= 0) {
            continue;
        }
        if (len <= 8) {
            sfemu_json_hex(j, name, sfemu_reg_bytes_to_u64(b, len));
        } else {
            char hex[2 * REG_MAX + 1];
            for (int k = 0; k < len; k++) {
                snprintf(hex + 2 * k, 3, "%02x", b[k]); /* guest order */
            }
            sfemu_json_str(j, name, hex);
        }
    }
    sfemu_json_end_obj(j);
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
    snprintf(x->m[x->n].path, sizeof(x->m[x->n].path), "%s", path);
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

static void frame(struct sfemu_json *j, uint64_t addr, const char *how,
                  char *first_sym, size_t cap)
{
    char sym[256];

    sfemu_syms_resolve(addr, sym, sizeof(sym));
    sfemu_json_obj(j, NULL);
    sfemu_json_hex(j, "addr", addr);
    sfemu_json_str(j, "sym", sym);
    sfemu_json_str(j, "how", how);
    sfemu_json_end_obj(j);
    if (first_sym && !*first_sym) {
        snprintf(first_sym, cap, "%s", sym);
    }
}

static long stack_scan_bytes(void)
{
    return sfemu_opt_long(SFEMU_OPT_watchdog_stack_scan);
}

static void report_backtrace(struct sfemu_json *j, uint64_t *pc_out,
                             char *first_sym, size_t cap)
{
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
    sfemu_json_arr(j, "backtrace");
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
    sfemu_json_end_arr(j);
    if (x) {
        sfemu_json_arr(j, "exec_maps");
        for (int i = 0; i < x->n; i++) {
            sfemu_json_obj(j, NULL);
            sfemu_json_hex(j, "start", x->m[i].start);
            sfemu_json_hex(j, "end", x->m[i].end);
            sfemu_json_str(j, "path", x->m[i].path);
            sfemu_json_end_obj(j);
        }
        sfemu_json_end_arr(j);
    }
    sfemu_json_hex(j, "sp", sp);
    free(x);
}

/* ---- the ring ---- */

void sfemu_report_ring_ent(struct sfemu_json *j, const struct sfemu_ring_ent *e)
{
    const char *name = sfemu_syscall_name(e->num);
    int64_t sec, nsec;

    sfemu_mono_to_real(e->t_ns, &sec, &nsec);
    sfemu_json_obj(j, NULL);
    sfemu_json_int(j, "num", e->num);
    sfemu_json_str(j, "name", name ? name : "?");
    sfemu_json_arr(j, "args");
    for (int i = 0; i < SFEMU_RING_ARGS; i++) {
        sfemu_json_hex(j, NULL, sfemu_guest_addr(e->args[i]));
    }
    sfemu_json_end_arr(j);
    if (e->fd_arg >= 0) {
        sfemu_json_int(j, "fd", (int32_t)e->args[(int)e->fd_arg]);
    }
    if (e->path_arg >= 0) {
        sfemu_json_str(j, "path", e->path);
    }
    sfemu_json_bool(j, "done", e->done);
    if (e->done) {
        sfemu_json_int(j, "ret", e->ret);
        if (sfemu_is_err(e->ret)) {
            const char *en = sfemu_errno_name((int)-e->ret);
            sfemu_json_str(j, "errno", en ? en : "?");
        }
        sfemu_json_bool(j, "intercepted", e->intercepted);
        sfemu_json_int(j, "dur_us", e->dur_ns / 1000);
    }
    sfemu_json_hex(j, "pc", e->pc);
    sfemu_json_int(j, "sec", sec);
    sfemu_json_int(j, "nsec", nsec);
    sfemu_json_end_obj(j);
}

static void fake_created(void *opaque, const char *path, int fd)
{
    if (fd < 0) {
        sfemu_json_str(opaque, NULL, path);
    }
}

static void fake_open(void *opaque, const char *path, int fd)
{
    if (fd >= 0) {
        sfemu_json_obj(opaque, NULL);
        sfemu_json_int(opaque, "fd", fd);
        sfemu_json_str(opaque, "path", path);
        sfemu_json_end_obj(opaque);
    }
}

static void report_ring(struct sfemu_json *j, const struct sfemu_ring *r)
{
    int enoent = sfemu_errno_num("ENOENT");

    sfemu_json_arr(j, "ctx");
    for (unsigned i = 0; r && i < r->count; i++) {
        sfemu_report_ring_ent(j, sfemu_ring_at(r, i));
    }
    sfemu_json_end_arr(j);
    /* Fake resources touched: those fakefile created, the fake fds open,
     * and the paths that were missing (the ring). */
    sfemu_json_obj(j, "fake_resources");
    sfemu_json_arr(j, "created");
    sfemu_fake_each(fake_created, j);
    sfemu_json_end_arr(j);
    sfemu_json_arr(j, "open_fds");
    sfemu_fake_each(fake_open, j);
    sfemu_json_end_arr(j);
    sfemu_json_arr(j, "missing_paths");
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
            sfemu_json_str(j, NULL, e->path);
        }
    }
    sfemu_json_end_arr(j);
    sfemu_json_end_obj(j);
}

/* ---- files ---- */

static char run_id[64];
static atomic_uint report_seq;

void sfemu_report_new_run(void)
{
    snprintf(run_id, sizeof(run_id), "%d-%lld", (int)getpid(),
             (long long)time(NULL));
    atomic_store(&report_seq, 0);
}

const char *sfemu_report_run_id(void)
{
    return run_id;
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

int sfemu_report_write(const struct sfemu_report *r, char *path, size_t cap)
{
    const char *root = sfemu_opt_str(SFEMU_OPT_rules);
    struct sfemu_json j = { 0 };
    char sym[256] = "", line[1024];
    uint64_t pc = 0;
    unsigned seq = atomic_fetch_add(&report_seq, 1) + 1;
    struct timespec now;
    int fd, err = 0;

    if (!root) {
        return -ENOENT;
    }
    mkdirs(root);
    snprintf(path, cap, "%s/cache/ctx/%s-%s-%u.json", root, r->kind, run_id,
             seq);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || !(j.f = fdopen(fd, "w"))) {
        err = -errno;
        if (fd >= 0) {
            close(fd);
        }
        sfemu_log("watchdog: %s: cannot write %s: %s", r->kind, path,
                  strerror(-err));
        return err;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    sfemu_json_obj(&j, NULL);
    sfemu_json_str(&j, "kind", r->kind);
    sfemu_json_str(&j, "detail", r->detail);
    sfemu_json_str(&j, "run_id", run_id);
    sfemu_json_int(&j, "seq", seq);
    sfemu_json_int(&j, "pid", getpid());
    sfemu_json_int(&j, "tid", r->tid);
    sfemu_json_int(&j, "time", now.tv_sec);
    sfemu_json_str(&j, "arch", sfemu_rt.t->arch);
    sfemu_json_str(&j, "exec_path", sfemu_rt.t->exec_path);
    if (r->extra) {
        r->extra(&j, r->opaque);
    }
    if (r->on_guest_thread) {
        report_backtrace(&j, &pc, sym, sizeof(sym));
        sfemu_json_hex(&j, "pc", pc);
        report_regs(&j);
    } else {
        /* Registers belong to the guest thread, which is running guest code
         * now: the last syscall's pc in the ring is the best we have. */
        sfemu_json_null(&j, "registers");
        sfemu_json_arr(&j, "backtrace");
        sfemu_json_end_arr(&j);
        if (r->ring && r->ring->count) {
            pc = sfemu_ring_at(r->ring, r->ring->count - 1)->pc;
            sfemu_json_hex(&j, "last_syscall_pc", pc);
        }
    }
    report_ring(&j, r->ring);
    sfemu_json_end_obj(&j);
    fputc('\n', j.f);
    if (fclose(j.f) != 0) {
        err = -errno;
    }
    snprintf(line, sizeof(line),
             "watchdog: %s (tid %d): %s; pc 0x%" PRIx64 "%s%s%s; report %s",
             r->kind, r->tid, r->detail, pc, *sym ? " (" : "", sym,
             *sym ? ")" : "", path);
    summary(root, line);
    sfemu_analysis_trigger(r->kind, r->detail);
    return err;
}
