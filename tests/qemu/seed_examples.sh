# The V2 seed's example rules (rules_examples/examples_v2) behave as the seed
# describes, on ARM and MIPS guests.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
EX="$SRC/rules_examples/examples_v2"
seq 1 300 > "$TMP/lines.txt"
for arch in arm mipsel mips; do
  P=$(probe $arch)
  qemu $arch -rules "$EX" $P write > "$TMP/w" 2>&1
  expect_grep "$arch write.lua logs before" "Writing 12 bytes to fd 1" "$TMP/w"
  expect_grep "$arch write.lua logs after" "Wrote 13 bytes" "$TMP/w"
  expect_grep "$arch write.lua keeps the write" "^second write" "$TMP/w"

  # the guest's real pid is qemu's: started in the background, $! is it
  "$QDIR/qemu-$arch" -rules "$EX" $P getpid > "$TMP/g" 2>&1 &
  real=$!
  wait $real
  expect_grep "$arch getpid.lua modify adds 10000 to the real pid ($real)" "^getpid=$((real + 10000)) " "$TMP/g"
  SFEMU_GETPID_MODE=fake qemu $arch -rules "$EX" $P getpid > "$TMP/g2" 2>&1
  expect_grep "$arch getpid.lua fake" "getpid=12345 " "$TMP/g2"

  qemu $arch -rules "$EX" $P open "$TMP/lines.txt" > "$TMP/o" 2>&1
  expect_grep "$arch open.lua logs" "open\($TMP/lines.txt, 0x0\)" "$TMP/o"
  SFEMU_OPEN_BLOCK_WRITE=1 qemu $arch -rules "$EX" $P open "$TMP/lines.txt" w > "$TMP/o2" 2>&1
  expect_grep "$arch open.lua blocks write mode" "errno=13" "$TMP/o2"
  expect_grep "$arch open.lua says why" "Write access blocked" "$TMP/o2"

  SFEMU_READ_STATS_EVERY=50 qemu $arch -rules "$EX" $P read "$TMP/lines.txt" > "$TMP/r" 2>&1
  expect_grep "$arch read.lua statistics" "Read stats: 50 calls, 350 bytes" "$TMP/r"
  expect_grep "$arch read.lua keeps data" "read total=1092" "$TMP/r"

  qemu $arch -rules "$EX" $P socket > "$TMP/s" 2>&1
  expect_grep "$arch socket.lua lets ordinary sockets through" "inet=ok errno=0 unix=ok" "$TMP/s"
  SFEMU_SOCKET_BLOCK_ALL=1 qemu $arch -rules "$EX" $P socket > "$TMP/s2" 2>&1
  expect_grep "$arch socket.lua blocks network sockets" "inet=fail errno=1 unix=ok" "$TMP/s2"
done
finish
