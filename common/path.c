/* Lexical path helpers (see path.h). */
#include <errno.h>
#include <string.h>

#include "path.h"

const char *path_base(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

int path_split(const char *rel, char *dir, size_t cap, const char **name)
{
    const char *slash = strrchr(rel, '/');
    size_t n = slash ? (size_t)(slash - rel) : 1;

    if (n >= cap) {
        return -ENAMETOOLONG;
    }
    memcpy(dir, slash ? rel : ".", n);
    dir[n] = '\0';
    *name = slash ? slash + 1 : rel;
    return 0;
}

const char *path_under(const char *path, const char *root)
{
    size_t n = strlen(root);

    while (n > 0 && root[n - 1] == '/') {
        n--; /* "/" itself becomes "": every absolute path is below it */
    }
    if (strncmp(path, root, n) != 0 || (path[n] != '/' && path[n] != '\0')) {
        return NULL;
    }
    path += n;
    while (*path == '/') {
        path++;
    }
    return path;
}

int path_has_dotdot(const char *path)
{
    const char *s = path;

    while (*s) {
        size_t n = strcspn(s, "/");
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            return 1;
        }
        s += n;
        s += strspn(s, "/");
    }
    return 0;
}
