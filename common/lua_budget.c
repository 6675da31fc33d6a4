/*
 * The Lua budget (see lua_budget.h): the monitor thread, the count hook, and
 * the library functions that keep a stopped call stopped.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#include "helper_thread.h"
#include "lua_budget.h"

#define BUDGET_TICK_NS (10 * 1000 * 1000)
#define BUDGET_HOOK_EVERY 1000
#define MOVE_CHUNK 65536 /* table.move elements between two polls */

enum { WHY_INSNS = 1, WHY_TIME, WHY_STOP };

/* A coroutine being resumed (or closed), on the resumer's C stack. */
struct lua_budget_frame {
    lua_State *co;
    struct lua_budget_frame *outer;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct lua_budget *budgets; /* registered, under lock */
static pthread_once_t once = PTHREAD_ONCE_INIT;
int lua_budget_monitor_running;
static pthread_mutex_t monitor_lock = PTHREAD_MUTEX_INITIALIZER;
static const char budget_key = 'b'; /* registry key: the state's budget */
static const char killed_key = 'k'; /* registry key: coroutines it killed */

static struct lua_budget *budget_of(lua_State *L)
{
    struct lua_budget *b;

    lua_rawgetp(L, LUA_REGISTRYINDEX, &budget_key);
    b = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return b;
}

static void budget_hook(lua_State *L, lua_Debug *ar);
static void set_hooks(struct lua_budget *b, int count);

/* Stops the running call: its budget error, now and on every later try to
 * go on (see lua_budget.h).  level: where the error is said to be. */
static int budget_raise(lua_State *L, struct lua_budget *b, int why, int level)
{
    const struct lua_budget_limits *m = &b->lim;

    if (b->fired_seq != atomic_load(&b->call_seq)) {
        b->fired_seq = atomic_load(&b->call_seq);
        b->fired_why = why;
        atomic_store(&b->armed_seq, b->fired_seq); /* leave disarms */
    }
    /* The next instruction of this thread raises again, whoever catches. */
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    luaL_where(L, level);
    if (b->fired_why == WHY_STOP) {
        lua_pushfstring(L, "%s exceeded its %s", m->who,
                        b->stop_reason ? b->stop_reason : "limits");
    } else if (b->fired_why == WHY_TIME) {
        lua_pushfstring(L, "%s exceeded its CPU time budget (%I ms%s%s)",
                        m->who, (lua_Integer)m->max_ms,
                        m->ms_setting ? ", " : "",
                        m->ms_setting ? m->ms_setting : "");
    } else {
        lua_pushfstring(L,
                        "%s exceeded its instruction budget "
                        "(%I instructions%s%s)",
                        m->who, (lua_Integer)m->max_insns,
                        m->insns_setting ? ", " : "",
                        m->insns_setting ? m->insns_setting : "");
    }
    lua_concat(L, 2);
    return lua_error(L);
}

/* The running call's budget if it has been stopped, else NULL. */
static struct lua_budget *stopped(lua_State *L, int *why)
{
    struct lua_budget *b = budget_of(L);
    unsigned seq;

    if (!b || !atomic_load(&b->in_call)) {
        return NULL;
    }
    seq = atomic_load(&b->call_seq);
    if (b->fired_seq == seq) {
        *why = b->fired_why;
        return b;
    }
    if (atomic_load(&b->expired_seq) == seq) {
        *why = WHY_TIME;
        return b;
    }
    if (atomic_load(&b->stopped_seq) == seq) {
        *why = WHY_STOP;
        return b;
    }
    return NULL;
}

void lua_budget_stop(struct lua_budget *b, const char *reason)
{
    unsigned seq = atomic_load(&b->call_seq);

    if (!atomic_load(&b->in_call) || atomic_load(&b->stopped_seq) == seq) {
        return;
    }
    b->stop_reason = reason;
    atomic_store(&b->stopped_seq, seq);
    atomic_store(&b->armed_seq, seq); /* leave disarms */
    set_hooks(b, 1);                  /* raised at the next instruction */
}

int lua_budget_stopped(lua_State *L)
{
    int why;

    return stopped(L, &why) != NULL;
}

void lua_budget_poll(lua_State *L)
{
    int why;
    struct lua_budget *b = stopped(L, &why);

    if (b) {
        budget_raise(L, b, why, 1);
    }
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    struct lua_budget *b = budget_of(L);
    unsigned seq;
    int why;

    (void)ar;
    if (!b) {
        lua_sethook(L, NULL, 0, 0);
        return;
    }
    if (!atomic_load(&b->in_call)) {
        return; /* set for a call that has ended; the next one adopts it */
    }
    if (stopped(L, &why)) {
        budget_raise(L, b, why, 0);
    }
    seq = atomic_load(&b->call_seq);
    if (atomic_load(&b->armed_seq) != seq) {
        /* Set for a call that has ended: count this one from here (its
         * leave disarms), so that it never runs unbudgeted. */
        atomic_store(&b->armed_seq, seq);
        b->insns = 0;
        lua_sethook(L, budget_hook, LUA_MASKCOUNT, BUDGET_HOOK_EVERY);
    }
    b->insns += lua_gethookcount(L);
    if (b->insns >= b->lim.max_insns) {
        budget_raise(L, b, WHY_INSNS, 0);
    }
}

/* The hook on the state and on every coroutine being resumed. */
static void set_hooks(struct lua_budget *b, int count)
{
    lua_sethook(b->L, budget_hook, LUA_MASKCOUNT, count);
    pthread_mutex_lock(&b->co_lock);
    for (struct lua_budget_frame *f = b->frames; f; f = f->outer) {
        lua_sethook(f->co, budget_hook, LUA_MASKCOUNT, count);
    }
    pthread_mutex_unlock(&b->co_lock);
}

void lua_budget_disarm(struct lua_budget *b)
{
    lua_sethook(b->L, NULL, 0, 0);
    atomic_store(&b->armed_seq, 0);
    b->insns = 0;
}

void lua_budget_note_thread(struct lua_budget *b)
{
    clockid_t c;

    if (pthread_getcpuclockid(pthread_self(), &c) == 0) {
        atomic_store_explicit(&b->clock, c, memory_order_relaxed);
        atomic_store_explicit(&b->has_clock, 1, memory_order_relaxed);
    }
}

/* CPU time of the thread running b's calls, in ns; -1 if unknown. */
static long long cpu_ns(struct lua_budget *b)
{
    struct timespec ts;

    if (!atomic_load(&b->has_clock) ||
        clock_gettime(atomic_load(&b->clock), &ts) != 0) {
        return -1;
    }
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One look at b (under lock). */
static void look(struct lua_budget *b)
{
    unsigned seq = atomic_load(&b->call_seq);

    if (atomic_load(&b->in_call) && b->seen_seq == seq) {
        /* the same call as at the last look: arm it, or time it */
        if (b->timed_seq != seq) {
            b->timed_seq = seq;
            b->cpu_start = cpu_ns(b);
            if (atomic_load(&b->armed_seq) != seq) {
                atomic_store(&b->armed_seq, seq);
                set_hooks(b, BUDGET_HOOK_EVERY);
            }
        } else if (b->lim.max_ms > 0 && b->cpu_start >= 0 &&
                   atomic_load(&b->expired_seq) != seq) {
            long long now = cpu_ns(b);
            if (now >= 0 && now - b->cpu_start >= b->lim.max_ms * 1000000LL) {
                atomic_store(&b->expired_seq, seq);
                set_hooks(b, 1); /* raised at the next instruction */
            }
        }
    }
    b->seen_seq = seq;
}

static void *monitor(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec ts = { 0, BUDGET_TICK_NS };

        nanosleep(&ts, NULL);
        pthread_mutex_lock(&lock);
        for (struct lua_budget *b = budgets; b; b = b->next) {
            look(b);
        }
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

void lua_budget_start_monitor(void)
{
    pthread_mutex_lock(&monitor_lock);
    if (!lua_budget_monitor_running) {
        static int said;
        int rc = sfemu_thread_start(monitor, NULL);
        if (rc == 0) {
            lua_budget_monitor_running = 1;
        } else if (!said++) {
            fprintf(stderr,
                    "sfemu: cannot start the Lua budget monitor (%s); "
                    "runaway Lua calls will not be stopped\n",
                    strerror(-rc));
        }
    }
    pthread_mutex_unlock(&monitor_lock);
}

static void atfork_prepare(void)
{
    pthread_mutex_lock(&monitor_lock);
    pthread_mutex_lock(&lock);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&lock);
    pthread_mutex_unlock(&monitor_lock);
}

/* Only the forking thread lives on: no monitor yet, and the budgets of
 * states that only other threads ran are dropped.  The kept ones' calls
 * now run on the child's thread, with a CPU clock of its own. */
static void atfork_child(void)
{
    pthread_t self = pthread_self();

    pthread_mutex_init(&lock, NULL);
    pthread_mutex_init(&monitor_lock, NULL);
    lua_budget_monitor_running = 0;
    for (struct lua_budget **p = &budgets; *p;) {
        if ((*p)->one_thread && !pthread_equal((*p)->owner, self)) {
            *p = (*p)->next;
            continue;
        }
        pthread_mutex_init(&(*p)->co_lock, NULL);
        if ((*p)->one_thread) {
            lua_budget_note_thread(*p);
        }
        p = &(*p)->next;
    }
}

static void init_once(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

void lua_budget_register(struct lua_budget *b, lua_State *L,
                         const struct lua_budget_limits *lim, int one_thread)
{
    pthread_once(&once, init_once);
    b->L = L;
    b->lim = *lim;
    b->one_thread = one_thread;
    b->owner = pthread_self();
    pthread_mutex_init(&b->co_lock, NULL);
    if (one_thread) {
        lua_budget_note_thread(b);
    }
    lua_pushlightuserdata(L, b);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &budget_key);
    pthread_mutex_lock(&lock);
    b->next = budgets;
    budgets = b;
    pthread_mutex_unlock(&lock);
}

void lua_budget_unregister(struct lua_budget *b)
{
    pthread_mutex_lock(&lock);
    for (struct lua_budget **p = &budgets; *p; p = &(*p)->next) {
        if (*p == b) {
            *p = b->next;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    pthread_mutex_destroy(&b->co_lock);
}

int lua_budget_pcall(lua_State *L, int nargs, int nresults, int msgh)
{
    struct lua_budget *b = budget_of(L);
    int rc;

    if (!b || atomic_load(&b->in_call)) {
        return lua_pcall(L, nargs, nresults, msgh);
    }
    lua_budget_enter(b);
    rc = lua_pcall(L, nargs, nresults, msgh);
    lua_budget_leave(b);
    return rc;
}

/* ---- coroutines: every one being resumed is under the budget ---- */

/* Runs co (resumed or closed by L) as a frame the monitor reaches; co gets
 * L's hook, so a call armed before the resume is counted in co too (a hook
 * co has already keeps its count). */
static void frame_push(struct lua_budget *b, struct lua_budget_frame *f,
                       lua_State *L, lua_State *co)
{
    f->co = co;
    pthread_mutex_lock(&b->co_lock);
    f->outer = b->frames;
    b->frames = f;
    if (lua_gethook(co) != lua_gethook(L) ||
        lua_gethookmask(co) != lua_gethookmask(L) ||
        lua_gethookcount(co) != lua_gethookcount(L)) {
        lua_sethook(co, lua_gethook(L), lua_gethookmask(L),
                    lua_gethookcount(L));
    }
    pthread_mutex_unlock(&b->co_lock);
}

/*
 * A coroutine the budget's error killed from within the hook keeps hooks
 * off for good (Lua restores them only where a pcall catches), so its
 * to-be-closed variables must never run: they are marked here and closing
 * them is refused.
 */
static void mark_killed(lua_State *L, lua_State *co)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &killed_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &killed_key);
    }
    lua_pushthread(co);
    lua_xmove(co, L, 1);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

static int was_killed(lua_State *L, lua_State *co)
{
    int killed = 0;

    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &killed_key) == LUA_TTABLE) {
        lua_pushthread(co);
        lua_xmove(co, L, 1);
        killed = lua_rawget(L, -2) != LUA_TNIL;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return killed;
}

static void frame_pop(struct lua_budget *b, struct lua_budget_frame *f)
{
    pthread_mutex_lock(&b->co_lock);
    b->frames = f->outer;
    pthread_mutex_unlock(&b->co_lock);
}

/* lcorolib's auxresume, as a frame: the results (>= 0) or -1 with the
 * error on L's stack. */
static int resume_in_frame(lua_State *L, lua_State *co, int narg)
{
    struct lua_budget *b = budget_of(L);
    struct lua_budget_frame f;
    int status, nres;

    if (!lua_checkstack(co, narg)) {
        lua_pushliteral(L, "too many arguments to resume");
        return -1;
    }
    lua_xmove(L, co, narg);
    if (b) {
        frame_push(b, &f, L, co);
    }
    status = lua_resume(co, L, narg, &nres);
    if (b) {
        frame_pop(b, &f);
    }
    if (status != LUA_OK && status != LUA_YIELD && b) {
        int why;
        if (stopped(L, &why)) {
            mark_killed(L, co);
        }
    }
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            lua_pushliteral(L, "too many results to resume");
            return -1;
        }
        lua_xmove(co, L, nres);
        return nres;
    }
    lua_xmove(co, L, 1);
    return -1;
}

/* lua_resetthread (closes co's pending to-be-closed variables), as a
 * frame; the status, with an error on co's stack. */
static int reset_in_frame(lua_State *L, lua_State *co)
{
    struct lua_budget *b = budget_of(L);
    struct lua_budget_frame f;
    int status;

    if (b && was_killed(L, co)) {
        lua_pushliteral(co, "the budget stopped this coroutine: its "
                            "to-be-closed variables are not closed");
        return LUA_ERRRUN;
    }
    if (b) {
        frame_push(b, &f, L, co);
    }
    status = lua_resetthread(co);
    if (b) {
        frame_pop(b, &f);
    }
    return status;
}

static int co_resume(lua_State *L)
{
    lua_State *co = lua_tothread(L, 1);
    int r;

    luaL_argexpected(L, co, 1, "coroutine");
    r = resume_in_frame(L, co, lua_gettop(L) - 1);
    if (r < 0) {
        lua_budget_poll(L); /* a stopped call goes on stopping */
        lua_pushboolean(L, 0);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushboolean(L, 1);
    lua_insert(L, -(r + 1));
    return r + 1;
}

static int co_wrapped(lua_State *L)
{
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    int r = resume_in_frame(L, co, lua_gettop(L));

    if (r < 0) {
        int stat = lua_status(co);
        if (stat != LUA_OK && stat != LUA_YIELD) { /* error in co */
            stat = reset_in_frame(L, co);
            lua_xmove(co, L, 1);
        }
        lua_budget_poll(L);
        if (stat != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    return r;
}

static int co_wrap(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushcclosure(L, co_wrapped, 1);
    return 1;
}

/* coroutine.close: suspended or dead coroutines only (lcorolib's rule). */
static int co_close(lua_State *L)
{
    lua_State *co = lua_tothread(L, 1);
    lua_Debug ar;
    int status;

    luaL_argexpected(L, co, 1, "coroutine");
    if (co == L) {
        return luaL_error(L, "cannot close a running coroutine");
    }
    if (lua_status(co) == LUA_OK && lua_getstack(co, 0, &ar)) {
        return luaL_error(L, "cannot close a normal coroutine");
    }
    status = reset_in_frame(L, co);
    if (status == LUA_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_budget_poll(L);
    lua_pushboolean(L, 0);
    lua_xmove(co, L, 1);
    return 2;
}

/* ---- pcall and xpcall: a stopped call's error passes through ---- */

static int finish_pcall(lua_State *L, int status, lua_KContext extra)
{
    if (status != LUA_OK && status != LUA_YIELD) {
        lua_budget_poll(L);
        lua_pushboolean(L, 0);
        lua_pushvalue(L, -2);
        return 2;
    }
    return lua_gettop(L) - (int)extra;
}

static int sb_pcall(lua_State *L)
{
    int status;

    luaL_checkany(L, 1);
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    status = lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, finish_pcall);
    return finish_pcall(L, status, 0);
}

/* The message handler of a stopped call does not run: the budget's error
 * may be raised inside the hook, where no hook runs (nor stops it). */
static int guarded_handler(lua_State *L)
{
    int why;

    if (stopped(L, &why)) {
        lua_settop(L, 1);
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

static int sb_xpcall(lua_State *L)
{
    int n = lua_gettop(L), status;

    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, guarded_handler, 1);
    lua_replace(L, 2);
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2);
    status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, finish_pcall);
    return finish_pcall(L, status, 2);
}

/* ---- table.move: long moves in chunks, polling between them ---- */

static int sb_table_move(lua_State *L)
{
    lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
    lua_Integer t = luaL_checkinteger(L, 4), n;
    int tt = !lua_isnoneornil(L, 5) ? 5 : 1, forward;

    /* Short or unusual moves (and their errors) are the library's. */
    if (e < f || lua_type(L, 1) != LUA_TTABLE ||
        lua_type(L, tt) != LUA_TTABLE || (f <= 0 && e >= LUA_MAXINTEGER + f) ||
        (n = e - f + 1) <= MOVE_CHUNK || t > LUA_MAXINTEGER - n + 1) {
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_insert(L, 1);
        lua_call(L, lua_gettop(L) - 1, 1);
        return 1;
    }
    /* The library's order: backwards when the ranges overlap that way. */
    forward = t > e || t <= f || (tt != 1 && !lua_compare(L, 1, tt, LUA_OPEQ));
    for (lua_Integer done = 0; done < n; done += MOVE_CHUNK) {
        lua_Integer len = n - done < MOVE_CHUNK ? n - done : MOVE_CHUNK;
        lua_Integer off = forward ? done : n - done - len;
        lua_budget_poll(L);
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_pushvalue(L, 1);
        lua_pushinteger(L, f + off);
        lua_pushinteger(L, f + off + len - 1);
        lua_pushinteger(L, t + off);
        lua_pushvalue(L, tt);
        lua_call(L, 5, 0);
    }
    lua_pushvalue(L, tt);
    return 1;
}

/* ---- setmetatable without __gc, collectgarbage without "stop" ---- */

static int sb_setmetatable(lua_State *L)
{
    int t = lua_type(L, 2);

    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    lua_pushliteral(L, "__gc");
    if (t == LUA_TTABLE && lua_rawget(L, 2) != LUA_TNIL) {
        return luaL_error(L, "setmetatable: __gc is not allowed here (a "
                             "finalizer runs where no budget can stop it)");
    }
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) {
        return luaL_error(L, "cannot change a protected metatable");
    }
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

static int sb_collectgarbage(lua_State *L)
{
    static const char *const allowed[] = { "collect",   "count",   "step",
                                           "isrunning", "restart", NULL };
    const char *opt = luaL_optstring(L, 1, "collect");
    int i;

    for (i = 0; allowed[i] && strcmp(opt, allowed[i]); i++) {
    }
    if (!allowed[i]) {
        return luaL_error(L,
                          "collectgarbage(\"%s\") is not allowed here (the "
                          "memory limit needs the collector as it is)",
                          opt);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* t[name] = fn with the former t[name] as its upvalue; t on top. */
static void replace(lua_State *L, const char *name, lua_CFunction fn)
{
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, -2, name);
}

void lua_budget_harden_libs(lua_State *L)
{
    static const luaL_Reg base[] = { { "pcall", sb_pcall },
                                     { "xpcall", sb_xpcall },
                                     { "setmetatable", sb_setmetatable },
                                     { NULL, NULL } };
    static const luaL_Reg co[] = { { "resume", co_resume },
                                   { "wrap", co_wrap },
                                   { "close", co_close },
                                   { NULL, NULL } };

    lua_pushglobaltable(L);
    luaL_setfuncs(L, base, 0);
    replace(L, "collectgarbage", sb_collectgarbage);
    if (lua_getfield(L, -1, LUA_COLIBNAME) == LUA_TTABLE) {
        luaL_setfuncs(L, co, 0);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, -1, LUA_TABLIBNAME) == LUA_TTABLE) {
        replace(L, "move", sb_table_move);
    }
    lua_pop(L, 2);
}
