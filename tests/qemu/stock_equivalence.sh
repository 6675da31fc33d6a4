# Without -rules the patched qemu behaves exactly like stock QEMU of the same
# version: same stdout and exit code for the same guest runs.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
echo "some file content for the read probe" > "$TMP/data.txt"
for arch in arm mipsel; do
  [ -x "$QDIR/qemu-$arch-stock" ] || { fail "$arch: no stock qemu built"; continue; }
  P=$(probe $arch)
  for args in "hello 3" "hello 0 x y" "write" "read $TMP/data.txt" "open /nonexistent" \
              "endian" "socket" "threads 3 4" "fork" "creat $TMP/out-ARCH"; do
    args=${args//ARCH/$arch}
    "$QDIR/qemu-$arch-stock" $P $args > "$TMP/stock.out" 2>&1; s=$?
    rm -f "$TMP/out-$arch"
    "$QDIR/qemu-$arch" $P $args > "$TMP/ours.out" 2>&1; o=$?
    rm -f "$TMP/out-$arch"
    # pids differ between runs: compare with numbers masked for fork only
    if [ "$args" = fork ]; then sed -i -E 's/=[0-9]+/=N/' "$TMP/stock.out" "$TMP/ours.out"; fi
    if cmp -s <(sort "$TMP/stock.out") <(sort "$TMP/ours.out") && [ $s = $o ]; then
      pass "$arch '$args': same output, exit $o"
    else
      fail "$arch '$args': stock exit $s vs ours $o"; diff "$TMP/stock.out" "$TMP/ours.out" | head
    fi
  done
done
finish
