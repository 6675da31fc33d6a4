/* Private to fakefs/: the engine structure shared by engine.c, sandbox.c,
 * hostfn.c and watch.c. */
#ifndef SFEMU_FAKEFS_INTERNAL_H
#define SFEMU_FAKEFS_INTERNAL_H

#include <pthread.h>
#include <time.h>
#include <lua.h>
#include "lua_budget.h"
#include "lua_sandbox.h"
#include "fakefs.h"

#define FAKEFS_HASH 256

struct fakefs_res {
    char *path; /* guest path of the resource */
    enum fakefs_type type;
    char *state;
    char *config_rel; /* as written in the record ("" = derived) */
    char *content_rel;
    char *config_abs; /* resolved (rules tree) */
    char *content_abs;
    int last_pid, last_fd;
    int implicit;  /* device node without a record yet */
    int stale;     /* record changed on disk: reload before use */
    int store_ref; /* LUA registry ref: per-resource ctx.store */
    struct fakefs_res *next;
};

struct fakefs_cfg {
    char *abs;    /* fakeconfig file */
    int ref;      /* registry ref to the last good config table */
    unsigned gen; /* rules generation it was checked at */
    struct fakefs_cfg *next;
};

struct fakefs_engine {
    pthread_mutex_t lock;
    lua_State *L;
    char *rules_dir;  /* realpath with trailing '/' */
    char *plugin_dir; /* rules_dir "plugins/fakefile/" */
    int rules_fd;     /* O_PATH fd of rules_dir */
    struct fakefs_store store;
    void (*log)(const char *msg);
    struct fakefs_res *res[FAKEFS_HASH];
    struct fakefs_cfg *cfgs;
    unsigned gen;     /* bumped (atomically) when the rules tree changes */
    unsigned mod_gen; /* generation the module cache belongs to */
    struct lsb_host sb_host;  /* the sandbox's view of the rules tree */
    struct lua_budget budget; /* of a handler call */
    /* hot reload (watch.c) */
    struct dirwatch *watch;
    pthread_t watch_thr;
    int watching;
};

void fakefs_logf(struct fakefs_engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* sandbox.c */
int fakefs_sandbox_init(struct fakefs_engine *e);
/* Load a Lua file in a fresh sandbox environment; pushes its return value.
 * Returns 0, or -1 with the error message pushed. */
int fakefs_sandbox_dofile(struct fakefs_engine *e, const char *abs);
void fakefs_sandbox_reset_modules(struct fakefs_engine *e);
int fakefs_path_in_rules(struct fakefs_engine *e, const char *abs,
                         const char **rel);

/* hostfn.c */
void fakefs_hostfn_register(struct fakefs_engine *e, int table_idx);

/* watch.c */
void fakefs_watch_stop(struct fakefs_engine *e);

/* engine.c: drop a cached record (lock held). */
void fakefs_forget_locked(struct fakefs_engine *e, const char *path);
/* engine.c: called by watch.c with the lock NOT held. */
void fakefs_content_changed(struct fakefs_engine *e, const char *abs);
/* A fakeconfig changed: sizes/modes may differ, drop the host's caches. */
void fakefs_all_changed(struct fakefs_engine *e);

#endif
