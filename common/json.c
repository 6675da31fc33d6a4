/* JSON documents through cJSON (see json.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"

/* The calling thread's build: what the cap has left, and whether an
 * allocation failed since json_begin(). */
static __thread struct {
    int active, failed;
    size_t left;
} build;

/* cJSON's allocator: the cap applies inside a build.  Freed memory is not
 * given back to it: a build allocates little more than what it keeps. */
static void *json_malloc(size_t n)
{
    void *p;

    if (build.active) {
        if (n > build.left) {
            build.failed = 1;
            return NULL;
        }
        build.left -= n;
    }
    p = malloc(n);
    if (!p) {
        build.failed = 1;
    }
    return p;
}

/* Before any cJSON call: the hooks are process-wide. */
__attribute__((constructor)) static void json_init_hooks(void)
{
    cJSON_Hooks hooks = { .malloc_fn = json_malloc, .free_fn = free };

    cJSON_InitHooks(&hooks);
}

cJSON *json_put(cJSON *parent, const char *key, cJSON *item)
{
    cJSON_bool ok;

    if (!parent || !item) {
        cJSON_Delete(item);
        return NULL;
    }
    ok = key ? cJSON_AddItemToObject(parent, key, item)
             : cJSON_AddItemToArray(parent, item);
    if (!ok) {
        build.failed = 1;
        cJSON_Delete(item);
        return NULL;
    }
    return item;
}

cJSON *json_bytes(const char *s)
{
    const unsigned char *p;
    unsigned char *utf8, *o;
    size_t len = 0, high = 0;
    cJSON *item;

    if (!s) {
        s = "";
    }
    for (p = (const unsigned char *)s; *p; p++, len++) {
        high += *p >= 0x80;
    }
    if (!high) {
        return cJSON_CreateString(s);
    }
    /* Latin-1 to UTF-8: the text a \u00XX escape of each byte would give. */
    utf8 = cJSON_malloc(len + high + 1);
    if (!utf8) {
        return NULL;
    }
    for (p = (const unsigned char *)s, o = utf8; *p; p++) {
        if (*p >= 0x80) {
            *o++ = 0xc0 | (*p >> 6);
            *o++ = 0x80 | (*p & 0x3f);
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    item = cJSON_CreateString((const char *)utf8);
    cJSON_free(utf8);
    return item;
}

cJSON *json_int(int64_t v)
{
    char buf[24];

    /* cJSON prints a double with %1.15g: exact below 10^15, not above. */
    if (v > -1000000000000000LL && v < 1000000000000000LL) {
        return cJSON_CreateNumber((double)v);
    }
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    return cJSON_CreateRaw(buf);
}

cJSON *json_hex(uint64_t v)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    return cJSON_CreateString(buf);
}

void json_begin(size_t cap)
{
    build.active = 1;
    build.failed = 0;
    build.left = cap;
}

char *json_end(cJSON *doc)
{
    char *text = doc && !build.failed ? cJSON_Print(doc) : NULL;

    cJSON_Delete(doc);
    if (build.failed) {
        cJSON_free(text);
        text = NULL;
    }
    build.active = 0;
    build.failed = 0;
    return text;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return w < 0 ? -errno : -EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int json_save(const char *path, int flags, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
    int err;

    if (fd < 0) {
        return -errno;
    }
    err = write_all(fd, text, strlen(text));
    if (!err) {
        err = write_all(fd, "\n", 1);
    }
    if (close(fd) != 0 && !err) {
        err = -errno;
    }
    return err;
}
