/*
 * The shadow call stack, as a TCG plugin: see include/sfemu/shadow.h for the
 * contract with the runtime and docs/shadowstack.md for the design.
 *
 * At translation every instruction's raw bytes (guest memory order) are
 * decoded for calls (ARM/Thumb BL, BLX; MIPS JAL, JALR, BAL, B*ZAL;
 * aarch64 BL, BLR, BLRA*).  Execution side, per vCPU:
 *   - a call instruction gets an insn exec callback that pushes
 *     {site, ret} and marks the callee pending;
 *   - every TB gets two *conditional* callbacks that cost an inline
 *     compare when they do not fire: "a callee is pending" (the TB's pc is
 *     the callee, recorded; or pc == ret: a conditional call not taken) and
 *     "pc == return address of the top frame" (a return, pop);
 *   - a TB that starts at a known return address (the fall-through of a
 *     translated call) gets an unconditional callback instead of the
 *     pc == top compare: it searches unwind_limit frames down, so a
 *     longjmp-like return to an outer frame pops everything above it.
 * ARM vs Thumb: the T bit of cpsr is read at translation time (the vCPU's
 * state then is the state the TB is translated for); without a cpsr
 * register, a TB with any 2-byte instruction is Thumb.
 */
#include <glib.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

#include "sfemu/shadow.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

enum arch { A_ARM, A_MIPS, A_AARCH64, A_OTHER };

static struct sfemu_shadow_api *api;
static enum arch arch;
static bool target_be; /* memory byte order of the target */
static bool do_log, do_summary;
static long unwind_limit = 100, max_stack = 100;
static struct qemu_plugin_register *cpsr_reg;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static bool regs_looked_up;

#define PATH_LEN 4
struct path {
    uint64_t callee[PATH_LEN]; /* innermost first, 0 past the stack bottom */
    uint64_t count;
};
#define PCACHE 256 /* per-vCPU path cache (direct-mapped) */

/* ---- per-vCPU state ----------------------------------------------------- */

/* Read inline by the conditional TB callbacks. */
struct sb {
    uint64_t pending; /* nonzero: the top frame's callee is the next TB */
    uint64_t top_ret; /* return address of the top frame; NO_RET if empty */
};
#define NO_RET UINT64_MAX

static struct qemu_plugin_scoreboard *score;
static qemu_plugin_u64 sb_pending, sb_top_ret;

/* The frames: a ring of max_stack entries (the oldest is dropped). */
struct path;
struct vstate {
    struct sfemu_shadow_frame *f;
    long head; /* index of the oldest frame */
    long count;
    struct path *cache; /* summary: this vCPU's recent paths, PCACHE of them */
};

/* Two-level table (chunks never move: api->get reads it without a lock). */
#define CHUNK 256
#define NCHUNKS 1024
static struct vstate *chunks[NCHUNKS];
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;

static struct vstate *vstate_of(unsigned idx)
{
    struct vstate *c;

    if (idx >= CHUNK * NCHUNKS) {
        return NULL;
    }
    c = __atomic_load_n(&chunks[idx / CHUNK], __ATOMIC_ACQUIRE);
    return c ? &c[idx % CHUNK] : NULL;
}

static struct vstate *vstate_new(unsigned idx)
{
    struct vstate *c, *v;

    if (idx >= CHUNK * NCHUNKS) {
        return NULL;
    }
    pthread_mutex_lock(&state_lock);
    c = chunks[idx / CHUNK];
    if (!c) {
        c = calloc(CHUNK, sizeof(*c));
        if (c) {
            __atomic_store_n(&chunks[idx / CHUNK], c, __ATOMIC_RELEASE);
        }
    }
    v = c ? &c[idx % CHUNK] : NULL;
    if (v && !v->f) {
        v->f = calloc((size_t)max_stack, sizeof(*v->f));
        if (!v->f) {
            v = NULL;
        }
    }
    if (v && do_summary && !v->cache) {
        v->cache = calloc(PCACHE, sizeof(*v->cache));
    }
    pthread_mutex_unlock(&state_lock);
    return v;
}

static inline struct sfemu_shadow_frame *frame_at(struct vstate *v, long i)
{
    /* i = 0: the oldest frame */
    return &v->f[(v->head + i) % max_stack];
}

/* The vCPU's scoreboard entry: only valid within the callback (the
 * scoreboard moves when it grows, with every vCPU stopped). */
static inline struct sb *sb_of(unsigned vcpu)
{
    return qemu_plugin_scoreboard_find(score, vcpu);
}

static inline void sync_top(unsigned vcpu, struct vstate *v)
{
    sb_of(vcpu)->top_ret = v->count ? frame_at(v, v->count - 1)->ret : NO_RET;
}

/* ---- summary: hottest call paths ------------------------------------------ */

static struct path *paths;
static size_t paths_cap, paths_used;
static pthread_mutex_t paths_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t path_hash(const uint64_t *k)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < PATH_LEN; i++) {
        h ^= k[i];
        h *= 0x100000001b3ULL;
        h ^= h >> 29;
    }
    return h;
}

static void path_insert_locked(const uint64_t *k, uint64_t n)
{
    if (paths_used * 2 >= paths_cap) {
        size_t ncap = paths_cap ? paths_cap * 2 : 1024;
        struct path *np = calloc(ncap, sizeof(*np));
        if (!np) {
            return;
        }
        for (size_t i = 0; i < paths_cap; i++) {
            if (paths[i].count) {
                size_t j = path_hash(paths[i].callee) & (ncap - 1);
                while (np[j].count) {
                    j = (j + 1) & (ncap - 1);
                }
                np[j] = paths[i];
            }
        }
        free(paths);
        paths = np;
        paths_cap = ncap;
    }
    size_t j = path_hash(k) & (paths_cap - 1);
    while (paths[j].count &&
           memcmp(paths[j].callee, k, sizeof(paths[j].callee))) {
        j = (j + 1) & (paths_cap - 1);
    }
    if (!paths[j].count) {
        memcpy(paths[j].callee, k, sizeof(paths[j].callee));
        paths_used++;
    }
    paths[j].count += n;
}

/* Counted in the vCPU's cache first; an evicted entry goes to the table. */
static void count_path(struct vstate *v)
{
    uint64_t k[PATH_LEN] = { 0 };
    struct path *e;

    for (int i = 0; i < PATH_LEN && i < v->count; i++) {
        k[i] = frame_at(v, v->count - 1 - i)->callee;
    }
    if (!v->cache) {
        pthread_mutex_lock(&paths_lock);
        path_insert_locked(k, 1);
        pthread_mutex_unlock(&paths_lock);
        return;
    }
    e = &v->cache[path_hash(k) & (PCACHE - 1)];
    if (e->count && !memcmp(e->callee, k, sizeof(k))) {
        e->count++;
        return;
    }
    if (e->count) {
        pthread_mutex_lock(&paths_lock);
        path_insert_locked(e->callee, e->count);
        pthread_mutex_unlock(&paths_lock);
    }
    memcpy(e->callee, k, sizeof(k));
    e->count = 1;
}

static void flush_paths_locked(struct vstate *v)
{
    for (int i = 0; v->cache && i < PCACHE; i++) {
        if (v->cache[i].count) {
            path_insert_locked(v->cache[i].callee, v->cache[i].count);
            v->cache[i].count = 0;
        }
    }
}

/* ---- output ---------------------------------------------------------------- */

static void out_line(const char *s)
{
    if (api && api->log_line) {
        api->log_line(s);
    } else {
        char buf[1300];
        snprintf(buf, sizeof(buf), "shadowstack: %s\n", s);
        qemu_plugin_outs(buf);
    }
}

static void name_of(uint64_t addr, char *out, size_t cap)
{
    out[0] = '\0';
    if (!addr) {
        snprintf(out, cap, "?");
        return;
    }
    /* resolve() fills "0x..." or lib+off even when it fails */
    if (api && api->resolve) {
        api->resolve(addr, out, cap);
    }
    if (!*out) {
        snprintf(out, cap, "0x%" PRIx64, addr);
    }
}

/* ---- execution callbacks ----------------------------------------------------- */

/* A call instruction executes: push {site, ret}, callee pending. */
static void on_call(unsigned vcpu, void *udata)
{
    uintptr_t u = (uintptr_t)udata;
    uint64_t site = (uint64_t)(u >> 4), ret = site + (u & 0xf);
    struct vstate *v = vstate_of(vcpu);
    struct sfemu_shadow_frame *fr;

    if (!v || !v->f) {
        return;
    }
    if (v->count == max_stack) { /* drop the oldest */
        v->head = (v->head + 1) % max_stack;
        v->count--;
    }
    fr = frame_at(v, v->count++);
    fr->site = site;
    fr->ret = ret;
    fr->callee = 0;
    struct sb *e = sb_of(vcpu);
    e->top_ret = ret;
    e->pending = 1;
}

/* The first TB after a call: its pc is the callee (or the fall-through of a
 * conditional call that was not taken). */
static void pending_tb(unsigned vcpu, struct vstate *v, uint64_t pc)
{
    struct sfemu_shadow_frame *top;
    struct sb *e = sb_of(vcpu);

    e->pending = 0;
    if (!v->count) {
        return;
    }
    top = frame_at(v, v->count - 1);
    if (pc == top->ret) { /* not taken: no call */
        v->count--;
        e->top_ret = v->count ? frame_at(v, v->count - 1)->ret : NO_RET;
        return;
    }
    top->callee = pc;
    if (do_summary) {
        count_path(v);
    }
    if (do_log) {
        char s[256], c[256], line[600];
        name_of(top->site, s, sizeof(s));
        name_of(pc, c, sizeof(c));
        snprintf(line, sizeof(line), "call %s -> %s (depth %ld)", s, c,
                 v->count);
        out_line(line);
    }
}

static void on_pending(unsigned vcpu, void *udata)
{
    struct vstate *v = vstate_of(vcpu);

    if (v && v->f) {
        pending_tb(vcpu, v, (uint64_t)(uintptr_t)udata);
    } else {
        qemu_plugin_u64_set(sb_pending, vcpu, 0);
    }
}

/* pc == top.ret: a return. */
static void on_return(unsigned vcpu, void *udata)
{
    struct vstate *v = vstate_of(vcpu);

    (void)udata;
    if (!v || !v->count) {
        return;
    }
    struct sb *e = sb_of(vcpu);
    v->count--;
    e->pending = 0;
    e->top_ret = v->count ? frame_at(v, v->count - 1)->ret : NO_RET;
}

/* A TB at a known return address: a pending callee, or a return to the top
 * frame or to one up to unwind_limit frames below it (longjmp & co.). */
static void on_ret_target(unsigned vcpu, void *udata)
{
    uint64_t pc = (uint64_t)(uintptr_t)udata;
    struct vstate *v = vstate_of(vcpu);
    long i, lim;

    if (!v || !v->f || !v->count) {
        return;
    }
    if (sb_of(vcpu)->pending) {
        pending_tb(vcpu, v, pc);
        return;
    }
    lim = v->count < unwind_limit ? v->count : unwind_limit;
    for (i = 0; i < lim; i++) {
        if (frame_at(v, v->count - 1 - i)->ret == pc) {
            if (do_log && i > 0) {
                char line[96];
                snprintf(line, sizeof(line), "unwind %ld frames (depth %ld)",
                         i + 1, v->count - i - 1);
                out_line(line);
            }
            v->count -= i + 1;
            sync_top(vcpu, v);
            return;
        }
    }
}

/* The same for a stub (PLT entry, trampoline) that only jumps on: a
 * pending callee stays pending for the block it jumps to. */
static void on_ret_target_thunk(unsigned vcpu, void *udata)
{
    uint64_t pc = (uint64_t)(uintptr_t)udata;
    struct vstate *v = vstate_of(vcpu);

    if (v && v->count && sb_of(vcpu)->pending &&
        frame_at(v, v->count - 1)->ret != pc) {
        return;
    }
    on_ret_target(vcpu, udata);
}

/* ---- translation -------------------------------------------------------------- */

/* Known return addresses (translation only, serialised by QEMU but locked
 * anyway). */
static GHashTable *ret_set;
static pthread_mutex_t ret_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t rd32(const uint8_t *b, bool be)
{
    return be ? (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]
              : (uint32_t)b[3] << 24 | b[2] << 16 | b[1] << 8 | b[0];
}

static uint16_t rd16(const uint8_t *b, bool be)
{
    return be ? (uint16_t)(b[0] << 8 | b[1]) : (uint16_t)(b[1] << 8 | b[0]);
}

/* Returns the return-address offset (ret - site) of a call, 0 if none. */
static unsigned decode_call(const uint8_t *b, size_t n, bool thumb, bool be,
                            bool *bl_suffix)
{
    *bl_suffix = false;
    switch (arch) {
    case A_ARM:
        if (thumb) {
            if (n == 2) {
                uint16_t h = rd16(b, be);
                if ((h & 0xff87) == 0x4780) { /* BLX Rm */
                    return 2;
                }
                if ((h & 0xe800) == 0xe800 && (h >> 11) != 0x1e) {
                    /* Thumb-1 BL/BLX suffix run as its own insn */
                    *bl_suffix = true;
                    return 2;
                }
                return 0;
            }
            if (n == 4) {
                uint16_t h1 = rd16(b, be), h2 = rd16(b + 2, be);
                if ((h1 & 0xf800) == 0xf000 && (h2 & 0xc000) == 0xc000) {
                    return 4; /* BL, BLX imm */
                }
            }
            return 0;
        }
        if (n == 4) {
            uint32_t w = rd32(b, be);
            uint32_t cond = w >> 28;
            if ((w & 0xfe000000) == 0xfa000000) { /* BLX imm */
                return 4;
            }
            if (cond != 0xf && (w & 0x0f000000) == 0x0b000000) { /* BL */
                return 4;
            }
            if (cond != 0xf && (w & 0x0ffffff0) == 0x012fff30) { /* BLX Rm */
                return 4;
            }
        }
        return 0;
    case A_MIPS:
        if (n == 4) {
            uint32_t w = rd32(b, be);
            uint32_t op = w >> 26;
            if (op == 0x03 || op == 0x1d) { /* JAL, JALX */
                return 8;
            }
            if (op == 0 && (w & 0x3f) == 0x09 && ((w >> 11) & 0x1f)) {
                return 8; /* JALR rd != 0 */
            }
            if (op == 1) {
                uint32_t rt = (w >> 16) & 0x1f;
                if (rt == 0x10 || rt == 0x11 || rt == 0x12 || rt == 0x13) {
                    return 8; /* BLTZAL BGEZAL (BAL) BLTZALL BGEZALL */
                }
            }
        }
        return 0;
    case A_AARCH64:
        if (n == 4) {
            uint32_t w = rd32(b, false);
            if ((w & 0xfc000000) == 0x94000000) { /* BL */
                return 4;
            }
            if ((w & 0xfffffc1f) == 0xd63f0000) { /* BLR */
                return 4;
            }
            if ((w & 0xfefff800) == 0xd63f0800) { /* BLRAA/AB(Z) */
                return 4;
            }
        }
        return 0;
    default: return 0;
    }
}

/*
 * An unconditional jump that is not a return: 2 = indirect (PLT stubs),
 * 1 = direct (trampolines such as aarch64's __wrap_main), 0 = neither.
 */
static int decode_jump(const uint8_t *b, size_t n, bool thumb, bool be)
{
    switch (arch) {
    case A_ARM:
        if (thumb) {
            if (n == 2) {
                uint16_t h = rd16(b, be);
                if ((h & 0xff87) == 0x4700 && ((h >> 3) & 0xf) != 14) {
                    return 2; /* BX Rm, not lr */
                }
                return (h & 0xf800) == 0xe000 ? 1 : 0; /* B */
            }
            if (n == 4) {
                uint16_t h1 = rd16(b, be), h2 = rd16(b + 2, be);
                if ((h1 & 0xf800) == 0xf000 && (h2 & 0xd000) == 0x9000) {
                    return 1; /* B.W */
                }
                if (h1 == 0xf8df && (h2 & 0xf000) == 0xf000) {
                    return 2; /* LDR.W pc, [pc, #] */
                }
            }
            return 0;
        }
        if (n == 4) {
            uint32_t w = rd32(b, be);
            if (w >> 28 != 0xe) {
                return 0;
            }
            if ((w & 0x0f000000) == 0x0a000000) {
                return 1; /* B */
            }
            if ((w & 0x0ffffff0) == 0x012fff10 && (w & 0xf) != 14) {
                return 2; /* BX Rm, not lr */
            }
            if ((w & 0x0c10f000) == 0x0410f000 && ((w >> 16) & 0xf) != 13) {
                return 2; /* LDR pc, [Rn != sp] */
            }
        }
        return 0;
    case A_MIPS:
        if (n == 4) {
            uint32_t w = rd32(b, be);
            if (w >> 26 == 0x02) {
                return 1; /* J */
            }
            if (w >> 26 == 0 && (w & 0x3f) == 0x08 &&
                ((w >> 21) & 0x1f) != 31) {
                return 2; /* JR, not $ra */
            }
        }
        return 0;
    case A_AARCH64:
        if (n == 4) {
            uint32_t w = rd32(b, false);
            if ((w & 0xfc000000) == 0x14000000) {
                return 1; /* B */
            }
            if ((w & 0xfffffc1f) == 0xd61f0000) {
                return 2; /* BR */
            }
        }
        return 0;
    default: return 0;
    }
}

static void lookup_regs(void)
{
    GArray *regs;

    pthread_mutex_lock(&reg_lock);
    if (!regs_looked_up && arch == A_ARM) {
        regs = qemu_plugin_get_registers();
        for (guint i = 0; regs && i < regs->len; i++) {
            qemu_plugin_reg_descriptor *d =
                &g_array_index(regs, qemu_plugin_reg_descriptor, i);
            if (!strcmp(d->name, "cpsr")) {
                cpsr_reg = d->handle;
                break;
            }
        }
        if (regs) {
            g_array_free(regs, true);
        }
    }
    regs_looked_up = true;
    pthread_mutex_unlock(&reg_lock);
}

/* ARM: read cpsr now (the vCPU is translating for its current state). */
static bool arm_mode(struct qemu_plugin_tb *tb, size_t n, bool *be)
{
    *be = target_be;
    if (cpsr_reg) {
        GByteArray *buf = g_byte_array_new();
        int sz = qemu_plugin_read_register(cpsr_reg, buf);
        bool thumb = false;
        if (sz == 4) {
            uint32_t c =
                target_be ? (uint32_t)buf->data[0] << 24 | buf->data[1] << 16 |
                                buf->data[2] << 8 | buf->data[3]
                          : (uint32_t)buf->data[3] << 24 | buf->data[2] << 16 |
                                buf->data[1] << 8 | buf->data[0];
            thumb = c & (1u << 5);
            if (target_be && (c & (1u << 9))) {
                *be = false; /* BE8: little-endian code */
            }
            g_byte_array_free(buf, true);
            return thumb;
        }
        g_byte_array_free(buf, true);
    }
    for (size_t i = 0; i < n; i++) {
        if (qemu_plugin_insn_size(qemu_plugin_tb_get_insn(tb, i)) == 2) {
            return true;
        }
    }
    return false;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    uint64_t pc = qemu_plugin_tb_vaddr(tb);
    bool thumb = false, be = target_be, is_ret_target;

    (void)id;
    if (arch == A_ARM) {
        if (!regs_looked_up) {
            lookup_regs();
        }
        thumb = arm_mode(tb, n, &be);
    }
    pthread_mutex_lock(&ret_lock);
    is_ret_target = g_hash_table_contains(ret_set, (gpointer)(uintptr_t)pc);
    pthread_mutex_unlock(&ret_lock);

    /*
     * A stub: a block of at most 4 instructions (5 with a MIPS delay slot)
     * ending in an indirect jump that is not a return, or of at most 2
     * ending in a direct one.  Its pc is not taken as a callee.
     */
    bool thunk = false;
    if (n > 0 && n <= (arch == A_MIPS ? 5u : 4u)) {
        size_t last = arch == A_MIPS && n >= 2 ? n - 2 : n - 1;
        struct qemu_plugin_insn *li = qemu_plugin_tb_get_insn(tb, last);
        uint8_t lb[4];
        size_t lsz = qemu_plugin_insn_size(li);
        if (lsz <= sizeof(lb) && qemu_plugin_insn_data(li, lb, lsz) == lsz) {
            int j = decode_jump(lb, lsz, thumb, be);
            thunk = j == 2 || (j == 1 && n <= (arch == A_MIPS ? 3u : 2u));
        }
    }

    /* Order matters: a return clears pending before the pending check. */
    if (is_ret_target) {
        qemu_plugin_register_vcpu_tb_exec_cb(
            tb, thunk ? on_ret_target_thunk : on_ret_target,
            QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)pc);
    } else {
        qemu_plugin_register_vcpu_tb_exec_cond_cb(
            tb, on_return, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_COND_EQ,
            sb_top_ret, pc, NULL);
        if (!thunk) {
            qemu_plugin_register_vcpu_tb_exec_cond_cb(
                tb, on_pending, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_COND_NE,
                sb_pending, 0, (void *)(uintptr_t)pc);
        }
    }

    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint8_t b[8];
        size_t sz = qemu_plugin_insn_size(insn);
        bool suffix;
        unsigned off;
        uint64_t site, ret;

        if (sz > sizeof(b) || qemu_plugin_insn_data(insn, b, sz) != sz) {
            continue;
        }
        off = decode_call(b, sz, thumb, be, &suffix);
        if (!off) {
            continue;
        }
        site = qemu_plugin_insn_vaddr(insn);
        ret = site + off;
        if (suffix) {
            site -= 2; /* the BL prefix */
            off += 2;
        }
        if (site >> 59) {
            continue; /* cannot encode: not a user address */
        }
        pthread_mutex_lock(&ret_lock);
        g_hash_table_add(ret_set, (gpointer)(uintptr_t)ret);
        pthread_mutex_unlock(&ret_lock);
        qemu_plugin_register_vcpu_insn_exec_cb(
            insn, on_call, QEMU_PLUGIN_CB_NO_REGS,
            (void *)(uintptr_t)(site << 4 | off));
    }
}

/* ---- vCPUs, the API, exit -------------------------------------------------- */

static void vcpu_init(qemu_plugin_id_t id, unsigned vcpu)
{
    struct vstate *v = vstate_new(vcpu);

    (void)id;
    if (!regs_looked_up) {
        lookup_regs();
    }
    if (v) {
        v->head = 0;
        v->count = 0;
    }
    qemu_plugin_u64_set(sb_pending, vcpu, 0);
    qemu_plugin_u64_set(sb_top_ret, vcpu, NO_RET);
}

static void vcpu_exit(qemu_plugin_id_t id, unsigned vcpu)
{
    struct vstate *v = vstate_of(vcpu);

    (void)id;
    if (v) {
        v->count = 0;
        v->head = 0;
        pthread_mutex_lock(&paths_lock);
        flush_paths_locked(v);
        pthread_mutex_unlock(&paths_lock);
    }
}

static int shadow_get(unsigned cpu_index, struct sfemu_shadow_frame *out,
                      int max)
{
    struct vstate *v = vstate_of(cpu_index);
    int n = 0;

    if (!v || !v->f) {
        return 0;
    }
    for (long i = v->count - 1; i >= 0 && n < max; i--) {
        out[n++] = *frame_at(v, i);
    }
    return n;
}

static int cmp_path(const void *a, const void *b)
{
    const struct path *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    (void)id;
    (void)p;
    if (!do_summary) {
        return;
    }
    pthread_mutex_lock(&paths_lock);
    for (unsigned c = 0; c < NCHUNKS; c++) {
        for (unsigned i = 0; chunks[c] && i < CHUNK; i++) {
            flush_paths_locked(&chunks[c][i]);
        }
    }
    size_t m = 0;
    uint64_t total_calls = 0;
    for (size_t i = 0; i < paths_cap; i++) {
        if (paths[i].count) {
            total_calls += paths[i].count;
            paths[m++] = paths[i];
        }
    }
    qsort(paths, m, sizeof(*paths), cmp_path);
    char line[1200];
    snprintf(line, sizeof(line),
             "summary: %" PRIu64 " calls, %zu distinct "
             "paths; hottest (callee <- caller ..., innermost first):",
             total_calls, m);
    out_line(line);
    for (size_t i = 0; i < m && i < 10; i++) {
        int len =
            snprintf(line, sizeof(line), "%10" PRIu64 "  ", paths[i].count);
        for (int j = 0; j < PATH_LEN && paths[i].callee[j]; j++) {
            char nm[256] = "";
            name_of(paths[i].callee[j], nm, sizeof(nm));
            if (len < (int)sizeof(line)) {
                len += snprintf(line + len, sizeof(line) - len, "%s%s",
                                j ? " <- " : "", nm);
            }
        }
        out_line(line);
    }
    /* the table is compacted: no more inserts */
    paths_cap = 0;
    paths_used = 0;
    free(paths);
    paths = NULL;
    do_summary = false;
    pthread_mutex_unlock(&paths_lock);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
                                           const qemu_info_t *info, int argc,
                                           char **argv)
{
    const char *t = info->target_name;

    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "api=", 4)) {
            api = (struct sfemu_shadow_api *)(uintptr_t)strtoull(argv[i] + 4,
                                                                 NULL, 16);
        }
    }
    if (!api || api->version != SFEMU_SHADOW_API_VERSION) {
        fprintf(stderr, "sfemu-shadowstack: load it through -shadowstack\n");
        return -1;
    }
    if (!strcmp(t, "arm") || !strcmp(t, "armeb")) {
        arch = A_ARM;
        target_be = !strcmp(t, "armeb");
    } else if (!strcmp(t, "mips") || !strcmp(t, "mipsel") ||
               !strcmp(t, "mips64") || !strcmp(t, "mips64el") ||
               !strcmp(t, "mipsn32") || !strcmp(t, "mipsn32el")) {
        arch = A_MIPS;
        target_be = !g_str_has_suffix(t, "el");
    } else if (!strcmp(t, "aarch64") || !strcmp(t, "aarch64_be")) {
        arch = A_AARCH64;
        target_be = false; /* A64 code is always little-endian */
    } else {
        arch = A_OTHER;
        fprintf(stderr,
                "sfemu-shadowstack: target %s not supported: "
                "the shadow stack stays empty\n",
                t);
    }
    do_log = api->log;
    do_summary = api->summary;
    if (api->unwind_limit > 0) {
        unwind_limit = api->unwind_limit;
    }
    if (api->max_stack > 0) {
        max_stack = api->max_stack;
    }
    ret_set = g_hash_table_new(g_direct_hash, g_direct_equal);
    score = qemu_plugin_scoreboard_new(sizeof(struct sb));
    sb_pending =
        qemu_plugin_scoreboard_u64_in_struct(score, struct sb, pending);
    sb_top_ret =
        qemu_plugin_scoreboard_u64_in_struct(score, struct sb, top_ret);

    qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
    qemu_plugin_register_vcpu_exit_cb(id, vcpu_exit);
    if (arch != A_OTHER) {
        qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    }
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    api->get = shadow_get;
    api->installed = 1;
    return 0;
}
