/*
 * Unit test of the fakefs engine without FUSE: an in-memory store stands in
 * for the device tree (like the qemu side will).  Usage: test-fakefs RULES_DIR
 * (a scratch copy of rules_examples; the test writes configs into it).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lualib.h>
#include "fakefs.h"

#define MAXF 32
static struct {
    char *path, *data;
    size_t len;
} files[MAXF];
static int nfiles;
static char logbuf[65536];
static int fails;

#define CHECK(c, ...)                                   \
    do {                                                \
        if (!(c)) {                                     \
            fails++;                                    \
            printf("FAIL %s:%d: ", __FILE__, __LINE__); \
            printf(__VA_ARGS__);                        \
            printf("\n");                               \
        } else {                                        \
            printf("ok - ");                            \
            printf(__VA_ARGS__);                        \
            printf("\n");                               \
        }                                               \
    } while (0)

static int find(const char *p)
{
    for (int i = 0; i < nfiles; i++) {
        if (!strcmp(files[i].path, p)) {
            return i;
        }
    }
    return -1;
}
static int s_read(void *ud, const char *p, char **d, size_t *l)
{
    (void)ud;
    int i = find(p);
    if (i < 0) {
        return -ENOENT;
    }
    *d = malloc(files[i].len + 1);
    memcpy(*d, files[i].data, files[i].len);
    (*d)[files[i].len] = 0;
    *l = files[i].len;
    return 0;
}
static int s_write(void *ud, const char *p, const char *d, size_t l)
{
    (void)ud;
    int i = find(p);
    if (i < 0) {
        if (nfiles == MAXF) {
            return -ENOSPC;
        }
        i = nfiles++;
        files[i].path = strdup(p);
        files[i].data = NULL;
    }
    free(files[i].data);
    files[i].data = malloc(l + 1);
    memcpy(files[i].data, d, l);
    files[i].data[l] = 0;
    files[i].len = l;
    return 0;
}
static int s_exists(void *ud, const char *p)
{
    (void)ud;
    return find(p) >= 0;
}
static void logf_(const char *m)
{
    strncat(logbuf, m, sizeof logbuf - strlen(logbuf) - 2);
    strcat(logbuf, "\n");
}

static void write_file(const char *path, const char *text)
{
    char tmp[4096 + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    fputs(text, f);
    fclose(f);
    rename(tmp, path);
}

static const char *custom =
    "local script_dir = debug.getinfo(1, \"S\").source:match(\"@?(.*/)\") or \"\"\n"
    "local rules_dir = script_dir:gsub(\"plugins/fakefile/config/?$\", \"\")\n"
    "local fakefile = require(rules_dir .. \"plugins/fakefile\")\n"
    "return {\n"
    "  default_state = \"locked\",\n"
    "  states = {\n"
    "    locked = {\n"
    "      read = function(ctx) return fakefile.reply_read_bytes(ctx, \"locked\\n\") end,\n"
    "      write = function(ctx)\n"
    "        if ctx.data == \"unlock\" then fakefile.set_state(ctx, \"open\") end\n"
    "        ctx.store.writes = (ctx.store.writes or 0) + 1\n"
    "        return #ctx.data end,\n"
    "      ioctl = function(ctx) return fakefile.reply_ioctl_bytes(ctx, string.pack(\"<I4\", ctx.cmd + 1), 7) end,\n"
    "    },\n"
    "    open = {\n"
    "      read = function(ctx) return fakefile.reply_read_bytes(ctx, \"writes=\" .. ctx.store.writes .. \" io=\" .. tostring(io) .. \" exec=\" .. tostring(os.execute) .. \"\\n\") end,\n"
    "      connect = fakefile.default_connect_socket_server,\n"
    "      getattr = function(ctx) return { size = 42 } end,\n"
    "    },\n"
    "  },\n"
    "}\n";

/* ------------------------------------------------------- never hangs */

/* A config named <name> for the resource /etc/<name> (text). */
static void resource(const char *rules, const char *name, const char *lua)
{
    char p[4096], rec[256];
    snprintf(p, sizeof p, "%s/plugins/fakefile/config/%s.fakeconfig.lua", rules,
             name);
    write_file(p, lua);
    snprintf(p, sizeof p, "/etc/%s.fakefile", name);
    snprintf(rec, sizeof rec, "type=text\n");
    s_write(NULL, p, rec, strlen(rec));
}

static ssize_t read_res(struct fakefs_engine *e, const char *name,
                        const struct fakefs_caller *who)
{
    char p[256], buf[64];
    snprintf(p, sizeof p, "/etc/%s", name);
    fakefs_forget(e, p);
    return fakefs_read(e, p, buf, sizeof buf, 0, NULL, 0, who);
}

struct slow {
    struct fakefs_engine *e;
    const struct fakefs_caller *who;
    ssize_t n;
    int done;
};

static void *slow_reader(void *arg)
{
    struct slow *s = arg;
    s->n = read_res(s->e, "slow", s->who);
    __atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void never_hangs(struct fakefs_engine *e, const char *rules,
                        const struct fakefs_caller *who)
{
    const char *wrap =
        "local f = require('plugins.fakefile')\n"
        "return { default_state = 's', states = { s = { read = function(ctx)\n"
        "%s\n"
        "return f.reply_read_bytes(ctx, 'ok') end } } }\n";
    char lua[4096];
    resource(rules, "loadloop", "local n = 0\nwhile true do n = n + 1 end\n");
    CHECK(read_res(e, "loadloop", who) == -EIO &&
              strstr(logbuf,
                     "loadloop.fakeconfig.lua:2: fakeconfig exceeded its"),
          "a config that loops at load time: -EIO, logged with file:line");
    static const struct {
        const char *name, *body, *logged, *what;
    } runaways[] = {
        { "pcallloop",
          "while true do pcall(function() while true do end end) end", "",
          "a loop around pcall is stopped too" },
        { "xpcallloop",
          "while true do xpcall(function() while true do end end, print) "
          "coroutine.resume(coroutine.create(function() while true do end "
          "end)) end",
          "", "and around xpcall and coroutine.resume" },
        { "pattern",
          "local s = ('a'):rep(20000)\n"
          "if s:find('.-.-.-.-b') or s:match('(.-)(.-)(.-)b') then end",
          "pattern.fakeconfig.lua:4: fakeconfig exceeded its",
          "a runaway in Lua patterns is stopped: -EIO, file:line" },
    };
    for (size_t k = 0; k < sizeof runaways / sizeof *runaways; k++) {
        snprintf(lua, sizeof lua, wrap, runaways[k].body);
        resource(rules, runaways[k].name, lua);
        CHECK(read_res(e, runaways[k].name, who) == -EIO &&
                  strstr(logbuf, runaways[k].logged),
              "%s", runaways[k].what);
    }
    /* memory: each state and all together are capped */
    fakefs_set_limits(e, 0, 0, 8 << 20, 24 << 20);
    snprintf(
        lua, sizeof lua, wrap,
        "local t = {} while true do t[#t + 1] = ('x'):rep(4096) .. #t end");
    resource(rules, "grow", lua);
    CHECK(read_res(e, "grow", who) == -EIO && strstr(logbuf, "memory limit"),
          "a config that grows without bound gets an error");
    snprintf(lua, sizeof lua, wrap,
             "local t = {} "
             "for i = 1, 6 * 1024 do t[i] = ('y'):rep(1000) .. i end "
             "ctx.store.keep = t");
    resource(rules, "hog1", lua);
    resource(rules, "hog2", lua);
    resource(rules, "hog3", lua);
    resource(rules, "hog4", lua);
    ssize_t h1 = read_res(e, "hog1", who), h2 = read_res(e, "hog2", who),
            h3 = read_res(e, "hog3", who), h4 = read_res(e, "hog4", who);
    CHECK(h1 == 2 && h2 == 2 && h4 == -EIO,
          "all states together are capped (%zd %zd %zd %zd)", h1, h2, h3, h4);
    fakefs_set_limits(e, 0, 0, FAKEFS_VM_MEM_DEFAULT, FAKEFS_MEM_DEFAULT);
    snprintf(lua, sizeof lua, wrap, "");
    resource(rules, "fast", lua);
    ssize_t f1 = read_res(e, "fast", who), f2 = read_res(e, "hog4", who);
    CHECK(f1 == 2 && f2 == 2,
          "once there is room again, every resource is served (%zd %zd)", f1,
          f2);

    /* one stuck resource does not stop the others */
    fakefs_set_limits(e, 2000000000L, 2500, 0, 0);
    resource(rules, "slow",
             "return { default_state = 's', states = { s = {"
             "read = function(ctx) while true do end end } } }\n");
    snprintf(lua, sizeof lua, wrap, "");
    resource(rules, "fast", lua);
    read_res(e, "fast", who);
    struct slow sl = { e, who, 0, 0 };
    pthread_t t;
    pthread_create(&t, NULL, slow_reader, &sl);
    usleep(200000); /* the slow handler is running */
    int served = 0;
    for (int i = 0; i < 20; i++) {
        served += read_res(e, "fast", who) == 2;
    }
    int slow_done = __atomic_load_n(&sl.done, __ATOMIC_ACQUIRE);
    pthread_join(t, NULL);
    CHECK(served == 20 && !slow_done,
          "20 reads of another resource while one is stuck (%d, %d)", served,
          slow_done);
    CHECK(sl.n == -EIO, "the stuck one ends at the deadline: -EIO");
    fakefs_set_limits(e, FAKEFS_BUDGET_DEFAULT, FAKEFS_TIME_DEFAULT, 0, 0);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test-fakefs RULES_DIR\n");
        return 2;
    }
    const char *rules = argv[1];
    char cfg[4096];
    snprintf(cfg, sizeof cfg,
             "%s/plugins/fakefile/config/machine.fakeconfig.lua", rules);
    write_file(cfg, custom);

    struct fakefs_store st = { .read = s_read,
                               .write = s_write,
                               .exists = s_exists };
    struct fakefs_engine *e = fakefs_new(rules, &st, logf_);
    CHECK(e != NULL, "engine created");
    if (!e) {
        return 1;
    }
    struct fakefs_caller who = { .pid = 4242, .fd = 7, .side = "qemu" };
    struct fakefs_attr a;
    char buf[256];

    /* not fake until a record exists */
    CHECK(fakefs_lookup(e, "/etc/machine", 0, &a) == 0, "no record: not fake");
    s_write(NULL, "/etc/machine.fakefile", "type=text\n", 10);
    fakefs_forget(e, "/etc/machine");
    CHECK(fakefs_lookup(e, "/etc/machine", 0, &a) == 1, "record makes it fake");
    CHECK(fakefs_open(e, "/etc/machine", 0, &who) == 0, "open");
    int i = find("/etc/machine.fakefile");
    CHECK(i >= 0 && strstr(files[i].data, "last_pid=4242") &&
              strstr(files[i].data, "last_fd=7"),
          "record has last pid/fd");
    CHECK(strstr(files[i].data, "state=locked") != NULL,
          "default_state persisted");
    ssize_t n =
        fakefs_read(e, "/etc/machine", buf, sizeof buf, 0, NULL, 0, &who);
    CHECK(n == 7 && !memcmp(buf, "locked\n", 7), "read in state locked");
    n = fakefs_read(e, "/etc/machine", buf, sizeof buf, 3, NULL, 0, &who);
    CHECK(n == 4 && !memcmp(buf, "ked\n", 4), "read at offset 3");
    unsigned char out[4];
    size_t outlen = 0;
    int r = fakefs_ioctl(e, "/etc/machine", 0x1234, "x", 1, out, sizeof out,
                         &outlen, &who);
    CHECK(r == 7 && outlen == 4 && out[0] == 0x35 && out[1] == 0x12,
          "ioctl reply bytes and result");
    CHECK(fakefs_write(e, "/etc/machine", "nope", 4, 0, NULL, 0, NULL, &who) ==
              4,
          "write in locked");
    CHECK(fakefs_write(e, "/etc/machine", "unlock", 6, 0, NULL, 0, NULL,
                       &who) == 6,
          "write unlock");
    i = find("/etc/machine.fakefile");
    CHECK(strstr(files[i].data, "state=open") != NULL,
          "state change persisted in record");
    n = fakefs_read(e, "/etc/machine", buf, sizeof buf - 1, 0, NULL, 0, &who);
    buf[n > 0 ? n : 0] = 0;
    CHECK(strstr(buf, "writes=2") != NULL, "ctx.store kept across calls (%s)",
          buf);
    CHECK(strstr(buf, "io=nil") && strstr(buf, "exec=nil"),
          "sandbox: no io, no os.execute");
    CHECK(fakefs_lookup(e, "/etc/machine", 0, &a) == 1 && a.size == 42,
          "getattr handler size");

    /* connect: default_connect_socket_server gives a real abstract server */
    int action = -1;
    char addr[108] = "";
    r = fakefs_connect(e, "/etc/machine", &action, addr, sizeof addr, &who);
    CHECK(r == 0 && action == 1 && addr[0], "connect -> real server @%s", addr);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    memcpy(sa.sun_path + 1, addr, strlen(addr));
    r = connect(fd, (struct sockaddr *)&sa,
                (socklen_t)(sizeof(sa_family_t) + 1 + strlen(addr)));
    CHECK(r == 0, "client connects to the fake server");
    close(fd);

    /* default socket config: takeover */
    s_write(NULL, "/var/run/x.sock.fakefile", "type=socket\n", 12);
    CHECK(fakefs_lookup(e, "/var/run/x.sock", 0, &a) == 1 &&
              a.type == FAKEFS_SOCKET,
          "socket record");
    action = -1;
    r = fakefs_connect(e, "/var/run/x.sock", &action, addr, sizeof addr, &who);
    CHECK(r == 0 && action == 0, "default socket connect: fd taken over");
    CHECK(fakefs_write(e, "/var/run/x.sock", "abc", 3, 0, NULL, 0, NULL,
                       &who) == 3,
          "socket write discarded");
    CHECK(fakefs_read(e, "/var/run/x.sock", buf, 10, 0, NULL, 0, &who) == 0,
          "socket read EOF");

    /* implicit device */
    CHECK(fakefs_lookup(e, "/dev/mtd0", 1, &a) == 1 && a.type == FAKEFS_DEV &&
              a.mode == 0666,
          "device node served as dev");
    CHECK(fakefs_ioctl(e, "/dev/mtd0", 0x5401, NULL, 0, NULL, 0, NULL, &who) ==
              0,
          "dev ioctl 0");

    /* broken config keeps the last good version, logs file:line */
    FILE *f = fopen(cfg, "a");
    fputs("this is not lua (\n", f);
    fclose(f);
    /* no inotify here: bump through a forget + the watch-less path */
    fakefs_watch_start(e);
    f = fopen(cfg, "a");
    fputs("\n", f);
    fclose(f);
    usleep(300000);
    n = fakefs_read(e, "/etc/machine", buf, sizeof buf - 1, 0, NULL, 0, &who);
    buf[n > 0 ? n : 0] = 0;
    CHECK(strstr(buf, "writes=2") != NULL,
          "broken config: last good version still serves");
    char line[64];
    snprintf(line, sizeof line, "machine.fakeconfig.lua:%d:", 22);
    CHECK(strstr(logbuf, "fakeconfig error") && strstr(logbuf, line),
          "error logged with file:line");

    /* require cannot leave the rules tree */
    write_file(cfg, "return require('../../../../../etc/passwd')\n");
    usleep(300000);
    fakefs_read(e, "/etc/machine", buf, sizeof buf, 0, NULL, 0, &who);
    CHECK(strstr(logbuf, "etc/passwd' is outside the rules tree") != NULL,
          "require confined to the rules tree");

    /* a handler that loops forever is stopped */
    write_file(
        cfg,
        "return { default_state='s', states={ s={ read=function(ctx) while true do end end } } }\n");
    usleep(300000);
    fakefs_forget(e, "/etc/machine");
    s_write(NULL, "/etc/machine.fakefile", "type=text\nstate=s\n", 19);
    n = fakefs_read(e, "/etc/machine", buf, sizeof buf, 0, NULL, 0, &who);
    CHECK(n == -EIO && strstr(logbuf, "exceeded its instruction budget"),
          "runaway handler stopped (-EIO)");

    never_hangs(e, rules, &who);

    /* fakefile.init through the plugin: three pieces */
    r = fakefs_init_resource(e, "/tmp/test.config", "text");
    CHECK(r == 0 && find("/tmp/test.config.fakefile") >= 0,
          "fakefile.init writes the record");
    char p[4096];
    struct stat sb;
    snprintf(p, sizeof p,
             "%s/plugins/fakefile/config/test.config.fakeconfig.lua", rules);
    CHECK(stat(p, &sb) == 0, "fakefile.init writes the fakeconfig");
    snprintf(p, sizeof p, "%s/plugins/fakefile/data/test.config.fakecontent",
             rules);
    CHECK(stat(p, &sb) == 0, "fakefile.init writes the fakecontent");
    r = fakefs_init_resource(e, "/etc/test.config", "text");
    snprintf(p, sizeof p, "%s/plugins/fakefile/config/test.config-", rules);
    i = find("/etc/test.config.fakefile");
    CHECK(r == 0 && i >= 0 && strstr(files[i].data, "config/test.config-"),
          "same basename: hash suffix");
    CHECK(fakefs_lookup(e, "/etc/test.config", 0, &a) == 1 && a.size == 0,
          "generated config serves (default text)");
    CHECK(fakefs_init_resource(e, "/x", "bogus") < 0, "unknown kind refused");

    fakefs_free(e);
    for (i = 0; i < nfiles; i++) {
        free(files[i].path);
        free(files[i].data);
    }
    if (fails) {
        printf("--- log ---\n%s", logbuf);
    }
    printf("%d failure(s)\n", fails);
    return fails ? 1 : 0;
}
