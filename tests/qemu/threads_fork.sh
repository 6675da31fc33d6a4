# Multi-threaded guests and forked children with rules active.  State model:
# one Lua state per guest thread (each thread's rule globals start fresh);
# a forked child inherits its parent's state.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
for arch in arm mipsel mips aarch64; do
  P=$(probe $arch)
  R=$(rules_dir thr-$arch)
  echo 'n = 0 function do_syscall(num) n = n + 1 return 1000 + n end' > "$R/getppid.lua"
  qemu $arch -rules "$R" $P threads 4 50 > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch threaded guest exits cleanly" "$rc" "0"
  expect_eq "$arch every thread call was hooked" "$(grep -c 'thread .* getppid=10[0-9][0-9]$' "$TMP/o")" "200"
  for t in 0 1 2 3; do
    expect_eq "$arch thread $t has its own counter 1001..1050" \
      "$(grep "^thread $t " "$TMP/o" | grep -oE '[0-9]+$' | tr '\n' ' ')" "$(seq -s ' ' 1001 1050) "
  done
  expect_grep "$arch main thread's own state" "main getppid=1001$" "$TMP/o"
  qemu $arch -rules "$R" $P fork > "$TMP/f" 2>&1
  expect_grep "$arch parent hooked" "parent getppid=1001$" "$TMP/f"
  expect_grep "$arch child keeps the rules and the parent's state" "child getppid=1002$" "$TMP/f"
  expect_grep "$arch child exit code" "child exit=7" "$TMP/f"
done
# Guest signals keep reaching guest threads while the runtime's helper
# threads (budget monitor, rules watcher) run: they block every signal.
for arch in arm mipsel; do
  R=$(rules_dir sig-$arch)
  echo 'n = 0 function do_syscall(num, ...) n = n + 1 return c_do_syscall(num, ...) end' > "$R/getppid.lua"
  timeout 60 "$QDIR/qemu-$arch" -rules "$R" $(probe $arch) signals 200 > "$TMP/s" 2>&1; rc=$?
  expect_eq "$arch itimer signals with rules: exit code" "$rc" "0"
  # The loop ends at the 200th signal; one more may come before the timer
  # is disarmed.
  n=$(sed -nE 's/^signals ([0-9]+) received, calls>0=1$/\1/p' "$TMP/s")
  if [ -n "$n" ] && [ "$n" -ge 200 ]; then
    pass "$arch itimer signals all delivered to the guest ($n)"
  else
    fail "$arch itimer signals all delivered to the guest ('$n'):"; tail -3 "$TMP/s"
  fi
done
finish
