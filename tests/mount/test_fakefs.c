/*
 * Unit test of the fakefs engine without FUSE: an in-memory store stands in
 * for the device tree (like the qemu side will).  Usage: test-fakefs RULES_DIR
 * (a scratch copy of rules_examples; the test writes configs into it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
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
    char tmp[4096];
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
    ssize_t n = fakefs_read(e, "/etc/machine", buf, sizeof buf, 0, &who);
    CHECK(n == 7 && !memcmp(buf, "locked\n", 7), "read in state locked");
    n = fakefs_read(e, "/etc/machine", buf, sizeof buf, 3, &who);
    CHECK(n == 4 && !memcmp(buf, "ked\n", 4), "read at offset 3");
    unsigned char out[4];
    size_t outlen = 0;
    int r = fakefs_ioctl(e, "/etc/machine", 0x1234, "x", 1, out, sizeof out,
                         &outlen, &who);
    CHECK(r == 7 && outlen == 4 && out[0] == 0x35 && out[1] == 0x12,
          "ioctl reply bytes and result");
    CHECK(fakefs_write(e, "/etc/machine", "nope", 4, 0, &who) == 4,
          "write in locked");
    CHECK(fakefs_write(e, "/etc/machine", "unlock", 6, 0, &who) == 6,
          "write unlock");
    i = find("/etc/machine.fakefile");
    CHECK(strstr(files[i].data, "state=open") != NULL,
          "state change persisted in record");
    n = fakefs_read(e, "/etc/machine", buf, sizeof buf - 1, 0, &who);
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
    CHECK(fakefs_write(e, "/var/run/x.sock", "abc", 3, 0, &who) == 3,
          "socket write discarded");
    CHECK(fakefs_read(e, "/var/run/x.sock", buf, 10, 0, &who) == 0,
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
    n = fakefs_read(e, "/etc/machine", buf, sizeof buf - 1, 0, &who);
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
    fakefs_read(e, "/etc/machine", buf, sizeof buf, 0, &who);
    CHECK(strstr(logbuf, "etc/passwd' is outside the rules tree") != NULL,
          "require confined to the rules tree");

    /* a handler that loops forever is stopped */
    write_file(
        cfg,
        "return { default_state='s', states={ s={ read=function(ctx) while true do end end } } }\n");
    usleep(300000);
    fakefs_forget(e, "/etc/machine");
    s_write(NULL, "/etc/machine.fakefile", "type=text\nstate=s\n", 19);
    n = fakefs_read(e, "/etc/machine", buf, sizeof buf, 0, &who);
    CHECK(n == -EIO && strstr(logbuf, "instruction budget"),
          "runaway handler stopped (-EIO)");

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
