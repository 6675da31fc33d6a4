/*
 * Guest thread contexts.  Each guest thread gets its own Lua state on its
 * first hooked syscall (rules keep per-thread globals, as the V2 seed says);
 * a forked child keeps its parent's state (fork copies it).  The state is
 * closed when the guest thread exits (pthread key destructor).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "core/options.h"
#include "core/budget.h"
#include "core/ctx.h"
#include "core/log.h"
#include "core/rules.h"
#include "core/runtime.h"
#include "core/sandbox.h"
#include "core/syscall_names.h"

static __thread struct sfemu_ctx *tls_ctx;
static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void (*open_bindings)(lua_State *L);

pthread_mutex_t sfemu_ctx_lock = PTHREAD_MUTEX_INITIALIZER;
struct sfemu_ctx *sfemu_ctx_list;

static void ctx_unlink(struct sfemu_ctx *c)
{
    pthread_mutex_lock(&sfemu_ctx_lock);
    for (struct sfemu_ctx **p = &sfemu_ctx_list; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    pthread_mutex_unlock(&sfemu_ctx_lock);
}

static void ctx_free(struct sfemu_ctx *c)
{
    if (c->L) {
        lua_close(c->L);
    }
    for (int i = 0; i < c->nfiles; i++) {
        free(c->files[i].path);
    }
    free(c->files);
    free(c->slot);
    free(c);
}

static void ctx_destroy(void *p)
{
    struct sfemu_ctx *c = p;

    ctx_unlink(c);
    if (tls_ctx == c) {
        tls_ctx = NULL;
    }
    ctx_free(c);
}

static void ctx_atfork_prepare(void)
{
    pthread_mutex_lock(&sfemu_ctx_lock);
}

static void ctx_atfork_parent(void)
{
    pthread_mutex_unlock(&sfemu_ctx_lock);
}

/* Only the forking thread lives on in the child. */
static void ctx_atfork_child(void)
{
    struct sfemu_ctx *self = tls_ctx;

    pthread_mutex_init(&sfemu_ctx_lock, NULL);
    sfemu_ctx_list = self;
    if (self) {
        self->next = NULL;
        self->tid = sfemu_rt.ops->gettid();
    }
    sfemu_budget_after_fork();
}

static void ctx_once_init(void)
{
    pthread_key_create(&ctx_key, ctx_destroy);
    pthread_atfork(ctx_atfork_prepare, ctx_atfork_parent, ctx_atfork_child);
}

static struct sfemu_ctx *ctx_create(void)
{
    struct sfemu_ctx *c = calloc(1, sizeof(*c));
    int n = sfemu_syscall_count();

    if (!c) {
        return NULL;
    }
    c->mem_limit = (size_t)sfemu_opt_long(SFEMU_OPT_rule_max_mem);
    c->slot = malloc(sizeof(int) * (n ? n : 1));
    c->L = sfemu_sandbox_new(&c->mem_used);
    if (!c->slot || !c->L) {
        sfemu_log("cannot create a Lua state for thread %d",
                  sfemu_rt.ops->gettid());
        ctx_free(c);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        c->slot[i] = SFEMU_SLOT_UNRESOLVED;
    }
    c->entry_file = c->finish_file = SFEMU_SLOT_UNRESOLVED;
    c->tid = sfemu_rt.ops->gettid();
    *(struct sfemu_ctx **)lua_getextraspace(c->L) = c;
    if (open_bindings) {
        open_bindings(c->L);
    }
    sfemu_rules_ctx_init(c);
    return c;
}

void sfemu_ctx_set_bindings(void (*open)(lua_State *L))
{
    open_bindings = open;
}

struct sfemu_ctx *sfemu_ctx_get(void)
{
    struct sfemu_ctx *c = tls_ctx;

    if (__builtin_expect(c != NULL, 1)) {
        return c;
    }
    pthread_once(&ctx_once, ctx_once_init);
    c = ctx_create();
    if (!c) {
        return NULL;
    }
    tls_ctx = c;
    pthread_setspecific(ctx_key, c);
    pthread_mutex_lock(&sfemu_ctx_lock);
    c->next = sfemu_ctx_list;
    sfemu_ctx_list = c;
    pthread_mutex_unlock(&sfemu_ctx_lock);
    return c;
}

struct sfemu_ctx *sfemu_ctx_from_lua(lua_State *L)
{
    return *(struct sfemu_ctx **)lua_getextraspace(L);
}
