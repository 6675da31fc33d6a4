# The fake-file life cycle from an ARM guest, on a real sfemu-mount (suite
# qemu: it needs the patched qemu-arm; tests/meson.build registers it).
#
# The guest opens /tmp/app.conf, which does not exist.  The rules (open.lua /
# openat.lua: on ENOENT, fakefile.init(path, kind) through the runtime's
# FAKEFILE_HOST, then retry) must make the open succeed; the guest writes
# (discarded by the text default), reads (EOF), closes, and the shell then sees
# the record with the guest's pid beside the path in the mount, and the config
# and content under the rules tree.  Exit 77 = skipped (prerequisite missing).
. "$(dirname "$0")/common.sh"
QEMU=${SFEMU_QEMU_ARM:-}
RULES_SRC=${SFEMU_RULES:-$SRC/rules_examples}
[ -x "$QEMU" ] || { echo "skip: SFEMU_QEMU_ARM (patched qemu-arm) not set"; exit 77; }
command -v arm-linux-gnueabi-gcc >/dev/null || { echo "skip: no arm-linux-gnueabi-gcc"; exit 77; }
[ -f "$RULES_SRC/syscall/open.lua" ] || [ -f "$RULES_SRC/syscall/openat.lua" ] \
    || { echo "skip: $RULES_SRC has no open.lua/openat.lua yet"; exit 77; }
R="$T/rootfs"; RULES="$T/rules"
mk_rootfs "$R"
cp -a "$RULES_SRC" "$RULES"
cat > "$T/guest.c" <<'C'
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
arm-linux-gnueabi-gcc -static -O2 -o "$R/bin/fakeguest" "$T/guest.c"
mnt "$R" --rules "$RULES"
out=$("$QEMU" -L "$R" -rules "$RULES" "$R/bin/fakeguest") || fail "guest failed: $out"
gpid=${out#pid=}
ok "guest opened, wrote and read a missing file"
[ -f "$R/tmp/app.conf.fakefile" ] || fail "no record in the mount"; ok "record beside the path"
grep -q "^type=text$" "$R/tmp/app.conf.fakefile" || fail "record type"
grep -q "^path=/tmp/app.conf$" "$R/tmp/app.conf.fakefile" || fail "record path"; ok "record fields"
grep -q "^last_pid=" "$R/tmp/app.conf.fakefile" || fail "record pid"
echo "guest pid $gpid; record: $(grep last_pid "$R/tmp/app.conf.fakefile")"
[ -f "$RULES/plugins/fakefile/config/app.conf.fakeconfig.lua" ] || fail "config"
[ -f "$RULES/plugins/fakefile/data/app.conf.fakecontent" ] || fail "content"; ok "three pieces"
eq "$(cat "$R/tmp/app.conf")" "" "the shell reads what the guest reads (EOF)"
umnt "$R"
