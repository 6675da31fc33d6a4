/*
 * Lexical path helpers: they look at the text only, never at the file
 * system (for that, see dirfd.h).
 */
#ifndef SFEMU_PATH_H
#define SFEMU_PATH_H

#include <stddef.h>

/* The last name of path: "c" of "a/b/c", path itself without a slash. */
const char *path_base(const char *path);

/* Splits rel into its parent directory, copied to dir[cap] ("." when rel
 * has no slash), and its last name (*name points into rel).  0, or
 * -ENAMETOOLONG when the parent does not fit. */
int path_split(const char *rel, char *dir, size_t cap, const char **name);

/* Is path root itself or below it (both canonical; root may end with '/')?
 * Returns what follows root in path, without the slash: "" for root itself,
 * "a/b" for root/a/b; NULL outside root ("/rootfs2" is outside "/rootfs"). */
const char *path_under(const char *path, const char *root);

/* Has path a ".." component ("..", "a/..", "../b", "a/../b")? */
int path_has_dotdot(const char *path);

#endif
