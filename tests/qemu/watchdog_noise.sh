# Report noise under load (docs/watchdog.md, "Report limits"): 200 forked
# children that exit non-zero by design write no exit report; a daemon
# child whose parent is gone does; a threaded dead loop's reports are
# rate-limited per trigger and process tree, and entry.lua logs each report
# once, not once per thread.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SFEMU_SRC/tests/qemu/watchdog_lib.sh"
arch=arm
R=$(rules_dir noise-fork)
cp "$SRC/rules_examples/entry.lua" "$R/"
# (-quick-exit-report 0: a parent that ends with status 0 within 5 s is a
# quick exit, reported by design (bringup_exit.sh); this is about exits.)
timeout 120 "$QDIR/qemu-$arch" -rules "$R" -quick-exit-report 0 $(wd $arch) forkexit 200 3 > "$TMP/o" 2>&1; rc=$?
expect_eq "forkexit: the parent exits 0" "$rc" "0"
expect_grep "forkexit: 200 children exited 3" "^forkexit 200 children exited 3$" "$TMP/o"
expect_eq "forkexit: no exit report (the parent waits for them)" \
  "$(reports "$R" exit | grep -c json)" "0"
expect_no_grep "forkexit: no watchdog line" "watchdog: exit|entry.lua" "$TMP/o"

# The same with SFEMU_WATCHDOG_EXIT=all: reports, but SFEMU_WATCHDOG_RATE a
# minute for the whole tree, and one line saying the rest were not written.
R=$(rules_dir noise-fork-all)
cp "$SRC/rules_examples/entry.lua" "$R/"
SFEMU_WATCHDOG_EXIT=all SFEMU_WATCHDOG_RATE=3 timeout 120 "$QDIR/qemu-$arch" \
  -rules "$R" $(wd $arch) forkexit 40 3 > "$TMP/o" 2>&1; rc=$?
expect_eq "exit=all: the parent exits 0" "$rc" "0"
expect_eq "exit=all: 3 reports for the tree" "$(reports "$R" exit | grep -c json)" "3"
expect_eq "exit=all: 3 summary lines" "$(grep -c "watchdog: exit (tid" "$TMP/o")" "3"
expect_eq "exit=all: the limit is logged once" \
  "$(grep -c "exit reports reached SFEMU_WATCHDOG_RATE=3 per minute and process tree" "$TMP/o")" "1"

# A daemon: the parent exits 0, the orphaned child dies with 4: reported.
R=$(rules_dir noise-daemon)
cp "$SRC/rules_examples/entry.lua" "$R/"
timeout 60 "$QDIR/qemu-$arch" -rules "$R" $(wd $arch) daemon 4 > "$TMP/o" 2>&1; rc=$?
expect_eq "daemon: the parent exits 0" "$rc" "0"
for i in $(seq 100); do [ -n "$(reports "$R" exit)" ] && break; sleep 0.1; done
sleep 0.5
f=$(reports "$R" exit)
expect_eq "daemon: the orphan's exit is one report" "$(echo "$f" | grep -c json)" "1"
[ -n "$f" ] && expect_json "daemon: exit_group(4)" "$f" "r['exit']['status'] == 4"

# 8 threads each in a dead loop: 8 candidates, SFEMU_WATCHDOG_RATE=2 reports;
# entry.lua (one Lua state per thread) logs each report once.  A report is
# logged by the next thread that makes a syscall after it is ready, so the
# threads loop long after the 10 repeats that trigger it (on a loaded machine
# 300 opens were sometimes all done before the second report was ready).
for arch in $WD_ARCHES; do
  R=$(rules_dir noise-threads-$arch)
  cp "$SRC/rules_examples/entry.lua" "$R/"
  SFEMU_WATCHDOG_RATE=2 SFEMU_DEADLOOP_REPEATS=10 timeout 120 "$QDIR/qemu-$arch" \
    -rules "$R" $(wd $arch) threadloop 8 3000 /etc/no-such.conf > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch threadloop: the guest finishes" "$rc" "0"
  expect_eq "$arch threadloop: 2 deadloop reports" "$(reports "$R" deadloop | grep -c json)" "2"
  expect_eq "$arch threadloop: the limit is logged once" \
    "$(grep -c "deadloop reports reached SFEMU_WATCHDOG_RATE=2" "$TMP/o")" "1"
  # c_watchdog_take_report gives the newest report not yet taken: when the
  # second report is written before any thread asked for the first (two
  # threads' loops detected back to back), only the second is given
  # (docs/watchdog.md).  So 1 or 2 lines, each naming a report written.
  n=$(grep -c "entry.lua: watchdog report deadloop" "$TMP/o")
  check "$arch entry.lua logs the reports ($n of 2; one overwritten before any thread asked is not given)" \
    test "$n" -ge 1 -a "$n" -le 2
  missing=0
  for p in $(grep -o "entry.lua: watchdog report deadloop ([^)]*)" "$TMP/o" | sed 's/.*(\(.*\))/\1/'); do
    [ -f "$p" ] || missing=$((missing + 1))
  done
  expect_eq "$arch entry.lua: each logged report is a report file" "$missing" "0"
  expect_eq "$arch entry.lua: no report logged twice" \
    "$(grep -o "entry.lua: watchdog report .*" "$TMP/o" | sort | uniq -d | wc -l)" "0"
done
finish
