/*
 * File operations of the boot-time preparation (docs/mount.md, "Boot-time
 * preparation: --init") on a mounted tree: every path is a guest path
 * resolved inside the root (openat2 RESOLVE_IN_ROOT on a directory fd of
 * the mount point), so an absolute firmware symlink resolves in the root
 * and nothing escapes it.  All functions return 0 or -errno.
 */
#ifndef SFEMU_INIT_FS_H
#define SFEMU_INIT_FS_H

#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Opens a guest path in the root (symlinks followed inside it). */
int ifs_open(int root, const char *path, int flags, mode_t mode);

/* lstat of a guest path (the last name is not followed). */
int ifs_lstat(int root, const char *path, struct stat *st);

/* mkdir -p; a dangling symlink on the way gets its target made (a root
 * ships /var -> /tmp/var and no /tmp). */
int ifs_mkdir_p(int root, const char *path, mode_t mode);

/* Writes data to path (append or truncate), making missing parents. */
int ifs_write(int root, const char *path, const char *data, size_t len,
              int append);

/* Creates path if missing (touch); parents are made. */
int ifs_touch(int root, const char *path);

/* symlink target at path; with force an existing non-directory is
 * replaced, else -EEXIST. */
int ifs_symlink(int root, const char *target, const char *path, int force);

/* chmod (follows symlinks, as chmod(1) does). */
int ifs_chmod(int root, const char *path, mode_t mode);

struct ifs_copy {
    int recursive;  /* copy directories */
    int preserve;   /* -a/-p: owner, times; -a: symlinks as symlinks */
    int no_clobber; /* keep every existing destination (the prep file) */
    int kept;       /* out: entries kept because they existed */
    int copied;     /* out: entries written */
};

/* cp src dst (dst is the final name, not a directory to copy into). */
int ifs_copy(int root, const char *src, const char *dst, struct ifs_copy *c);

/* Normalises path (absolute, relative to cwd) into out: "." and ".."
 * names and repeated slashes resolved lexically. */
void ifs_join(const char *cwd, const char *path, char *out, size_t cap);

#endif
