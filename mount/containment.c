/* Symlink containment (containment.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "containment.h"

#define MAX_LINKS 40

/* A path as a stack of components inside the root. */
struct stack {
    char buf[PATH_MAX];
    size_t len; /* buf holds "a/b/c" (no leading slash) */
    int depth;
};

static void stack_push(struct stack *s, const char *c, size_t n)
{
    if (s->len + n + 2 >= sizeof s->buf) {
        return;
    }
    if (s->len) {
        s->buf[s->len++] = '/';
    }
    memcpy(s->buf + s->len, c, n);
    s->len += n;
    s->buf[s->len] = 0;
    s->depth++;
}

static int stack_pop(struct stack *s)
{
    if (!s->depth) {
        return 0; /* ".." at the root stays at the root */
    }
    char *slash = strrchr(s->buf, '/');
    s->len = slash ? (size_t)(slash - s->buf) : 0;
    s->buf[s->len] = 0;
    s->depth--;
    return 1;
}

/* Walk target from the stack (RESOLVE_IN_ROOT semantics, expanding symlinks
 * met on the way except the last component).  Sets *changed if the walk
 * needed anything the kernel would do differently (a clamp or an expanded
 * symlink). */
static int walk(struct ovl *o, struct stack *s, const char *target, int *links,
                int *changed)
{
    if (target[0] == '/') {
        s->len = 0;
        s->buf[0] = 0;
        s->depth = 0;
    }
    const char *p = target;
    while (*p) {
        while (*p == '/') {
            p++;
        }
        if (!*p) {
            break;
        }
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int last = 1;
        for (const char *q = p + n; *q; q++) {
            if (*q != '/') {
                last = 0;
                break;
            }
        }
        if (n == 1 && p[0] == '.') {
            /* nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (!stack_pop(s)) {
                *changed = 1;
            }
        } else {
            stack_push(s, p, n);
            if (!last) {
                struct ovl_ent ent;
                if (ovl_resolve(o, s->buf, &ent) == 0 &&
                    S_ISLNK(ent.st.st_mode)) {
                    if (++*links > MAX_LINKS) {
                        return -ELOOP;
                    }
                    char t[PATH_MAX];
                    const char *name;
                    int pfd = ovl_parent_fd(ovl_layer_fd(o, ent.layer), s->buf,
                                            &name);
                    ssize_t l =
                        pfd >= 0 ? readlinkat(pfd, name, t, sizeof t - 1) : -1;
                    if (pfd >= 0) {
                        close(pfd);
                    }
                    if (l < 0) {
                        return -errno;
                    }
                    t[l] = 0;
                    stack_pop(s);
                    *changed = 1;
                    int r = walk(o, s, t, links, changed);
                    if (r < 0) {
                        return r;
                    }
                }
            }
        }
        p += n;
    }
    return 0;
}

int contain_symlink(struct ovl *o, const char *rel, const char *target,
                    char *out, size_t cap)
{
    struct stack s = { .len = 0, .depth = 0 };
    s.buf[0] = 0;
    /* start in the link's directory */
    const char *slash = strrchr(rel, '/');
    if (slash) {
        const char *p = rel;
        while (p < slash) {
            const char *e = memchr(p, '/', (size_t)(slash - p));
            size_t n = e ? (size_t)(e - p) : (size_t)(slash - p);
            stack_push(&s, p, n);
            p += n + 1;
        }
    }
    int linkdir_depth = s.depth;
    int links = 0, changed = target[0] == '/';
    int r = walk(o, &s, target, &links, &changed);
    if (r < 0) {
        return r;
    }
    if (!changed) {
        if (strlen(target) >= cap) {
            return -ENAMETOOLONG;
        }
        strcpy(out, target);
        return 0;
    }
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < linkdir_depth; i++) {
        if (len + 4 >= cap) {
            return -ENAMETOOLONG;
        }
        len += (size_t)snprintf(out + len, cap - len, i ? "/.." : "..");
    }
    if (s.len) {
        if (len + s.len + 2 >= cap) {
            return -ENAMETOOLONG;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? "/" : "",
                                s.buf);
    }
    if (!len) {
        snprintf(out, cap, ".");
    }
    /* keep a trailing slash of the firmware's target (it means "a directory") */
    size_t tl = strlen(target);
    if (tl > 1 && target[tl - 1] == '/' && len + 1 < cap &&
        strcmp(out, ".") != 0) {
        strcat(out, "/");
    }
    return 0;
}
