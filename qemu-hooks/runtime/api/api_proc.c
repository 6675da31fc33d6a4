/*
 * What the process-life rules (rules_examples/base/proclife.lua) need to
 * know about a process before letting a guest signal it: the host's
 * /proc/PID/stat and whether PID is a guest of this same emulator.  Guest
 * pids are host pids under qemu-user, so /proc is read on the host, never
 * through the guest's root.
 *
 * c_proc_info(pid) -> { ppid=, pgid=, sid=, emulated= }, or nil, -errno
 *   emulated: the process runs the same qemu binary as the caller (its
 *   /proc/PID/exe is ours): a guest process, not one of the host's.  false
 *   when that cannot be read (another user's process).
 * c_proc_group(pgid) -> { pid, ... } the processes of that process group
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "api/api.h"
#include "core/sandbox.h"

struct proc_stat {
    long ppid, pgid, sid;
};

/* The fields after the command name of /proc/PID/stat; 0 or -errno. */
static int read_stat(long pid, struct proc_stat *st)
{
    char path[64], buf[1024];
    const char *p;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return n < 0 ? -errno : -EIO;
    }
    buf[n] = '\0';
    /* the name may hold spaces and parentheses: its end is the last ')' */
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 1, " %*c %ld %ld %ld", &st->ppid, &st->pgid,
                     &st->sid) != 3) {
        return -EIO;
    }
    return 0;
}

/* Does pid run the same executable (qemu) as this process? */
static int same_emulator(long pid)
{
    char path[64], mine[PATH_MAX], theirs[PATH_MAX];
    ssize_t a, b;

    snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
    a = readlink("/proc/self/exe", mine, sizeof(mine) - 1);
    b = readlink(path, theirs, sizeof(theirs) - 1);
    return a > 0 && a == b && memcmp(mine, theirs, (size_t)a) == 0;
}

static int c_proc_info(lua_State *L)
{
    long pid = (long)luaL_checkinteger(L, 1);
    struct proc_stat st;
    int rc;

    if (pid <= 0) {
        return sfemu_api_push_fail(L, -EINVAL);
    }
    rc = read_stat(pid, &st);
    if (rc < 0) {
        return sfemu_api_push_fail(L, rc);
    }
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, st.ppid);
    lua_setfield(L, -2, "ppid");
    lua_pushinteger(L, st.pgid);
    lua_setfield(L, -2, "pgid");
    lua_pushinteger(L, st.sid);
    lua_setfield(L, -2, "sid");
    lua_pushboolean(L, same_emulator(pid));
    lua_setfield(L, -2, "emulated");
    return 1;
}

static int c_proc_group(lua_State *L)
{
    long pgid = (long)luaL_checkinteger(L, 1);
    struct dirent *de;
    lua_Integer n = 0;
    DIR *d = opendir("/proc");

    if (!d) {
        return sfemu_api_push_fail(L, -errno);
    }
    lua_newtable(L);
    while ((de = readdir(d))) {
        struct proc_stat st;
        long pid;

        if (!isdigit((unsigned char)de->d_name[0])) {
            continue;
        }
        pid = strtol(de->d_name, NULL, 10);
        if (read_stat(pid, &st) == 0 && st.pgid == pgid) {
            lua_pushinteger(L, pid);
            lua_rawseti(L, -2, ++n);
        }
    }
    closedir(d);
    return 1;
}

static const luaL_Reg proc_fns[] = {
    { "c_proc_info", c_proc_info },
    { "c_proc_group", c_proc_group },
    { NULL, NULL },
};

void sfemu_api_proc_open(lua_State *L)
{
    sfemu_sandbox_register(L, proc_fns);
}
