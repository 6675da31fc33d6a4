/* Private to fakefs/: the engine's structures shared by engine.c,
 * sandbox.c, memcap.c, hostfn.c and watch.c. */
#ifndef SFEMU_FAKEFS_INTERNAL_H
#define SFEMU_FAKEFS_INTERNAL_H

#include <pthread.h>
#include <time.h>
#include <lua.h>
#include "lua_budget.h"
#include "lua_sandbox.h"
#include "fakefs.h"

#define FAKEFS_HASH 256

/* The memory one Lua state may use (memcap.c). */
struct fakefs_limits {
    int running;   /* a run is going on: memory limits apply */
    int refused;   /* memory was refused during this run */
    size_t used;   /* bytes of this state */
    size_t cap;    /* its limit */
    size_t *total; /* bytes of all the engine's states */
    size_t total_cap;
    struct lua_budget *budget; /* stopped once a run goes over a cap */
};

/* A Lua state: one per resource (its config and ctx.store), and one for
 * fakefile.init. */
struct fakefs_vm {
    lua_State *L;
    struct fakefs_limits lim;
    struct lua_budget budget; /* of a run (common/lua_budget.c) */
    struct lsb_host host;     /* the sandbox's view of the rules tree */
    unsigned mod_gen;         /* rules generation of its module cache */
    char *cfg_abs;            /* the config its cfg_ref came from */
    int cfg_ref;              /* registry ref to the last good config table */
    unsigned cfg_gen;         /* rules generation it was checked at */
    int store_ref;            /* registry ref: ctx.store */
};

struct fakefs_res {
    char *path;           /* guest path of the resource */
    pthread_mutex_t lock; /* one operation at a time (engine lock not held) */
    enum fakefs_type type;
    char *state;
    char *config_rel; /* as written in the record ("" = derived) */
    char *content_rel;
    char *config_abs; /* resolved (rules tree) */
    char *content_abs;
    int last_pid, last_fd;
    int implicit; /* device node without a record yet */
    int loaded;   /* the fields above hold the record */
    int stale;    /* record changed on disk: reload before use (atomic) */
    unsigned pieces_gen; /* rules generation config_abs was resolved at */
    struct fakefs_vm vm; /* vm.L NULL until the first call */
    /* hashes of the notes last logged (no caller's sink): each once */
#define FAKEFS_NOTED 32
    unsigned noted[FAKEFS_NOTED];
    unsigned nnoted;
    struct fakefs_res *next;
};

struct fakefs_engine {
    pthread_mutex_t lock; /* the resource table only */
    char *rules_dir;      /* realpath with trailing '/' */
    char *plugin_dir;     /* rules_dir "plugins/fakefile/" */
    int rules_fd;         /* O_PATH fd of rules_dir */
    struct fakefs_store store;
    void (*log)(const char *msg);
    struct fakefs_res *res[FAKEFS_HASH];
    unsigned gen; /* bumped (atomically) when the rules tree changes */
    /* fakefile.init runs in a state of its own */
    pthread_mutex_t init_lock;
    struct fakefs_vm init_vm;
    /* limits */
    long budget;    /* VM instructions per run */
    long time_ms;   /* ms of CPU time per run */
    size_t vm_cap;  /* bytes per state */
    size_t mem_cap; /* bytes of all states */
    size_t mem_used;
    /* hot reload (watch.c) */
    struct dirwatch *watch;
    pthread_t watch_thr;
    int watching;
};

void fakefs_logf(struct fakefs_engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* sandbox.c: a Lua state for vm (the sandbox, FAKEFILE_HOST, the budget's
 * hardened library functions).  0 or -1. */
int fakefs_vm_open(struct fakefs_engine *e, struct fakefs_vm *vm);
void fakefs_vm_close(struct fakefs_vm *vm);
/* Around every run in vm (a handler with its config load, fakefile.init):
 * the budget and the memory cap apply in between. */
void fakefs_run_begin(struct fakefs_engine *e, struct fakefs_vm *vm);
void fakefs_run_end(struct fakefs_vm *vm);
/* Load a Lua file in a fresh sandbox environment; pushes its return value.
 * Returns 0, or -1 with the error message pushed. */
int fakefs_sandbox_dofile(struct fakefs_engine *e, lua_State *L,
                          const char *abs);
int fakefs_path_in_rules(struct fakefs_engine *e, const char *abs,
                         const char **rel);

/* memcap.c: lua_Alloc with the per-state and all-states caps. */
void *fakefs_mem_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* hostfn.c */
void fakefs_hostfn_register(struct fakefs_engine *e, lua_State *L,
                            int table_idx);

/* watch.c */
void fakefs_watch_stop(struct fakefs_engine *e);

/* engine.c: called by watch.c with no lock held. */
void fakefs_content_changed(struct fakefs_engine *e, const char *abs);
/* A fakeconfig changed: sizes/modes may differ, drop the host's caches. */
void fakefs_all_changed(struct fakefs_engine *e);

#endif
