/*
 * A small thread pool for requests that run fakeconfig code (they may take
 * up to the engine's budget): the FUSE loop hands them over and goes on, so
 * one slow or stuck resource never stops the rest of the mount.  Jobs of
 * one resource (same key) run in order, one at a time; a worker only takes
 * a job whose resource is not busy, so a stuck resource occupies one worker
 * and its queue, never the others.
 */
#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "sfemu_mount.h"

struct job {
    struct job *next;
    char *key;
    void (*fn)(void *arg, int cancelled);
    void *arg;
};

#define WORKERS_MAX 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static struct job *head, **tail = &head;
static const char *busy[WORKERS_MAX]; /* key each worker runs, or NULL */
static pthread_t thr[WORKERS_MAX];
static unsigned nthr;
static int stopping;

static int key_busy(const char *key)
{
    for (unsigned i = 0; i < nthr; i++) {
        if (busy[i] && !strcmp(busy[i], key)) {
            return 1;
        }
    }
    return 0;
}

/* The first job whose resource nobody runs, taken off the queue. */
static struct job *take(void)
{
    for (struct job **pp = &head; *pp; pp = &(*pp)->next) {
        if (!key_busy((*pp)->key)) {
            struct job *j = *pp;
            *pp = j->next;
            if (!*pp) {
                tail = pp;
            }
            return j;
        }
    }
    return NULL;
}

static void *worker(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        struct job *j;
        while (!(j = take()) && !stopping) {
            pthread_cond_wait(&more, &lock);
        }
        if (!j) {
            break;
        }
        busy[me] = j->key;
        pthread_mutex_unlock(&lock);
        j->fn(j->arg, 0);
        pthread_mutex_lock(&lock);
        busy[me] = NULL;
        free(j->key);
        free(j);
        pthread_cond_broadcast(&more); /* its resource may run again */
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int workers_start(unsigned n)
{
    if (n > WORKERS_MAX) {
        n = WORKERS_MAX;
    }
    pthread_mutex_lock(&lock);
    stopping = 0;
    for (nthr = 0; nthr < n; nthr++) {
        if (pthread_create(&thr[nthr], NULL, worker, (void *)(uintptr_t)nthr) !=
            0) {
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return nthr ? 0 : -EAGAIN;
}

void workers_stop(void)
{
    pthread_mutex_lock(&lock);
    stopping = 1;
    pthread_cond_broadcast(&more);
    unsigned n = nthr;
    pthread_mutex_unlock(&lock);
    /* a worker stuck in a handler is waited for: the engine's budget ends
     * every handler */
    for (unsigned i = 0; i < n; i++) {
        pthread_join(thr[i], NULL);
    }
    pthread_mutex_lock(&lock);
    nthr = 0;
    while (head) {
        struct job *j = head;
        head = j->next;
        j->fn(j->arg, 1);
        free(j->key);
        free(j);
    }
    tail = &head;
    pthread_mutex_unlock(&lock);
}

int workers_run(const char *key, void (*fn)(void *arg, int cancelled),
                void *arg)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j || !(j->key = strdup(key ? key : ""))) {
        free(j);
        return -ENOMEM;
    }
    j->fn = fn;
    j->arg = arg;
    pthread_mutex_lock(&lock);
    if (!nthr) {
        pthread_mutex_unlock(&lock);
        free(j->key);
        free(j);
        return -EAGAIN;
    }
    *tail = j;
    tail = &j->next;
    pthread_cond_broadcast(&more);
    pthread_mutex_unlock(&lock);
    return 0;
}
