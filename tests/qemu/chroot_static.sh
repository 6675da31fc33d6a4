# The chroot way without binfmt_misc (docs/chroot.md): sfemu-mount ROOT,
# the static qemu-ARCH-static copied into the mount, /proc and the rules
# tree inside, then `chroot ROOT /qemu-ARCH-static -rules /sfemu/rules
# /bin/sh -c ...` on Debian's armel and mipsel BusyBox.  A missing
# /dev/nvram becomes a fake the daemon serves (the host's shell sees the
# guest's key), guest execs run (ELF and "#!"), writes land in the upper
# layer and the firmware tree is untouched.  Without /proc, a guest exec
# says what is missing.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SRC/tests/qemu/chroot_lib.sh"
[ "$(id -u)" = 0 ] || skip_test "chroot(8) and mounts need root"

RULES="$TMP/rules"
require "a rules tree" chroot_rules "$RULES"
for a in $CHROOT_ARCHES; do
    R="$TMP/root-$a"
    require "$a: a root from Debian's $(deb_of "$a") BusyBox" chroot_root "$a" "$R"
    require "$a: the static qemu was built" test -x "$QDIR/qemu-$a-static"
    manifest "$R" > "$TMP/lower-before-$a"
    chroot_mount "$R" "$RULES"
    cp "$QDIR/qemu-$a-static" "$R/qemu-$a-static"
    check "$a: the static qemu lands in the upper layer" test -x "$R.sfemu/tree/qemu-$a-static"
    OUT="$TMP/out-$a" LOG="$TMP/log-$a"
    if chroot "$R" /qemu-$a-static -rules /sfemu/rules /bin/sh -c "$CHROOT_SCRIPT" > "$OUT" 2> "$LOG"; then
        pass "$a: the chroot run exits 0"
    else
        fail "$a: the chroot run failed"; _show < "$LOG"
    fi
    chroot_checks "$a" "$R" "$OUT" "$LOG"

    # Without /proc a guest cannot exec (qemu runs itself again through
    # /proc/self/exe): the log says so.
    umount "$R/proc"
    chroot "$R" /qemu-$a-static -rules /sfemu/rules /bin/sh -c '/bin/echo x' > /dev/null \
        2> "$TMP/noproc-$a" || true
    expect_grep "$a: without /proc, a guest exec says /proc is missing" \
        'guest exec: /proc is not mounted in this root' "$TMP/noproc-$a"
    mount -t proc proc "$R/proc"

    chroot_teardown "$a" "$R"
done
finish
