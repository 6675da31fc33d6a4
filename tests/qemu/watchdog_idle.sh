# idle_deadloop: a thread that runs guest code without a syscall for
# -rules-idle-ms gets a report; a thread blocked in accept() is waiting,
# not dead: no report, one log line "blocked in accept"; c_watchdog_suspend
# pauses the idle watchdog.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SFEMU_SRC/tests/qemu/watchdog_lib.sh"
for arch in $WD_ARCHES; do
  R=$(rules_dir idle-$arch)
  timeout 60 "$QDIR/qemu-$arch" -rules "$R" -rules-idle-ms 300 $(wd $arch) spin 2 > "$TMP/o" 2>&1
  expect_grep "$arch spin finished" "spin done" "$TMP/o"
  expect_grep "$arch idle summary on stderr" "watchdog: idle_deadloop \(tid [0-9]+\): no syscall for [0-9]+ ms" "$TMP/o"
  f=$(reports "$R" idle_deadloop)
  expect_eq "$arch one idle report per quiet episode" "$(echo "$f" | grep -c json)" "1"
  [ -n "$f" ] || continue
  expect_json "$arch idle report: kind, no registers off-thread, ring" "$f" \
    "r['kind'] == 'idle_deadloop' and r['registers'] is None and r['ctx'][-1]['done'] and int(r['last_syscall_pc'], 16) != 0"

  R=$(rules_dir acc-$arch)
  port=$(wd_port)
  timeout 60 "$QDIR/qemu-$arch" -rules "$R" -rules-idle-ms 300 $(wd $arch) accept $port 2 > "$TMP/o" 2>&1
  expect_grep "$arch accept interrupted by the alarm" "accept returned -1" "$TMP/o"
  expect_grep "$arch blocked in accept is logged as waiting" "idle for [0-9]+ ms, blocked in (accept|accept4) \(waiting, not dead\): no report" "$TMP/o"
  expect_eq "$arch no idle report for a blocked thread" "$(reports "$R" idle_deadloop)" ""

  # c_watchdog_suspend(true) from a rule: the spin is not reported.
  R=$(rules_dir susp-$arch)
  cat > "$R/rt_sigaction.lua" <<'LUA'
function do_syscall(num, ...)
  local was = c_watchdog_suspend(true)
  c_log("suspended, was " .. tostring(was))
  return c_do_syscall(num, ...)
end
LUA
  timeout 60 "$QDIR/qemu-$arch" -rules "$R" -rules-idle-ms 300 $(wd $arch) spin 1 > "$TMP/o" 2>&1
  expect_grep "$arch suspend returns the previous state" "suspended, was false" "$TMP/o"
  expect_eq "$arch suspended: no idle report" "$(reports "$R" idle_deadloop)" ""
done
finish
