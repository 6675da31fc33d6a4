# True root for -L: absolute guest paths (created files, unix sockets, absolute
# symlinks inside the firmware, chdir + relative names) resolve inside the
# rootfs like chroot; stock -L leaks created files onto the host.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
ROOT="$TMP/rootfs"
mkdir -p "$ROOT/bin" "$ROOT/lib" "$ROOT/tmp/etc" "$ROOT/var" "$ROOT/dev" "$ROOT$TMP/hostside"
cp "$GDIR/probe-arm-dyn" "$ROOT/bin/probe"
cp -L /usr/arm-linux-gnueabi/lib/ld-linux.so.3 /usr/arm-linux-gnueabi/lib/libc.so.6 "$ROOT/lib/"
echo "firmware etc" > "$ROOT/tmp/etc/banner"
ln -s /tmp/etc "$ROOT/etc"                         # the router classic
mkdir -p "$TMP/hostside"; echo "HOST FILE" > "$TMP/hostside/banner"
echo "rootfs copy" > "$ROOT$TMP/hostside/banner"
ln -s "$TMP/hostside" "$ROOT/conf"                 # absolute target that exists on the host
echo "var data" > "$ROOT/var/data.txt"
R=$(rules_dir tr)
echo 'function do_syscall() end' > "$R/getppid.lua"
U=sfemu-tr-$$-$RANDOM
run() { qemu arm -L "$ROOT" -rules "$R" "$ROOT/bin/probe" "$@"; }

run open /etc/banner > "$TMP/o" 2>&1
expect_grep "absolute symlink /etc -> /tmp/etc resolves inside" "content=\[firmware etc" "$TMP/o"
run open /conf/banner > "$TMP/o" 2>&1
expect_grep "absolute symlink to a host path stays inside" "content=\[rootfs copy" "$TMP/o"
run open /../../../../conf/banner > "$TMP/o" 2>&1
expect_grep ".. cannot climb out of the root" "content=\[rootfs copy" "$TMP/o"
run creat /tmp/$U > "$TMP/o" 2>&1
expect_grep "create succeeds" "creat /tmp/$U ok" "$TMP/o"
[ -f "$ROOT/tmp/$U" ] && pass "created file is inside the rootfs" || fail "not in rootfs"
[ ! -e "/tmp/$U" ] && pass "created file is not on the host" || { fail "leaked to host /tmp/$U"; rm -f "/tmp/$U"; }
run creat /etc/new-$U > "$TMP/o" 2>&1
[ -f "$ROOT/tmp/etc/new-$U" ] && pass "create through the /etc symlink lands in rootfs/tmp/etc" || fail "create via symlink: $(cat $TMP/o)"
ln -s /tmp/dangling-$U "$ROOT/dangle"
run creat /dangle > "$TMP/o" 2>&1
[ -f "$ROOT/tmp/dangling-$U" ] && [ ! -e /tmp/dangling-$U ] && pass "create through a dangling absolute symlink stays inside" || { fail "dangling symlink create"; rm -f /tmp/dangling-$U; }
run unixsock /tmp/sock-$U > "$TMP/o" 2>&1
expect_grep "bind of a unix socket succeeds" "bind /tmp/sock-$U -> 0" "$TMP/o"
[ -S "$ROOT/tmp/sock-$U" ] && pass "unix socket created inside the rootfs" || fail "socket not in rootfs"
[ ! -e /tmp/sock-$U ] && pass "unix socket not on the host" || { fail "socket leaked"; rm -f /tmp/sock-$U; }
run cwd /var data.txt > "$TMP/o" 2>&1
expect_grep "chdir + relative open stays inside, getcwd is the guest path" "cwd=/var open=1 content=\[var data" "$TMP/o"
printf 'FIRMWARE-NULL' > "$ROOT/dev/null"          # unpacked firmware: a plain file
run open /dev/null > "$TMP/o" 2>&1
expect_grep "/dev/null is the host's (documented exception)" "open /dev/null -> 3 errno=0" "$TMP/o"
expect_grep "... even when the rootfs has a file there (QEMU's -L lookup bypassed)" "^content=\[\]$" "$TMP/o"
run open /proc/self/maps > "$TMP/o" 2>&1
expect_grep "/proc/self/maps is QEMU's emulated one (the guest's binary first)" "content=\[[0-9a-f]+-[0-9a-f]+ .*/bin/probe$" "$TMP/o"
expect_no_grep "... with guest addresses, not QEMU's own" "qemu-arm" "$TMP/o"
run open "/proc/self/root/../../..$TMP/hostside/banner" > "$TMP/o" 2>&1
expect_grep "/proc/self/root/.. is the guest's root, .. included" "content=\[rootfs copy" "$TMP/o"
ln -s /proc/self/fd/0 "$ROOT/dev/stdin"           # as firmware trees have it
echo "from the pipe" | run open /dev/stdin > "$TMP/o" 2>&1
expect_grep "/dev/stdin -> /proc/self/fd/0 reopens the guest's stdin" "content=\[from the pipe" "$TMP/o"
run open /proc/1/status > "$TMP/o" 2>&1
expect_grep "/proc/1 (not the guest's process) does not exist" "errno=2$" "$TMP/o"

# Stock -L: the same create leaks onto the host (the problem true root fixes).
"$QDIR/qemu-arm-stock" -L "$ROOT" "$ROOT/bin/probe" creat /tmp/stock-$U > "$TMP/o" 2>&1
[ -e /tmp/stock-$U ] && pass "stock -L leaks created files onto the host (as documented)" || fail "stock did not leak?"
rm -f /tmp/stock-$U
"$QDIR/qemu-arm" -L "$ROOT" -root-mode prefix "$ROOT/bin/probe" creat /tmp/pfx-$U > "$TMP/o" 2>&1
[ -e /tmp/pfx-$U ] && pass "-root-mode prefix keeps stock semantics" || fail "-root-mode prefix"
rm -f /tmp/pfx-$U
# -root-mode true without -rules
"$QDIR/qemu-arm" -L "$ROOT" -root-mode true "$ROOT/bin/probe" creat /tmp/nr-$U > "$TMP/o" 2>&1
[ -f "$ROOT/tmp/nr-$U" ] && [ ! -e /tmp/nr-$U ] && pass "-root-mode true works without -rules" || { fail "-root-mode true alone"; rm -f /tmp/nr-$U; }
QEMU_ROOT_MODE=true "$QDIR/qemu-arm" -L "$ROOT" "$ROOT/bin/probe" creat /tmp/env-$U > "$TMP/o" 2>&1
[ -f "$ROOT/tmp/env-$U" ] && pass "QEMU_ROOT_MODE=true" || { fail "QEMU_ROOT_MODE"; rm -f /tmp/env-$U; }
finish
