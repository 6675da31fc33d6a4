/* Unit test of common/path.c: the lexical path helpers. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "path.h"

static int str_is(const char *got, const char *want)
{
    return got && want ? !strcmp(got, want) : got == want;
}

static void check_base(void)
{
    check(str_is(path_base("a/b/c"), "c"), "path_base(a/b/c) is c");
    check(str_is(path_base("name"), "name"), "path_base(name) is name");
    check(str_is(path_base("/x"), "x"), "path_base(/x) is x");
    check(str_is(path_base("dir/"), ""), "path_base(dir/) is empty");
}

static void check_split(void)
{
    char dir[16];
    const char *name = NULL;
    int r;

    r = path_split("etc/init.d/rcS", dir, sizeof(dir), &name);
    check(r == 0 && !strcmp(dir, "etc/init.d") && str_is(name, "rcS"),
          "path_split(etc/init.d/rcS): %s + %s", dir, name);
    r = path_split("passwd", dir, sizeof(dir), &name);
    check(r == 0 && !strcmp(dir, ".") && str_is(name, "passwd"),
          "path_split(passwd): . + passwd");
    r = path_split("a/b", dir, 2, &name);
    check(r == 0 && !strcmp(dir, "a") && str_is(name, "b"),
          "path_split fits a parent of cap-1 bytes");
    r = path_split("0123456789abcdef/x", dir, sizeof(dir), &name);
    check(r == -ENAMETOOLONG, "path_split: a parent too long is refused");
}

static void check_under(void)
{
    check(str_is(path_under("/r/a/b", "/r"), "a/b"), "/r/a/b is under /r");
    check(str_is(path_under("/r/a/b", "/r/"), "a/b"),
          "/r/a/b is under /r/ (trailing slash)");
    check(str_is(path_under("/r", "/r"), ""), "/r is /r itself");
    check(str_is(path_under("/r", "/r/"), ""), "/r is /r/ itself");
    check(path_under("/r2/a", "/r") == NULL, "/r2/a is not under /r");
    check(path_under("/", "/r") == NULL, "/ is not under /r");
    check(path_under("/other", "/r") == NULL, "/other is not under /r");
    check(str_is(path_under("/etc/passwd", "/"), "etc/passwd"),
          "everything absolute is under /");
    check(str_is(path_under("/", "/"), ""), "/ is / itself");
}

static void check_dotdot(void)
{
    static const char *const with[] = { "..",    "../a",    "a/..", "a/../b",
                                        "/a/..", "a//../b", "/.." };
    static const char *const without[] = { "a/b",   "..a",   "a..", "a/..b/c",
                                           ".../x", "a/./b", "",    "/" };

    for (size_t i = 0; i < sizeof(with) / sizeof(*with); i++) {
        check(path_has_dotdot(with[i]), "'%s' has a .. component", with[i]);
    }
    for (size_t i = 0; i < sizeof(without) / sizeof(*without); i++) {
        check(!path_has_dotdot(without[i]), "'%s' has no .. component",
              without[i]);
    }
}

int main(void)
{
    check_base();
    check_split();
    check_under();
    check_dotdot();
    return checks_done();
}
