# A fake device as firmware drives it (issue 15, docs/fakefile.md), from an
# ARM and a big-endian MIPS guest, without a mount (the engine inside qemu)
# and on an sfemu-mount (the daemon's engine over the ring): an encoded
# _IOW set and _IOWR get; a raw ioctl whose argument size comes from the
# fakeconfig's `ioctls` table; a raw ioctl's plain integer argument
# (ctx.argval); a read handler answering a key found in the reader's
# buffer (ctx.data); a number packed in the guest's byte order
# (ctx.byteorder); an argument qemu cannot read reaching the handler
# without bytes (it answers EINVAL, not qemu EFAULT); the record naming the last opener's pid and fd; a
# device dup2'd onto another fd.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
QARM=${SFEMU_QEMU_DIR:-}/qemu-arm
QMIPS=${SFEMU_QEMU_DIR:-}/qemu-mips
require "the patched qemu-arm and qemu-mips" test -x "$QARM" -a -x "$QMIPS"
require "the ARM cross compiler" command -v arm-linux-gnueabi-gcc
require "the MIPS cross compiler" command -v mips-linux-gnu-gcc
RULES="$TMP/rules"
ring_fixture "$RULES" "$TMP" || fatal "cannot build the ring fixture"
export SFEMU_WATCHDOG=off SFEMU_LOG="$TMP/qemu.log"
want="set=0 get=0:v1 raw=0:v1 read=2:v1 raw5=7 order=0:1020304 null=-1:22"

for how in plain mount; do
    R="$TMP/root-$how"
    mk_rootfs "$R"
    cp "$TMP/g-arm" "$TMP/g-mips" "$R/bin/"
    [ $how = mount ] && mnt "$R" --rules "$RULES"
    for a in arm mips; do
        q=$QARM; [ $a = mips ] && q=$QMIPS
        : > "$TMP/qemu.log"
        out=$(timeout 120 "$q" -L "$R" -rules "$RULES" "$R/bin/g-$a" all /dev/ring0 k$a v1)
        expect_eq "$how, $a: set, encoded get, raw get sized by the fakeconfig, key-in-buffer read, raw integer argument, guest byte order" \
            "$(echo "$out" | head -1)" "$want"
        if [ $how = mount ]; then
            expect_no_grep "$how, $a: served over the ring" "did not answer|offers no ring|served inside" "$TMP/qemu.log"
            pid=$(echo "$out" | sed -n 's/^pid=\([0-9]*\) fd=.*/\1/p')
            fd=$(echo "$out" | sed -n 's/^pid=[0-9]* fd=\([0-9]*\)$/\1/p')
            expect_grep "$how, $a: the record names the last opener's pid" "^last_pid=$pid\$" "$R/dev/ring0.fakefile"
            expect_grep "$how, $a: and its fd (learnt from qemu)" "^last_fd=$fd\$" "$R/dev/ring0.fakefile"
        fi
        expect_eq "$how, $a: a device dup2'd onto a plain file's fd is a fake there" \
            "$(timeout 120 "$q" -L "$R" -rules "$RULES" "$R/bin/g-$a" dup /dev/ring0 k$a /etc/hostname)" \
            "plain=1 dup2=1 read=4:dupv"
    done
    if [ $how = mount ]; then
        expect_eq "cat on the mount shows what both guests set (one state)" \
            "$(cat "$R/dev/ring0")" "bumps=0 raw=2 karm=dupv kmips=dupv"
        expect_eq "the shell's read hands no buffer (no ctx.data): it reads the state" \
            "$(head -c 6 "$R/dev/ring0")" "bumps="
        umnt "$R"
    else
        expect_no_grep "no mount: nothing went to a daemon" "did not answer|offers no ring" "$TMP/qemu.log"
    fi
done

# A bad `ioctls` entry is named, and the call fails instead of guessing.
sed -i 's/\[0x89f1\] = { size = 32, dir = "rw" }/[0x89f1] = { size = 32, dir = "sideways" }/' \
    "$RULES/plugins/fakefile/config/ring0.fakeconfig.lua"
R="$TMP/root-bad"; mk_rootfs "$R"; cp "$TMP/g-arm" "$R/bin/"
: > "$TMP/qemu.log"
out=$(timeout 120 "$QARM" -L "$R" -rules "$RULES" "$R/bin/g-arm" all /dev/ring0 k v)
expect_eq "a bad ioctls entry: that ioctl fails with EINVAL, the others work" \
    "$(echo "$out" | head -1)" "set=0 get=0:v raw=-1:k read=1:v raw5=7 order=0:1020304 null=-1:22"
expect_grep "the log names the config and the entry" \
    "ring0.fakeconfig.lua: ioctls\[0x89f1\] needs size = 0..16384 and dir" "$TMP/qemu.log"
finish
