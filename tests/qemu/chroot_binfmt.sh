# The chroot way with binfmt_misc (docs/chroot.md): scripts/sfemu-binfmt
# registers the static qemu with the F flag under a name of this test only,
# and `QEMU_RULES=/sfemu/rules chroot ROOT /bin/sh -c ...` runs Debian's
# armel and mipsel BusyBox directly, with no qemu inside the root: a fake
# /dev/nvram served by the daemon, guest execs, writes in the upper layer,
# the firmware tree untouched.  The helper refuses clearly without root and
# without binfmt_misc, registers nothing unless asked, and the entries are
# removed at exit even after a failure.  Registered is_parallel: false (an
# entry applies to the whole machine while it exists).
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SRC/tests/qemu/chroot_lib.sh"
[ "$(id -u)" = 0 ] || skip_test "chroot(8), mounts and binfmt_misc need root"
BF=/proc/sys/fs/binfmt_misc
HELPER="$SRC/scripts/sfemu-binfmt"
NAME="sfemu-test-$$"
if [ ! -e "$BF/register" ]; then
    mount -t binfmt_misc binfmt_misc "$BF" 2>/dev/null ||
        skip_test "binfmt_misc is not mounted and cannot be mounted here"
    at_exit "umount '$BF'"
fi
for a in $CHROOT_ARCHES; do
    at_exit "[ ! -e '$BF/$NAME-$a' ] || echo -1 > '$BF/$NAME-$a'"
done

# ---------------------------------------------------------- refusals
check_fails_with "the helper refuses an unknown architecture" "unknown architecture 'x86'" \
    "$HELPER" register --name "$NAME" x86
check_fails_with "the helper refuses without root, saying so" "needs root" \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$HELPER" register --name "$NAME" arm
check_fails_with "the helper refuses without binfmt_misc, saying how to mount it" \
    "binfmt_misc is not mounted.*mount -t binfmt_misc" \
    env SFEMU_BINFMT_DIR="$TMP/no-binfmt" "$HELPER" register --name "$NAME" arm
mkdir -p "$TMP/dyn" && cp "$QDIR/qemu-arm" "$TMP/dyn/qemu-arm-static"
check_fails_with "the helper refuses a qemu that is not static" "not statically linked" \
    "$HELPER" register --name "$NAME" --qemu "$TMP/dyn" arm
for a in $CHROOT_ARCHES; do
    check "$a: nothing is registered before register ($NAME-$a)" test ! -e "$BF/$NAME-$a"
done

# ------------------------------------------------ chroot ROOT /bin/sh
RULES="$TMP/rules"
require "a rules tree" chroot_rules "$RULES"
for a in $CHROOT_ARCHES; do
    R="$TMP/root-$a"
    require "$a: a root from Debian's $(deb_of "$a") BusyBox" chroot_root "$a" "$R"
    manifest "$R" > "$TMP/lower-before-$a"
    chroot_mount "$R" "$RULES"
    if grep -qs "^interpreter .*qemu-$a" $(ls -d "$BF"/* | grep -v -e /register -e /status); then
        echo "# $a: another binfmt entry runs qemu-$a here: not checking that nothing runs before register"
    else
        check_fails_with "$a: before register, the kernel cannot run the firmware's shell" \
            "Exec format error" chroot "$R" /bin/sh -c true
    fi
    require "$a: sfemu-binfmt register" "$HELPER" register --name "$NAME" --qemu "$QDIR" "$a"
    expect_grep "$a: registered with the F flag" '^flags: .*F' "$BF/$NAME-$a"
    expect_grep "$a: ... for the static qemu" "^interpreter $QDIR/qemu-$a-static\$" "$BF/$NAME-$a"
    expect_match "$a: status shows the entry" "^$NAME-$a: enabled" \
        "$("$HELPER" status --name "$NAME" "$a")"
    OUT="$TMP/out-$a" LOG="$TMP/log-$a"
    if QEMU_RULES=/sfemu/rules chroot "$R" /bin/sh -c "$CHROOT_SCRIPT" > "$OUT" 2> "$LOG"; then
        pass "$a: chroot ROOT /bin/sh runs through binfmt_misc"
    else
        fail "$a: chroot ROOT /bin/sh failed"; _show < "$LOG"
    fi
    check "$a: no qemu inside the root (F: opened at registration)" test ! -e "$R/qemu-$a-static"
    expect_grep "$a: the rules came from QEMU_RULES" 'fakefile: /dev/nvram is now a fake resource' "$LOG"
    chroot_checks "$a" "$R" "$OUT" "$LOG"
    require "$a: sfemu-binfmt unregister" "$HELPER" unregister --name "$NAME" "$a"
    check "$a: the entry is gone" test ! -e "$BF/$NAME-$a"
    chroot_teardown "$a" "$R"
done
finish
