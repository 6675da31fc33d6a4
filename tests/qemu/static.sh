# The static build (qemu-<arch>-static) runs rules, including inside a chroot
# the way binfmt/chroot setups use it.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
for arch in arm mipsel; do
  Q="$QDIR/qemu-$arch-static"
  [ -x "$Q" ] || { fail "$arch: qemu-$arch-static not built"; continue; }
  if file "$Q" | grep -qE "statically linked|static-pie linked"; then pass "$arch: qemu-$arch-static is static"; else fail "$arch: not static: $(file "$Q")"; fi
  R=$(rules_dir st-$arch)
  echo 'function do_syscall(num) return 31337 end' > "$R/getppid.lua"
  "$Q" -rules "$R" $(probe $arch) getpid > "$TMP/o" 2>&1
  expect_grep "$arch: static build runs rules" "getppid=31337$" "$TMP/o"
done
# chroot: the static qemu and the rules inside the rootfs, a dynamic guest.
ROOT="$TMP/chroot"
mkdir -p "$ROOT/bin" "$ROOT/lib" "$ROOT/rules" "$ROOT/tmp"
cp "$QDIR/qemu-arm-static" "$ROOT/qemu-arm-static"
cp "$GDIR/probe-arm-dyn" "$ROOT/bin/probe"
cp -L /usr/arm-linux-gnueabi/lib/ld-linux.so.3 /usr/arm-linux-gnueabi/lib/libc.so.6 "$ROOT/lib/"
echo 'function do_syscall(num) return 4444 end' > "$ROOT/rules/getppid.lua"
chroot "$ROOT" /qemu-arm-static -rules /rules /bin/probe getpid > "$TMP/o" 2>&1
expect_grep "chroot + qemu-arm-static + rules" "getppid=4444$" "$TMP/o"
QEMU_RULES=/rules chroot "$ROOT" /qemu-arm-static /bin/probe getpid > "$TMP/o" 2>&1
expect_grep "chroot with QEMU_RULES (binfmt style)" "getppid=4444$" "$TMP/o"
finish
