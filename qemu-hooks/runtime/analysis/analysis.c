/*
 * -sfanalysis OUTDIR and address resolution (see analysis.h, docs/analysis.md).
 *
 * Two parts:
 *  - symbol spaces: the guest's (modules from ops->guest_maps) and the host's
 *    (modules from /proc/self/maps), each a list of loaded ELF files with
 *    their load bias, rebuilt lazily when an address falls outside every
 *    known module (a library dlopened later) and the maps may have changed;
 *  - the record: per-syscall counts and errnos (fixed tables, atomics: no
 *    lock and no malloc on the hot path), paths with outcomes, bound
 *    sockets and triggers (a mutex; these syscalls are rare), written to
 *    OUTDIR/analysis.json and OUTDIR/summary.txt once, at finish.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "analysis/notes.h"
#include "core/observer.h"
#include "dirfd.h"
#include "json.h"
#include "path.h"
#include "str_hash.h"
#include "core/errnames.h"
#include "analysis/elfsyms.h"
#include "core/log.h"
#include "core/options.h"
#include "core/rulestat.h"
#include "core/runtime.h"
#include "core/syscall_names.h"
#include "trueroot/guestfs.h"
#include "trueroot/trueroot.h"

/* ---- symbol spaces ---------------------------------------------------- */

struct file_ent {
    char *path;
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    struct sfemu_elf *elf; /* NULL: not ELF or unreadable */
    struct file_ent *next;
};

struct module {
    uint64_t lo, hi, bias;
    struct file_ent *f;
    const char *name; /* basename of f->path */
};

struct space {
    pthread_mutex_t lock;
    struct module *mods; /* sorted by lo */
    size_t nmods;
    struct file_ent *files; /* parsed once per (path, inode, mtime) */
    int scanned;
    int64_t scan_ns;
    unsigned scan_gen;
};

struct mapping {
    uint64_t start, end, off;
    int prot;
    char *path;
};

struct scan {
    struct mapping *m;
    size_t n, cap;
    int oom;
};

#define RESCAN_NS 100000000LL /* a miss rescans at most every 100 ms ... */
static atomic_uint maps_gen;  /* ... unless an mmap-family call was seen */

static struct space guest_space = { .lock = PTHREAD_MUTEX_INITIALIZER };
static struct space host_space = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int64_t now_ns(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void scan_add(void *opaque, uint64_t start, uint64_t end, int prot,
                     uint64_t offset, const char *path)
{
    struct scan *s = opaque;

    /* Only file-backed regions can be modules ("[heap]", "" are not). */
    if (!path || path[0] != '/' || s->oom) {
        return;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct mapping *m = realloc(s->m, cap * sizeof(*m));
        if (!m) {
            s->oom = 1;
            return;
        }
        s->m = m;
        s->cap = cap;
    }
    s->m[s->n].path = strdup(path);
    if (!s->m[s->n].path) {
        s->oom = 1;
        return;
    }
    s->m[s->n].start = start;
    s->m[s->n].end = end;
    s->m[s->n].off = offset;
    s->m[s->n].prot = prot;
    s->n++;
}

/* The host's own mappings, from /proc/self/maps. */
static void host_maps(struct scan *s)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char line[PATH_MAX + 128];

    if (!f) {
        return;
    }
    while (fgets(line, sizeof(line), f)) {
        unsigned long long start, end, off;
        char perms[8];
        int pos = 0;
        char *path, *nl;

        if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms,
                   &off, &pos) < 4 ||
            !pos) {
            continue;
        }
        path = line + pos;
        if ((nl = strchr(path, '\n'))) {
            *nl = '\0';
        }
        scan_add(s, start, end, 0, off, path);
    }
    fclose(f);
}

static struct file_ent *file_get(struct space *sp, const char *path)
{
    struct file_ent *f;
    struct stat st;

    if (stat(path, &st) != 0) {
        return NULL;
    }
    for (f = sp->files; f; f = f->next) {
        if (!strcmp(f->path, path) && f->dev == st.st_dev &&
            f->ino == st.st_ino && f->mtime.tv_sec == st.st_mtim.tv_sec &&
            f->mtime.tv_nsec == st.st_mtim.tv_nsec) {
            return f;
        }
    }
    f = calloc(1, sizeof(*f));
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return NULL;
    }
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->mtime = st.st_mtim;
    if (sfemu_elf_load(path, &f->elf) != 0) {
        f->elf = NULL;
    }
    f->next = sp->files; /* a stale version stays: modules may use it */
    sp->files = f;
    return f;
}

static int mod_cmp(const void *x, const void *y)
{
    const struct module *a = x, *b = y;

    return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Rebuilds the module list from the current mappings.  Lock held. */
static void space_rescan(struct space *sp, int guest)
{
    struct scan s = { 0 };
    struct module *mods;
    size_t n = 0;

    if (guest) {
        if (!sfemu_rt.ops || !sfemu_rt.ops->guest_maps) {
            return;
        }
        sfemu_rt.ops->guest_maps(scan_add, &s);
    } else {
        host_maps(&s);
    }
    sp->scanned = 1;
    sp->scan_ns = now_ns(CLOCK_MONOTONIC);
    sp->scan_gen = atomic_load_explicit(&maps_gen, memory_order_relaxed);
    mods = calloc(s.n ? s.n : 1, sizeof(*mods));
    for (size_t i = 0; mods && i < s.n; i++) {
        struct mapping *m = &s.m[i];
        struct module mod = { .lo = m->start,
                              .hi = m->end,
                              .bias = m->start - m->off };
        int known = 0;

        /* Later segments of an instance already seen (maps come in address
         * order, so the first mapping of a file holds its first PT_LOAD). */
        for (size_t k = 0; k < n && !known; k++) {
            known = m->start >= mods[k].lo && m->start < mods[k].hi &&
                    !strcmp(mods[k].f->path, m->path);
        }
        if (known || !(mod.f = file_get(sp, m->path))) {
            continue;
        }
        if (mod.f->elf && mod.f->elf->nsegs &&
            sfemu_elf_bias(mod.f->elf, m->start, m->off, &mod.bias) == 0) {
            mod.lo = mod.bias + mod.f->elf->lo;
            mod.hi = mod.bias + mod.f->elf->hi;
            if (m->start < mod.lo || m->start >= mod.hi) {
                /* a file mapped as data, not as loaded */
                mod.lo = m->start;
                mod.hi = m->end;
                mod.bias = m->start - m->off;
            }
        }
        mod.name = path_base(mod.f->path);
        mods[n++] = mod;
    }
    for (size_t i = 0; i < s.n; i++) {
        free(s.m[i].path);
    }
    free(s.m);
    if (!mods) {
        return;
    }
    qsort(mods, n, sizeof(*mods), mod_cmp);
    free(sp->mods);
    sp->mods = mods;
    sp->nmods = n;
}

static const struct module *space_find(const struct space *sp, uint64_t a)
{
    const struct module *best = NULL;

    /* Overlaps are possible (a data mapping inside a module): the
     * innermost, i.e. the last starting at or below a, wins. */
    for (size_t i = 0; i < sp->nmods && sp->mods[i].lo <= a; i++) {
        if (a < sp->mods[i].hi) {
            best = &sp->mods[i];
        }
    }
    return best;
}

static const struct module *space_lookup(struct space *sp, int guest,
                                         uint64_t a)
{
    const struct module *m = sp->scanned ? space_find(sp, a) : NULL;

    if (!m && (!sp->scanned ||
               sp->scan_gen !=
                   atomic_load_explicit(&maps_gen, memory_order_relaxed) ||
               now_ns(CLOCK_MONOTONIC) - sp->scan_ns >= RESCAN_NS)) {
        space_rescan(sp, guest);
        m = space_find(sp, a);
    }
    return m;
}

static int space_resolve(struct space *sp, int guest, uint64_t a, int64_t max,
                         char *out, size_t cap)
{
    const struct module *m;
    int rc;

    pthread_mutex_lock(&sp->lock);
    m = space_lookup(sp, guest, a);
    if (m) {
        rc = sfemu_elf_format(m->f->elf, m->name, m->bias, a, max, out, cap);
    } else {
        snprintf(out, cap, "0x%" PRIx64, a);
        rc = -ESRCH; /* in no module */
    }
    pthread_mutex_unlock(&sp->lock);
    return rc;
}

int sfemu_syms_resolve_max(uint64_t guest_addr, int64_t max_bytes, char *out,
                           size_t cap)
{
    int rc = space_resolve(&guest_space, 1, guest_addr, max_bytes, out, cap);

    return rc == -ESRCH ? -ENOENT : rc;
}

int sfemu_syms_resolve(uint64_t guest_addr, char *out, size_t cap)
{
    return sfemu_syms_resolve_max(guest_addr, -1, out, cap);
}

int sfemu_host_resolve(const void *addr, int64_t max_bytes, char *out,
                       size_t cap)
{
    uint64_t a = (uint64_t)(uintptr_t)addr;
    Dl_info info;
    int have_dl = dladdr(addr, &info) != 0 && info.dli_fname;
    int rc;

    /* .symtab of the file first: it has QEMU's static functions, which
     * dladdr (dynamic symbols only) cannot name. */
    rc = space_resolve(&host_space, 0, a, max_bytes, out, cap);
    if (rc == 0) {
        return 0;
    }
    if (have_dl && info.dli_sname && info.dli_saddr) {
        uint64_t off = a - (uint64_t)(uintptr_t)info.dli_saddr;
        if (max_bytes < 0 ? off <= SFEMU_ELF_DEFAULT_MAX
                          : off <= (uint64_t)max_bytes) {
            snprintf(out, cap, off ? "%s!%s+0x%" PRIx64 : "%s!%s",
                     path_base(info.dli_fname), info.dli_sname, off);
            return 0;
        }
    }
    if (rc == -ENOENT) {
        return -ENOENT; /* "module+0xoff" from the maps */
    }
    if (have_dl && info.dli_fbase) {
        snprintf(out, cap, "%s+0x%" PRIx64, path_base(info.dli_fname),
                 a - (uint64_t)(uintptr_t)info.dli_fbase);
    } else {
        snprintf(out, cap, "host+0x%" PRIx64, a);
    }
    return -ENOENT;
}

/* ---- the record ------------------------------------------------------- */

enum path_class { PC_OPEN, PC_STAT, PC_ACCESS, PC_EXEC, PC_N };
static const char *const pc_names[PC_N] = { "open", "stat", "access", "exec" };

/* What a syscall number means to the record (one byte per number). */
enum sc_kind {
    K_NONE,
    K_MAP,
    K_BIND,
    K_SOCKETCALL,
    K_PATH, /* + path class and argument in sc_path */
};

struct path_spec {
    const char *name;
    uint8_t cls, arg;
    int8_t flags_arg; /* open flags argument, -1 none, -2 creat */
};

static const struct path_spec path_specs[] = {
    { "open", PC_OPEN, 0, 1 },         { "creat", PC_OPEN, 0, -2 },
    { "openat", PC_OPEN, 1, 2 },       { "openat2", PC_OPEN, 1, -1 },
    { "stat", PC_STAT, 0, -1 },        { "lstat", PC_STAT, 0, -1 },
    { "stat64", PC_STAT, 0, -1 },      { "lstat64", PC_STAT, 0, -1 },
    { "oldstat", PC_STAT, 0, -1 },     { "oldlstat", PC_STAT, 0, -1 },
    { "newfstatat", PC_STAT, 1, -1 },  { "fstatat64", PC_STAT, 1, -1 },
    { "statx", PC_STAT, 1, -1 },       { "access", PC_ACCESS, 0, -1 },
    { "faccessat", PC_ACCESS, 1, -1 }, { "faccessat2", PC_ACCESS, 1, -1 },
    { "execve", PC_EXEC, 0, -1 },      { "execveat", PC_EXEC, 1, -1 },
};

#define ERR_SLOTS 4096 /* (syscall, errno) pairs */
#define MAX_PATHS 4096
#define PATH_SLOTS 8192
#define MAX_BINDS 256
#define MAX_TRIGGERS 256
/* What analysis.json may allocate (far more than its tables take). */
#define ANALYSIS_MAX_BYTES (64 << 20)
#define NERRS 4 /* distinct errnos kept per path */

struct path_ent {
    char *path;
    uint32_t ok[PC_N], fail[PC_N];
    int err[NERRS];
    uint32_t errn[NERRS];
    uint8_t modes; /* 1 read, 2 write, 4 create */
};

struct bind_ent {
    char family[12];
    char addr[112];
    int64_t ret;
    uint32_t count;
};

/* A listening socket: the address the guest asked for and the one it got
 * (they differ when emu/netbind.c redirected the bind). */
struct listen_ent {
    char proto[8];
    char asked[64], got[64];
};

struct trigger_ent {
    double t;
    char kind[32];
    char detail[256];
};

/* A fake resource the rules made (c_fake_init). */
struct fake_ent {
    double t;
    char path[256];
    char kind[16];
};
#define MAX_FAKES 128

static struct {
    char *outdir;                  /* absolute; NULL = record off */
    int base, n;                   /* syscall table bounds */
    uint8_t *kind;                 /* [n] enum sc_kind */
    const struct path_spec **path; /* [n] for K_PATH */
    _Atomic uint64_t *count;       /* [n] */
    _Atomic uint64_t *errors;      /* [n] */
    _Atomic uint64_t total, outside;
    _Atomic uint32_t err_key[ERR_SLOTS];
    _Atomic uint64_t err_cnt[ERR_SLOTS];
    _Atomic uint64_t err_dropped;
    atomic_int finished;
    int is_child;
    int end_sig; /* the guest signal that ended the program, or 0 */
    int64_t start_real, start_mono;

    pthread_mutex_t lock;   /* everything below */
    struct path_ent *paths; /* insertion order */
    size_t npaths, paths_dropped;
    int32_t *path_idx; /* [PATH_SLOTS] index + 1, 0 = empty */
    struct bind_ent binds[MAX_BINDS];
    size_t nbinds;
    struct listen_ent listens[MAX_BINDS];
    size_t nlistens;
    struct trigger_ent triggers[MAX_TRIGGERS];
    size_t ntriggers, triggers_dropped;
    struct fake_ent fakes[MAX_FAKES];
    size_t nfakes, fakes_dropped;
} rec = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The record starts empty (at init, and in a forked child). */
static void record_reset(void)
{
    for (int i = 0; i < rec.n; i++) {
        atomic_store(&rec.count[i], 0);
        atomic_store(&rec.errors[i], 0);
    }
    for (int i = 0; i < ERR_SLOTS; i++) {
        atomic_store(&rec.err_key[i], 0);
        atomic_store(&rec.err_cnt[i], 0);
    }
    atomic_store(&rec.total, 0);
    atomic_store(&rec.outside, 0);
    atomic_store(&rec.err_dropped, 0);
    atomic_store(&rec.finished, 0);
    /* The parent's entries are not freed: another thread may have been
     * changing them at fork, so they are only forgotten. */
    rec.paths = NULL;
    rec.path_idx = NULL;
    rec.npaths = rec.paths_dropped = 0;
    rec.nbinds = rec.nlistens = rec.ntriggers = rec.triggers_dropped = 0;
    rec.nfakes = rec.fakes_dropped = 0;
    rec.start_real = now_ns(CLOCK_REALTIME);
    rec.start_mono = now_ns(CLOCK_MONOTONIC);
}

/*
 * The live count: DIR/live/<pid> holds this process's syscall count as a
 * native uint64, in a shared mapping that a watcher (sfemu run's status
 * line) reads while the guest runs.  A guest exec keeps the pid, so the new
 * program goes on counting in the same file; a forked child gets its own.
 */
static _Atomic uint64_t live_dummy, *live = &live_dummy;

static void live_open(void)
{
    char path[PATH_MAX];
    const struct dirfd_mkdir how = { .mode = 0755 };
    void *m = MAP_FAILED;
    int fd;

    if (live != &live_dummy) {
        munmap((void *)live, sizeof(*live)); /* the parent's, in a child */
        live = &live_dummy;
    }
    snprintf(path, sizeof(path), "%s/live", rec.outdir);
    if (dirfd_mkdir_p(AT_FDCWD, path, &how) < 0) {
        return;
    }
    snprintf(path, sizeof(path), "%s/live/%d", rec.outdir, (int)getpid());
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_size >= (off_t)sizeof(*live) ||
                                ftruncate(fd, sizeof(*live)) == 0)) {
        m = mmap(NULL, sizeof(*live), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                 0);
    }
    close(fd);
    if (m != MAP_FAILED) {
        live = m;
    }
}

/* A forked child (one thread): fresh locks, fresh record, own files. */
static void analysis_atfork_child(void)
{
    pthread_mutex_t init = PTHREAD_MUTEX_INITIALIZER;

    rec.lock = init;
    guest_space.lock = init;
    host_space.lock = init;
    /* A parent thread may have been rebuilding a module list at fork. */
    guest_space.mods = NULL;
    guest_space.nmods = 0;
    guest_space.files = NULL;
    guest_space.scanned = 0;
    host_space.mods = NULL;
    host_space.nmods = 0;
    host_space.files = NULL;
    host_space.scanned = 0;
    if (rec.outdir) {
        rec.is_child = 1;
        record_reset();
        live_open();
    }
}

static const struct sfemu_observer analysis_observer;

void sfemu_analysis_init(void)
{
    const char *dir = sfemu_opt_str(SFEMU_OPT_sfanalysis);
    const struct dirfd_mkdir how = { .mode = 0755 };
    static int atfork_done;
    int rc;

    if (!atfork_done) {
        atfork_done = 1;
        pthread_atfork(NULL, NULL, analysis_atfork_child);
    }
    if (!dir || rec.outdir) {
        return;
    }
    rc = dirfd_mkdir_p(AT_FDCWD, dir, &how);
    /* Absolute now: the guest's chdir may move the host's cwd later. */
    if (rc < 0 || !(rec.outdir = realpath(dir, NULL))) {
        sfemu_log("-sfanalysis %s: cannot create the directory: %s; no "
                  "analysis record",
                  dir, strerror(rc < 0 ? -rc : errno));
        return;
    }
    rec.base = sfemu_syscall_base();
    rec.n = sfemu_syscall_count();
    rec.kind = calloc(rec.n ? rec.n : 1, 1);
    rec.path = calloc(rec.n ? rec.n : 1, sizeof(*rec.path));
    rec.count = calloc(rec.n ? rec.n : 1, sizeof(*rec.count));
    rec.errors = calloc(rec.n ? rec.n : 1, sizeof(*rec.errors));
    if (!rec.kind || !rec.path || !rec.count || !rec.errors) {
        sfemu_log("-sfanalysis: out of memory; no analysis record");
        free(rec.outdir);
        rec.outdir = NULL;
        return;
    }
    for (int i = 0; i < rec.n; i++) {
        const char *name = sfemu_syscall_name(rec.base + i);

        if (!name) {
            continue;
        }
        if (!strcmp(name, "mmap") || !strcmp(name, "mmap2") ||
            !strcmp(name, "munmap") || !strcmp(name, "mremap") ||
            !strcmp(name, "shmat")) {
            rec.kind[i] = K_MAP;
        } else if (!strcmp(name, "bind")) {
            rec.kind[i] = K_BIND;
        } else if (!strcmp(name, "socketcall")) {
            rec.kind[i] = K_SOCKETCALL;
        }
        for (size_t k = 0; k < sizeof(path_specs) / sizeof(*path_specs); k++) {
            if (!strcmp(name, path_specs[k].name)) {
                rec.kind[i] = K_PATH;
                rec.path[i] = &path_specs[k];
            }
        }
    }
    record_reset();
    sfemu_rulestat_enable(); /* before the first rule loads */
    live_open();
    sfemu_observer_add(&analysis_observer);
}

static int is_err(int64_t ret)
{
    return ret < 0 && ret > -4096;
}

static void count_errno(int idx, int e)
{
    uint32_t key = ((uint32_t)(idx + 1) << 12) | (uint32_t)e;
    uint32_t h = (key * 2654435761u) % ERR_SLOTS;

    for (int probe = 0; probe < ERR_SLOTS; probe++, h = (h + 1) % ERR_SLOTS) {
        uint32_t cur =
            atomic_load_explicit(&rec.err_key[h], memory_order_relaxed);
        if (cur == 0) {
            uint32_t zero = 0;
            if (atomic_compare_exchange_strong(&rec.err_key[h], &zero, key)) {
                cur = key;
            } else {
                cur = zero; /* another thread took the slot */
            }
        }
        if (cur == key) {
            atomic_fetch_add_explicit(&rec.err_cnt[h], 1, memory_order_relaxed);
            return;
        }
    }
    atomic_fetch_add_explicit(&rec.err_dropped, 1, memory_order_relaxed);
}

/* The entry of a path, created on first sight.  Lock held. */
static struct path_ent *path_get(const char *path)
{
    uint32_t h;

    if (!rec.paths) {
        rec.paths = calloc(MAX_PATHS, sizeof(*rec.paths));
        rec.path_idx = calloc(PATH_SLOTS, sizeof(*rec.path_idx));
        if (!rec.paths || !rec.path_idx) {
            free(rec.paths);
            free(rec.path_idx);
            rec.paths = NULL;
            rec.path_idx = NULL;
            return NULL;
        }
    }
    for (h = sfemu_str_hash(path) % PATH_SLOTS; rec.path_idx[h];
         h = (h + 1) % PATH_SLOTS) {
        struct path_ent *p = &rec.paths[rec.path_idx[h] - 1];
        if (!strcmp(p->path, path)) {
            return p;
        }
    }
    if (rec.npaths == MAX_PATHS ||
        !(rec.paths[rec.npaths].path = strdup(path))) {
        rec.paths_dropped++;
        return NULL;
    }
    rec.path_idx[h] = (int32_t)++rec.npaths;
    return &rec.paths[rec.npaths - 1];
}

static void record_path(const struct path_spec *s, const int64_t a[SFEMU_NARGS],
                        int64_t ret)
{
    char path[PATH_MAX];
    long n = sfemu_rt.ops->read_str(sfemu_guest_addr(a[s->arg]), path,
                                    sizeof(path) - 1);
    struct path_ent *p;

    if (n <= 0) {
        return; /* NULL, "" (AT_EMPTY_PATH) or unreadable */
    }
    path[n] = '\0';
    pthread_mutex_lock(&rec.lock);
    p = path_get(path);
    if (p) {
        if (is_err(ret)) {
            int e = (int)-ret, k;
            p->fail[s->cls]++;
            for (k = 0; k < NERRS && p->errn[k] && p->err[k] != e; k++) {
            }
            if (k < NERRS) {
                p->err[k] = e;
                p->errn[k]++;
            }
        } else {
            p->ok[s->cls]++;
        }
        if (s->flags_arg == -2) {
            p->modes |= 2 | 4;
        } else if (s->flags_arg >= 0) {
            int64_t fl = a[s->flags_arg];
            p->modes |= (fl & 3) == 0 ? 1 : (fl & 3) == 1 ? 2 : 3;
            if (sfemu_rt.t && (fl & sfemu_rt.t->o_creat)) {
                p->modes |= 4;
            }
        }
    }
    pthread_mutex_unlock(&rec.lock);
}

static uint64_t guest_word(const uint8_t *b, int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++) {
        v = (v << 8) | b[sfemu_rt.t->big_endian ? i : n - 1 - i];
    }
    return v;
}

/* bind(fd, addr, len): the address in text ("0.0.0.0:80", a path). */
static void record_bind(uint64_t gaddr, uint64_t len, int64_t ret)
{
    uint8_t sa[112] = { 0 };
    char fam[12], addr[112];
    unsigned family;

    if (len > sizeof(sa)) {
        len = sizeof(sa);
    }
    if (len < 2 || sfemu_rt.ops->read_mem(gaddr, sa, len) != 0) {
        return;
    }
    family = (unsigned)guest_word(sa, 2); /* sa_family: guest order */
    if (family == 1) {                    /* AF_UNIX */
        size_t n = strnlen((char *)sa + 2, len - 2);
        snprintf(fam, sizeof(fam), "AF_UNIX");
        if (len > 2 && sa[2] == 0) {
            /* abstract: NUL then bytes up to len */
            n = strnlen((char *)sa + 3, len - 3);
            snprintf(addr, sizeof(addr), "@%.*s", (int)n, (char *)sa + 3);
        } else {
            snprintf(addr, sizeof(addr), "%.*s", (int)n, (char *)sa + 2);
        }
    } else if (family == 2 && len >= 8) { /* AF_INET: port, address in
                                             * network order */
        snprintf(fam, sizeof(fam), "AF_INET");
        snprintf(addr, sizeof(addr), "%u.%u.%u.%u:%u", sa[4], sa[5], sa[6],
                 sa[7], (unsigned)(sa[2] << 8 | sa[3]));
    } else if (family == 10 && len >= 24) { /* AF_INET6 */
        int o = 0;
        snprintf(fam, sizeof(fam), "AF_INET6");
        o += snprintf(addr + o, sizeof(addr) - o, "[");
        for (int i = 0; i < 8; i++) {
            o += snprintf(addr + o, sizeof(addr) - o, i ? ":%x" : "%x",
                          (unsigned)(sa[8 + 2 * i] << 8 | sa[9 + 2 * i]));
        }
        snprintf(addr + o, sizeof(addr) - o, "]:%u",
                 (unsigned)(sa[2] << 8 | sa[3]));
    } else {
        snprintf(fam, sizeof(fam), "%u", family);
        snprintf(addr, sizeof(addr), "?");
    }
    pthread_mutex_lock(&rec.lock);
    for (size_t i = 0; i < rec.nbinds; i++) {
        struct bind_ent *b = &rec.binds[i];
        if (b->ret == ret && !strcmp(b->family, fam) &&
            !strcmp(b->addr, addr)) {
            b->count++;
            pthread_mutex_unlock(&rec.lock);
            return;
        }
    }
    if (rec.nbinds < MAX_BINDS) {
        struct bind_ent *b = &rec.binds[rec.nbinds++];
        snprintf(b->family, sizeof(b->family), "%s", fam);
        snprintf(b->addr, sizeof(b->addr), "%s", addr);
        b->ret = ret;
        b->count = 1;
    }
    pthread_mutex_unlock(&rec.lock);
}

static void analysis_syscall(int num, const int64_t a[SFEMU_NARGS], int64_t ret,
                             int intercepted)
{
    int idx = num - rec.base;

    (void)intercepted;
    if (!rec.outdir) {
        return;
    }
    atomic_fetch_add_explicit(&rec.total, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(live, 1, memory_order_relaxed);
    if (idx < 0 || idx >= rec.n) {
        atomic_fetch_add_explicit(&rec.outside, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&rec.count[idx], 1, memory_order_relaxed);
    if (is_err(ret)) {
        atomic_fetch_add_explicit(&rec.errors[idx], 1, memory_order_relaxed);
        count_errno(idx, (int)-ret);
    }
    switch (rec.kind[idx]) {
    case K_MAP:
        atomic_fetch_add_explicit(&maps_gen, 1, memory_order_relaxed);
        break;
    case K_PATH: record_path(rec.path[idx], a, ret); break;
    case K_BIND:
        record_bind(sfemu_guest_addr(a[1]), sfemu_guest_addr(a[2]), ret);
        break;
    case K_SOCKETCALL:
        if (a[0] == 2) { /* SYS_BIND: args in a guest array */
            int w = sfemu_rt.t->abi_bits / 8;
            uint8_t b[24];
            if (sfemu_rt.ops->read_mem(sfemu_guest_addr(a[1]), b, 3 * w) == 0) {
                record_bind(guest_word(b + w, w), guest_word(b + 2 * w, w),
                            ret);
            }
        }
        break;
    }
}

void sfemu_analysis_listen(const char *proto, const char *asked,
                           const char *got)
{
    struct listen_ent *l;

    if (!rec.outdir) {
        return;
    }
    pthread_mutex_lock(&rec.lock);
    if (rec.nlistens < MAX_BINDS) {
        l = &rec.listens[rec.nlistens++];
        snprintf(l->proto, sizeof(l->proto), "%s", proto);
        snprintf(l->asked, sizeof(l->asked), "%s", asked);
        snprintf(l->got, sizeof(l->got), "%s", got);
    }
    pthread_mutex_unlock(&rec.lock);
}

void sfemu_analysis_trigger(const char *kind, const char *detail)
{
    struct trigger_ent *t;

    if (!rec.outdir) {
        return;
    }
    pthread_mutex_lock(&rec.lock);
    if (rec.ntriggers < MAX_TRIGGERS) {
        t = &rec.triggers[rec.ntriggers++];
        t->t = (now_ns(CLOCK_MONOTONIC) - rec.start_mono) / 1e9;
        snprintf(t->kind, sizeof(t->kind), "%s", kind ? kind : "");
        snprintf(t->detail, sizeof(t->detail), "%s", detail ? detail : "");
    } else {
        rec.triggers_dropped++;
    }
    pthread_mutex_unlock(&rec.lock);
}

static cJSON *json_secs(double s);

void sfemu_analysis_fake_made(const char *path, const char *kind)
{
    if (!rec.outdir || !path) {
        return;
    }
    pthread_mutex_lock(&rec.lock);
    size_t i;
    for (i = 0; i < rec.nfakes && strcmp(rec.fakes[i].path, path); i++) {
    }
    if (i < rec.nfakes) {
        /* made before (another thread, or made again): once */
    } else if (rec.nfakes < MAX_FAKES) {
        struct fake_ent *f = &rec.fakes[rec.nfakes++];
        f->t = (now_ns(CLOCK_MONOTONIC) - rec.start_mono) / 1e9;
        snprintf(f->path, sizeof(f->path), "%s", path);
        snprintf(f->kind, sizeof(f->kind), "%s", kind ? kind : "");
    } else {
        rec.fakes_dropped++;
    }
    pthread_mutex_unlock(&rec.lock);
}

static void put_fakes(cJSON *doc)
{
    cJSON *arr = json_put(doc, "fakes_made", cJSON_CreateArray());

    for (size_t i = 0; i < rec.nfakes; i++) {
        cJSON *o = json_put(arr, NULL, cJSON_CreateObject());
        json_put(o, "path", json_bytes(rec.fakes[i].path));
        json_put(o, "kind", json_bytes(rec.fakes[i].kind));
        json_put(o, "t", json_secs(rec.fakes[i].t));
    }
    json_put(doc, "fakes_made_dropped", json_int((int64_t)rec.fakes_dropped));
}

/* ---- writing the record ----------------------------------------------- */

/* A guest errno's name, or "E<n>". */
static void errno_name(int gerr, char *out, size_t cap)
{
    const char *name = sfemu_errno_name(gerr);

    if (name) {
        snprintf(out, cap, "%s", name);
    } else {
        snprintf(out, cap, "E%d", gerr);
    }
}

struct sc_row {
    int idx;
    uint64_t count, errors;
};

static int row_cmp(const void *x, const void *y)
{
    const struct sc_row *a = x, *b = y;

    if (a->count != b->count) {
        return a->count > b->count ? -1 : 1;
    }
    return a->idx - b->idx;
}

static const char *sc_name(int idx, char *buf, size_t cap)
{
    const char *n = sfemu_syscall_name(rec.base + idx);

    if (n) {
        return n;
    }
    snprintf(buf, cap, "syscall_%d", rec.base + idx);
    return buf;
}

static int is_device(const char *p)
{
    return !strncmp(p, "/dev/", 5);
}

static int is_missing(const struct path_ent *p)
{
    for (int k = 0; k < NERRS; k++) {
        if (p->errn[k] && p->err[k] == 2) { /* ENOENT: 2 on every target */
            return 1;
        }
    }
    return 0;
}

static void modes_str(uint8_t m, char out[4])
{
    int n = 0;

    if (m & 1) {
        out[n++] = 'r';
    }
    if (m & 2) {
        out[n++] = 'w';
    }
    if (m & 4) {
        out[n++] = 'c';
    }
    out[n] = '\0';
}

/* Seconds with three decimals, as a JSON number. */
static cJSON *json_secs(double s)
{
    return cJSON_CreateNumber(
        (double)(int64_t)(s * 1000 + (s < 0 ? -0.5 : 0.5)) / 1000);
}

/* {"errno": n, "name": "ENOENT", "count": c} */
static void put_errno(cJSON *arr, int gerr, uint64_t count)
{
    cJSON *o = json_put(arr, NULL, cJSON_CreateObject());
    char en[32];

    errno_name(gerr, en, sizeof(en));
    json_put(o, "errno", json_int(gerr));
    json_put(o, "name", cJSON_CreateString(en));
    json_put(o, "count", json_int((int64_t)count));
}

static void put_syscalls(cJSON *doc, struct sc_row *rows, size_t nrows)
{
    cJSON *sc = json_put(doc, "syscalls", cJSON_CreateObject());
    cJSON *by_name;
    char nb[32];

    json_put(sc, "total", json_int((int64_t)atomic_load(&rec.total)));
    json_put(sc, "outside_table", json_int((int64_t)atomic_load(&rec.outside)));
    by_name = json_put(sc, "by_name", cJSON_CreateArray());
    for (size_t i = 0; i < nrows; i++) {
        cJSON *o = json_put(by_name, NULL, cJSON_CreateObject()), *errs;
        json_put(o, "name", json_bytes(sc_name(rows[i].idx, nb, sizeof(nb))));
        json_put(o, "num", json_int(rec.base + rows[i].idx));
        json_put(o, "count", json_int((int64_t)rows[i].count));
        json_put(o, "errors", json_int((int64_t)rows[i].errors));
        errs = json_put(o, "errnos", cJSON_CreateArray());
        for (int s = 0; s < ERR_SLOTS && rows[i].errors; s++) {
            uint32_t key = atomic_load(&rec.err_key[s]);
            if (key && (int)(key >> 12) - 1 == rows[i].idx) {
                put_errno(errs, key & 0xfff, atomic_load(&rec.err_cnt[s]));
            }
        }
    }
    json_put(sc, "errnos_dropped",
             json_int((int64_t)atomic_load(&rec.err_dropped)));
}

static void put_files(cJSON *doc)
{
    cJSON *files = json_put(doc, "files", cJSON_CreateArray());
    cJSON *missing, *devices;

    for (size_t i = 0; i < rec.npaths; i++) {
        const struct path_ent *p = &rec.paths[i];
        cJSON *o = json_put(files, NULL, cJSON_CreateObject()), *errs;
        char m[4];

        modes_str(p->modes, m);
        json_put(o, "path", json_bytes(p->path));
        json_put(o, "device", cJSON_CreateBool(is_device(p->path)));
        json_put(o, "missing", cJSON_CreateBool(is_missing(p)));
        json_put(o, "modes", cJSON_CreateString(m));
        for (int c = 0; c < PC_N; c++) {
            if (p->ok[c] || p->fail[c]) {
                cJSON *k = json_put(o, pc_names[c], cJSON_CreateObject());
                json_put(k, "ok", json_int(p->ok[c]));
                json_put(k, "failed", json_int(p->fail[c]));
            }
        }
        errs = json_put(o, "errnos", cJSON_CreateArray());
        for (int k = 0; k < NERRS && p->errn[k]; k++) {
            put_errno(errs, p->err[k], p->errn[k]);
        }
    }
    json_put(doc, "files_dropped", json_int((int64_t)rec.paths_dropped));
    missing = json_put(doc, "missing", cJSON_CreateArray());
    devices = json_put(doc, "devices", cJSON_CreateArray());
    for (size_t i = 0; i < rec.npaths; i++) {
        if (is_missing(&rec.paths[i])) {
            json_put(missing, NULL, json_bytes(rec.paths[i].path));
        }
        if (is_device(rec.paths[i].path)) {
            json_put(devices, NULL, json_bytes(rec.paths[i].path));
        }
    }
}

static void put_binds_and_triggers(cJSON *doc)
{
    cJSON *binds = json_put(doc, "sockets_bound", cJSON_CreateArray());
    cJSON *listens, *trig;

    for (size_t i = 0; i < rec.nbinds; i++) {
        const struct bind_ent *b = &rec.binds[i];
        cJSON *o = json_put(binds, NULL, cJSON_CreateObject());
        json_put(o, "family", cJSON_CreateString(b->family));
        json_put(o, "address", json_bytes(b->addr));
        json_put(o, "ok", cJSON_CreateBool(!is_err(b->ret)));
        json_put(o, "result", json_int(b->ret));
        if (is_err(b->ret)) {
            char en[32];
            errno_name((int)-b->ret, en, sizeof(en));
            json_put(o, "errno", cJSON_CreateString(en));
        }
        json_put(o, "count", json_int(b->count));
    }
    listens = json_put(doc, "sockets_listening", cJSON_CreateArray());
    for (size_t i = 0; i < rec.nlistens; i++) {
        const struct listen_ent *l = &rec.listens[i];
        cJSON *o = json_put(listens, NULL, cJSON_CreateObject());
        json_put(o, "proto", cJSON_CreateString(l->proto));
        json_put(o, "asked", json_bytes(l->asked));
        json_put(o, "got", json_bytes(l->got));
    }
    trig = json_put(doc, "triggers", cJSON_CreateArray());
    for (size_t i = 0; i < rec.ntriggers; i++) {
        cJSON *o = json_put(trig, NULL, cJSON_CreateObject());
        json_put(o, "t", json_secs(rec.triggers[i].t));
        json_put(o, "kind", json_bytes(rec.triggers[i].kind));
        json_put(o, "detail", json_bytes(rec.triggers[i].detail));
    }
    json_put(doc, "triggers_dropped", json_int((int64_t)rec.triggers_dropped));
}

/* A summary section's lines: the file and how many were printed. */
struct dir_lines {
    FILE *f;
    size_t *n;
};

static void put_note(void *opaque, const char *source, const char *text,
                     uint64_t count)
{
    cJSON *o = json_put(opaque, NULL, cJSON_CreateObject());

    json_put(o, "source", json_bytes(source));
    json_put(o, "text", json_bytes(text));
    json_put(o, "count", json_int((int64_t)count));
}

/* The notes of handlers (fakefile.note) and rules (c_analysis_note). */
static void put_notes(cJSON *doc)
{
    sfemu_notes_each(put_note, json_put(doc, "notes", cJSON_CreateArray()));
    json_put(doc, "notes_dropped", json_int((int64_t)sfemu_notes_dropped()));
}

static void print_note(void *opaque, const char *source, const char *text,
                       uint64_t count)
{
    struct dir_lines *d = opaque;

    fprintf(d->f, "  %s: %s (x%" PRIu64 ")\n", source, text, count);
    (*d->n)++;
}

/* A rule file's name under the rules tree ("syscall/open.lua"). */
static const char *rule_name(const char *path)
{
    const char *root = sfemu_opt_str(SFEMU_OPT_rules);
    size_t n = root ? strlen(root) : 0;

    while (n > 1 && root[n - 1] == '/') {
        n--;
    }
    return n && !strncmp(path, root, n) && path[n] == '/' ? path + n + 1 : path;
}

/* {"file", "calls", "intercepted"}: each rule that ran, and how often it
 * gave the result itself (finish.lua: replaced it). */
static void put_rule(void *opaque, const char *path, uint64_t calls,
                     uint64_t intercepted)
{
    cJSON *o = json_put(opaque, NULL, cJSON_CreateObject());

    json_put(o, "file", json_bytes(rule_name(path)));
    json_put(o, "calls", json_int((int64_t)calls));
    json_put(o, "intercepted", json_int((int64_t)intercepted));
}

static void print_rule(void *opaque, const char *path, uint64_t calls,
                       uint64_t intercepted)
{
    struct dir_lines *d = opaque;

    fprintf(d->f, "  %10" PRIu64 " %10" PRIu64 "  %s\n", calls, intercepted,
            rule_name(path));
    (*d->n)++;
}

static void put_modules(cJSON *doc)
{
    static const char *const src[] = { "none", "symtab", "dynsym", "dynamic" };
    cJSON *mods = json_put(doc, "modules", cJSON_CreateArray());
    char gname[PATH_MAX];

    for (size_t i = 0; i < guest_space.nmods; i++) {
        const struct module *m = &guest_space.mods[i];
        const struct sfemu_elf *e = m->f->elf;
        cJSON *o = json_put(mods, NULL, cJSON_CreateObject());

        json_put(o, "name", json_bytes(m->name));
        sfemu_guestfs_guest_name(m->f->path, gname, sizeof(gname));
        json_put(o, "path", json_bytes(gname));
        json_put(o, "start", json_hex(m->lo));
        json_put(o, "end", json_hex(m->hi));
        json_put(o, "bias", json_hex(m->bias));
        json_put(o, "elf", cJSON_CreateBool(e != NULL));
        json_put(o, "symbols", json_int(e ? (int64_t)e->nsyms : 0));
        json_put(o, "symbol_source",
                 cJSON_CreateString(e ? src[e->source] : "none"));
    }
}

static void put_dir_made(void *opaque, const char *gpath)
{
    json_put(opaque, NULL, json_bytes(gpath));
}

static void print_dir_made(void *opaque, const char *gpath)
{
    struct dir_lines *d = opaque;

    fprintf(d->f, "  %s\n", gpath);
    (*d->n)++;
}

/* analysis.json's text (cJSON_free it), or NULL: out of memory. */
static char *analysis_json(const char *why, struct sc_row *rows, size_t nrows,
                           int64_t end_real, double secs)
{
    const struct sfemu_target *t = sfemu_rt.t;
    cJSON *doc;

    json_begin(ANALYSIS_MAX_BYTES);
    doc = cJSON_CreateObject();
    json_put(doc, "sfemu_analysis", json_int(1));
    json_put(doc, "why", json_bytes(why));
    if (rec.end_sig) {
        json_put(doc, "signal", json_int(rec.end_sig));
    }
    json_put(doc, "pid", json_int(getpid()));
    json_put(doc, "forked_child", cJSON_CreateBool(rec.is_child));
    json_put(doc, "execs", json_int(sfemu_rt.execs));
    json_put(doc, "arch", json_bytes(t ? t->arch : ""));
    json_put(doc, "abi_bits", json_int(t ? t->abi_bits : 0));
    json_put(doc, "big_endian", cJSON_CreateBool(t && t->big_endian));
    json_put(doc, "program", json_bytes(sfemu_rt.exec_path));
    if (sfemu_rt.exec_name) {
        json_put(doc, "exec_name", json_bytes(sfemu_rt.exec_name));
    }
    json_put(doc, "started", json_secs(rec.start_real / 1e9));
    json_put(doc, "ended", json_secs(end_real / 1e9));
    json_put(doc, "seconds", json_secs(secs));
    put_syscalls(doc, rows, nrows);
    put_files(doc);
    put_binds_and_triggers(doc);
    put_notes(doc);
    put_fakes(doc);
    sfemu_rulestat_each(put_rule, json_put(doc, "rules", cJSON_CreateArray()));
    put_modules(doc);
    /* missing parents the true root made for the guest's creates */
    sfemu_trueroot_dirs_made(put_dir_made,
                             json_put(doc, "dirs_made", cJSON_CreateArray()));
    return json_end(doc);
}

static void write_summary(FILE *f, const char *why, struct sc_row *rows,
                          size_t nrows, double secs)
{
    char nb[32], en[32], m[4];
    uint64_t failed = 0;
    size_t n;

    for (size_t i = 0; i < nrows; i++) {
        failed += rows[i].errors;
    }
    fprintf(f, "SFEmu analysis of %s (%s, pid %d%s)\n",
            sfemu_rt.exec_path ? sfemu_rt.exec_path : "?",
            sfemu_rt.t ? sfemu_rt.t->arch : "?", (int)getpid(),
            rec.is_child ? ", forked child" : "");
    if (sfemu_rt.execs) {
        fprintf(f, "Started by guest exec %d of pid %d.\n", sfemu_rt.execs,
                (int)getpid());
    }
    fprintf(f, "Ended by %s after %.3f s.\n\n", why ? why : "?", secs);
    fprintf(f,
            "Syscalls: %" PRIu64 " calls, %zu distinct, %" PRIu64 " failed\n",
            atomic_load(&rec.total), nrows, failed);
    fprintf(f, "  %10s %8s  %s\n", "calls", "errors", "syscall (errnos)");
    for (size_t i = 0; i < nrows; i++) {
        fprintf(f, "  %10" PRIu64 " %8" PRIu64 "  %s", rows[i].count,
                rows[i].errors, sc_name(rows[i].idx, nb, sizeof(nb)));
        for (int s = 0, first = 1; s < ERR_SLOTS && rows[i].errors; s++) {
            uint32_t key = atomic_load(&rec.err_key[s]);
            if (key && (int)(key >> 12) - 1 == rows[i].idx) {
                errno_name(key & 0xfff, en, sizeof(en));
                fprintf(f, "%s%s x%" PRIu64, first ? " (" : ", ", en,
                        atomic_load(&rec.err_cnt[s]));
                first = 0;
            }
        }
        fprintf(f, "%s\n", rows[i].errors ? ")" : "");
    }

    fprintf(f, "\nMissing paths (ENOENT):\n");
    n = 0;
    for (size_t i = 0; i < rec.npaths; i++) {
        if (is_missing(&rec.paths[i])) {
            fprintf(f, "  %s\n", rec.paths[i].path);
            n++;
        }
    }
    if (!n) {
        fprintf(f, "  (none)\n");
    }
    fprintf(f, "\nFiles and devices (ok/failed per kind of access):\n");
    for (size_t i = 0; i < rec.npaths; i++) {
        const struct path_ent *p = &rec.paths[i];
        modes_str(p->modes, m);
        fprintf(f, "  %-3s %s%s ", m, p->path,
                is_device(p->path) ? " [device]" : "");
        for (int c = 0; c < PC_N; c++) {
            if (p->ok[c] || p->fail[c]) {
                fprintf(f, " %s %u/%u", pc_names[c], p->ok[c], p->fail[c]);
            }
        }
        for (int k = 0; k < NERRS && p->errn[k]; k++) {
            errno_name(p->err[k], en, sizeof(en));
            fprintf(f, "%s%s x%u", k ? ", " : "  (", en, p->errn[k]);
        }
        fprintf(f, "%s\n", p->errn[0] ? ")" : "");
    }
    if (!rec.npaths) {
        fprintf(f, "  (none)\n");
    }
    if (rec.paths_dropped) {
        fprintf(f, "  ... %zu more paths not recorded\n", rec.paths_dropped);
    }

    fprintf(f, "\nSockets bound:\n");
    for (size_t i = 0; i < rec.nbinds; i++) {
        const struct bind_ent *b = &rec.binds[i];
        if (is_err(b->ret)) {
            errno_name((int)-b->ret, en, sizeof(en));
        } else {
            snprintf(en, sizeof(en), "ok");
        }
        fprintf(f, "  %-8s %s -> %s (x%u)\n", b->family, b->addr, en, b->count);
    }
    if (!rec.nbinds) {
        fprintf(f, "  (none)\n");
    }
    fprintf(f, "\nListening sockets:\n");
    for (size_t i = 0; i < rec.nlistens; i++) {
        const struct listen_ent *l = &rec.listens[i];
        fprintf(f, "  %-5s %s", l->proto, l->got);
        if (strcmp(l->asked, l->got)) {
            fprintf(f, " (asked %s)", l->asked);
        }
        fprintf(f, "\n");
    }
    if (!rec.nlistens) {
        fprintf(f, "  (none)\n");
    }
    fprintf(f, "\nTriggers:\n");
    for (size_t i = 0; i < rec.ntriggers; i++) {
        fprintf(f, "  %9.3f s  %s  %s\n", rec.triggers[i].t,
                rec.triggers[i].kind, rec.triggers[i].detail);
    }
    if (!rec.ntriggers) {
        fprintf(f, "  (none)\n");
    }
    fprintf(f, "\nNotes:\n");
    n = 0;
    sfemu_notes_each(print_note, &(struct dir_lines){ f, &n });
    if (!n) {
        fprintf(f, "  (none)\n");
    }
    fprintf(f, "\nFake resources made:\n");
    for (size_t i = 0; i < rec.nfakes; i++) {
        fprintf(f, "  %s (%s) at %.3f s\n", rec.fakes[i].path,
                rec.fakes[i].kind[0] ? rec.fakes[i].kind : "default",
                rec.fakes[i].t);
    }
    if (!rec.nfakes) {
        fprintf(f, "  (none)\n");
    }
    fprintf(f, "\nRules that ran:\n  %10s %10s  %s\n", "calls", "result",
            "file");
    n = 0;
    sfemu_rulestat_each(print_rule, &(struct dir_lines){ f, &n });
    if (!n) {
        fprintf(f, "  (none)\n");
    }
    fprintf(f, "\nDirectories made for the guest's creates:\n");
    n = 0;
    sfemu_trueroot_dirs_made(print_dir_made, &(struct dir_lines){ f, &n });
    if (!n) {
        fprintf(f, "  (none)\n");
    }
    fprintf(f, "\nModules (guest):\n");
    for (size_t i = 0; i < guest_space.nmods; i++) {
        const struct module *mo = &guest_space.mods[i];
        char gname[PATH_MAX];

        sfemu_guestfs_guest_name(mo->f->path, gname, sizeof(gname));
        fprintf(f, "  0x%08" PRIx64 "-0x%08" PRIx64 " %s (%zu symbols)\n",
                mo->lo, mo->hi, gname, mo->f->elf ? mo->f->elf->nsyms : 0);
    }
}

static void out_path(char path[PATH_MAX], const char *name, const char *ext)
{
    /* A program a guest exec started (same pid) and a forked child (the
     * parent's record in memory) write files of their own. */
    if (sfemu_rt.execs) {
        snprintf(path, PATH_MAX, "%s/%s-%d-exec%d.%s", rec.outdir, name,
                 (int)getpid(), sfemu_rt.execs, ext);
    } else if (rec.is_child) {
        snprintf(path, PATH_MAX, "%s/%s-%d.%s", rec.outdir, name, (int)getpid(),
                 ext);
    } else {
        snprintf(path, PATH_MAX, "%s/%s.%s", rec.outdir, name, ext);
    }
}

static void analysis_end(const char *why, int guest_sig)
{
    rec.end_sig = guest_sig;
    sfemu_analysis_finish(why);
    if (!strcmp(why, "execve")) {
        /* written before the exec; should the exec fail, the program goes
         * on and its record is written again at its end */
        atomic_store(&rec.finished, 0);
    }
}

static const struct sfemu_observer analysis_observer = {
    .name = "analysis record",
    .wants_all = 1,
    .exit = analysis_syscall,
    .end = analysis_end,
};

void sfemu_analysis_finish(const char *why)
{
    struct sc_row *rows;
    size_t nrows = 0;
    int64_t end_real;
    double secs;
    char path[PATH_MAX], *text;
    FILE *f;
    int rc;

    if (!rec.outdir || atomic_exchange(&rec.finished, 1)) {
        return;
    }
    end_real = now_ns(CLOCK_REALTIME);
    secs = (now_ns(CLOCK_MONOTONIC) - rec.start_mono) / 1e9;
    rows = calloc(rec.n ? rec.n : 1, sizeof(*rows));
    if (!rows) {
        return;
    }
    for (int i = 0; i < rec.n; i++) {
        uint64_t c = atomic_load(&rec.count[i]);
        if (c) {
            rows[nrows++] =
                (struct sc_row){ i, c, atomic_load(&rec.errors[i]) };
        }
    }
    qsort(rows, nrows, sizeof(*rows), row_cmp);
    /* The modules loaded at the end (not only those a lookup needed). */
    pthread_mutex_lock(&guest_space.lock);
    space_rescan(&guest_space, 1);
    pthread_mutex_lock(&rec.lock);
    out_path(path, "analysis", "json");
    text = analysis_json(why, rows, nrows, end_real, secs);
    rc = text ? json_save(path, O_TRUNC, text) : -ENOMEM;
    cJSON_free(text);
    if (rc < 0) {
        sfemu_log("-sfanalysis: cannot write %s: %s", path, strerror(-rc));
    }
    out_path(path, "summary", "txt");
    if ((f = fopen(path, "we"))) {
        write_summary(f, why, rows, nrows, secs);
        fclose(f);
    }
    pthread_mutex_unlock(&rec.lock);
    pthread_mutex_unlock(&guest_space.lock);
    free(rows);
}
