# The fake-file life cycle from an ARM guest, on a real sfemu-mount (suite
# qemu: it needs the patched qemu-arm; tests/meson.build registers it).
#
# The guest opens /tmp/app.conf, which does not exist and is listed in
# plugins/fakefile/paths.conf.  The rules (open.lua /
# openat.lua: on ENOENT, fakefile.init(path, kind) through the runtime's
# FAKEFILE_HOST, then retry) must make the open succeed; the guest writes
# (discarded by the text default), reads (EOF), closes, and the shell then sees
# the record with the guest's pid beside the path in the mount, and the config
# and content under the rules tree.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
QEMU=${SFEMU_QEMU_ARM:-}
RULES_SRC=${SFEMU_RULES:-$SRC/rules_examples}
require "the patched qemu-arm (SFEMU_QEMU_ARM)" test -x "$QEMU"
require "the ARM cross compiler" command -v arm-linux-gnueabi-gcc
require "$RULES_SRC has open.lua or openat.lua" \
    test -f "$RULES_SRC/syscall/open.lua" -o -f "$RULES_SRC/syscall/openat.lua"
R="$TMP/rootfs"; RULES="$TMP/rules"
mk_rootfs "$R"
cp -a "$RULES_SRC" "$RULES"
# Not a device: listed, as a user lists a config file the service needs.
echo "/tmp/app.conf" >> "$RULES/plugins/fakefile/paths.conf"
cat > "$TMP/guest.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(void)
{
    int fd = open("/tmp/app.conf", O_RDWR);
    if (fd < 0) { perror("open /tmp/app.conf"); return 1; }
    if (write(fd, "hello", 5) != 5) { perror("write"); return 2; }
    char b[16];
    if (read(fd, b, sizeof b) != 0) { fprintf(stderr, "read: expected EOF\n"); return 3; }
    close(fd);
    printf("pid=%d\n", (int)getpid());
    return 0;
}
C
arm-linux-gnueabi-gcc -static -O2 -o "$R/bin/fakeguest" "$TMP/guest.c"
mnt "$R" --rules "$RULES"
if out=$("$QEMU" -L "$R" -rules "$RULES" "$R/bin/fakeguest"); then
    pass "guest opened, wrote and read a missing file"
else
    fail "guest failed: $out"
fi
gpid=${out#pid=}
expect_match "the guest says its pid" "^[0-9]+$" "$gpid"
check "record beside the path" test -f "$R/tmp/app.conf.fakefile"
expect_grep "record type" "^type=text$" "$R/tmp/app.conf.fakefile"
expect_grep "record path" "^path=/tmp/app.conf$" "$R/tmp/app.conf.fakefile"
expect_grep "record: the guest's pid as the last opener" "^last_pid=$gpid$" "$R/tmp/app.conf.fakefile"
check "fakeconfig in the rules tree" test -f "$RULES/plugins/fakefile/config/app.conf.fakeconfig.lua"
check "fakecontent in the rules tree" test -f "$RULES/plugins/fakefile/data/app.conf.fakecontent"
expect_eq "the shell reads what the guest reads (EOF)" "$(cat "$R/tmp/app.conf")" ""
umnt "$R"
finish
