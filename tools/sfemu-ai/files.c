/*
 * The files the tool writes under PATCH_DIR: directories made as needed,
 * each file written to a temporary name and renamed into place (the
 * runtime never sees half a rule), its text redacted first.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ai.h"

int ai_mkdir_p(const char *path)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p) {
        return -ENAMETOOLONG;
    }
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0755) < 0 && errno != EEXIST) {
                return -errno;
            }
            *s = '/';
        }
    }
    if (mkdir(p, 0755) < 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

int ai_write_file(const char *dir, const char *name, const char *text,
                  char *err, size_t cap)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    char *r = ai_redact(text);
    if (!r) {
        snprintf(err, cap, "%s: out of memory", path);
        return AI_EINPUT;
    }
    errno = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t len = strlen(r), off = 0;
    while (fd >= 0 && off < len) {
        ssize_t k = write(fd, r + off, len - off);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            break;
        }
        off += k;
    }
    int e = 0;
    if (fd < 0 || off < len) {
        e = errno ? errno : EIO;
    }
    if (fd >= 0 && close(fd) < 0 && !e) {
        e = errno;
    }
    if (!e && rename(tmp, path) < 0) {
        e = errno;
    }
    free(r);
    if (e) {
        unlink(tmp);
        snprintf(err, cap, "%s: %s", path, strerror(e));
        return AI_EINPUT;
    }
    return AI_OK;
}

char *ai_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        return NULL;
    }
    size_t cap = 16384, n = 0;
    char *b = malloc(cap);
    while (b) {
        if (n + 1 >= cap) {
            char *nb = cap > max ? NULL : realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                errno = cap > max ? EFBIG : ENOMEM;
                break;
            }
            b = nb;
            cap *= 2;
        }
        errno = 0;
        size_t k = fread(b + n, 1, cap - n - 1, f);
        n += k;
        if (k == 0) {
            if (ferror(f)) {
                int e = errno ? errno : EIO; /* EISDIR for a directory */
                free(b);
                b = NULL;
                errno = e;
            }
            break;
        }
    }
    fclose(f);
    if (b && n > max) {
        free(b);
        b = NULL;
        errno = EFBIG;
    }
    if (b) {
        b[n] = 0;
        *len = n;
    }
    return b;
}
