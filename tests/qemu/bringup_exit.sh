# Quiet exits (docs/watchdog.md, docs/analysis.md): a process that ends with
# the plain exit syscall of its last thread (old uClibc's _exit) gets its
# -sfanalysis record and exit report; a thread's own exit does not end the
# record.  A service that exits with status 0 within -quick-exit-report
# seconds of its start, or of its first (and only) accepted connection, gets
# a quick_exit report with its last syscalls and one log line; a daemon's parent that exits after forking does not, a late
# exit does not, 0 turns it off.  Reports and the record name the program
# and libraries by their guest paths, also for a guest-exec'd program that
# qemu runs from an fd.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SFEMU_SRC/tests/qemu/watchdog_lib.sh"
for arch in $WD_ARCHES; do
  # The plain exit syscall from main, one thread.
  R=$(rules_dir exitsys-$arch) OUT=$TMP/an-exitsys-$arch
  SFEMU_WATCHDOG=1 qemu $arch -rules "$R" -sfanalysis "$OUT" $(wd $arch) exitsys 3 /etc/nothere \
    > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch exit syscall: status kept" "$rc" 3
  if [ -f "$OUT/analysis.json" ]; then
    expect_json "$arch exit syscall: the analysis record, ended by exit" "$OUT/analysis.json" \
      "r['why'] == 'exit' and '/etc/nothere' in r['missing']"
  else
    fail "$arch exit syscall: no analysis record"
  fi
  expect_grep "$arch exit syscall: the summary too" "^Ended by exit after" "$OUT/summary.txt"
  f=$(reports "$R" exit)
  expect_eq "$arch exit syscall: one exit report" "$(echo "$f" | grep -c json)" 1
  [ -n "$f" ] && expect_json "$arch exit report: exit(3), the last syscall" "$f" \
    "r['exit'] == {'syscall': 'exit', 'status': 3} and r['ctx'][-1]['name'] == 'exit'"
  expect_grep "$arch exit syscall: the log line" "watchdog: exit \(tid [0-9]+\): exit\(3\)" "$TMP/o"

  # A thread's plain exit is not the process's end; main's, after, is.
  R=$(rules_dir threadexit-$arch) OUT=$TMP/an-threadexit-$arch
  SFEMU_WATCHDOG=1 qemu $arch -rules "$R" -sfanalysis "$OUT" $(wd $arch) threadexit 4 \
    > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch thread exit: status of main's exit" "$rc" 4
  [ -f "$OUT/analysis.json" ] &&
    expect_json "$arch thread exit: the record is main's (written after its last write)" \
      "$OUT/analysis.json" \
      "r['why'] == 'exit' and [s['count'] for s in r['syscalls']['by_name'] if s['name'] in ('clone', 'write')] == [1, 1]" ||
    fail "$arch thread exit: no analysis record"
  f=$(reports "$R" exit)
  expect_eq "$arch thread exit: one exit report, exit(4)" "$(echo "$f" | grep -c json)" 1
  [ -n "$f" ] && expect_json "$arch thread exit: status 4" "$f" "r['exit']['status'] == 4"

  # Quick exit with status 0: reported, with the last syscalls.
  R=$(rules_dir quick-$arch)
  SFEMU_WATCHDOG=1 qemu $arch -rules "$R" $(wd $arch) exitmissing /etc > "$TMP/o" 2>&1
  f=$(reports "$R" quick_exit)
  expect_eq "$arch quick exit: one report" "$(echo "$f" | grep -c json)" 1
  [ -n "$f" ] && expect_json "$arch quick exit: exit_group(0), seconds, ctx" "$f" \
    "r['exit']['syscall'] == 'exit_group' and r['exit']['status'] == 0 and 0 <= r['exit']['after_s'] < 5 and r['ctx'][-1]['name'] == 'exit_group' and any(e.get('path') == '/etc' for e in r['ctx'])"
  expect_grep "$arch quick exit: one log line" "watchdog: quick_exit \(tid [0-9]+\): exit_group\(0\) [0-9.]+ s after the start" "$TMP/o"
  expect_eq "$arch quick exit: no exit report (status 0)" "$(reports "$R" exit | grep -c json)" 0

  R=$(rules_dir quickoff-$arch)
  SFEMU_WATCHDOG=1 qemu $arch -quick-exit-report 0 -rules "$R" $(wd $arch) exitmissing /etc > "$TMP/o" 2>&1
  expect_eq "$arch -quick-exit-report 0: none" "$(reports "$R" quick_exit | grep -c json)" 0
  R=$(rules_dir quicklate-$arch)
  SFEMU_WATCHDOG=1 qemu $arch -quick-exit-report 1 -rules "$R" $(wd $arch) spin 2 > "$TMP/o" 2>&1
  expect_eq "$arch exit 0 after 2 s with -quick-exit-report 1: none" "$(reports "$R" quick_exit | grep -c json)" 0

  # A server that ends (status 0) right after its first request, long after
  # its start; one that served two requests is not reported.
  for n in 1 2; do
    R=$(rules_dir serve$n-$arch)
    port=$((20000 + RANDOM % 20000))
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    SFEMU_WATCHDOG=1 "$QDIR/qemu-$arch" -quick-exit-report 2 -rules "$R" $(wd $arch) serve $port $n \
      > "$TMP/serve-o" 2>&1 &
    qpid=$!
    sleep 3   # past -quick-exit-report 2 since the start
    for i in $(seq $n); do
      for t in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port"; cat <&3 >/dev/null) 2>/dev/null && break; sleep 0.1; done
    done
    wait $qpid
    expect_grep "$arch serve $n: the server answered and ended" "^served $n$" "$TMP/serve-o"
    if [ $n = 1 ]; then
      f=$(reports "$R" quick_exit)
      expect_eq "$arch serve 1: a quick-exit report after its first request" "$(echo "$f" | grep -c json)" 1
      expect_grep "$arch serve 1: ... and its log line" \
        "watchdog: quick_exit \(tid [0-9]+\): exit_group\(0\) [0-9.]+ s after serving its first request \([0-9.]+ s after the start\)" \
        "$TMP/serve-o"
    else
      expect_eq "$arch serve 2: no quick-exit report" "$(reports "$R" quick_exit | grep -c json)" 0
    fi
  done

  # A daemon: the parent exits 0 at once (the service lives on), the child
  # later: only the child's end is the service's.
  R=$(rules_dir daemon-$arch)
  SFEMU_WATCHDOG=1 qemu $arch -rules "$R" $(wd $arch) daemon 0 > "$TMP/o" 2>&1 &
  qpid=$!
  wait $qpid
  for i in $(seq 50); do [ -n "$(reports "$R" quick_exit)" ] && break; sleep 0.2; done
  sleep 0.5
  f=$(reports "$R" quick_exit)
  expect_eq "$arch daemon: one quick-exit report" "$(echo "$f" | grep -c json)" 1
  [ -n "$f" ] && expect_json "$arch daemon: the child's, not the parent's" "$f" "r['pid'] != $qpid"
done

# Guest paths in reports and the record: a dynamically linked program in a
# root, and a program BusyBox's shell execs (qemu runs it from an fd).
ROOT=$TMP/root
mkdir -p "$ROOT/bin" "$ROOT/lib"
cp "$GDIR/probe-arm-dyn" "$ROOT/bin/probe"
cp -L /usr/arm-linux-gnueabi/lib/ld-linux.so.3 /usr/arm-linux-gnueabi/lib/libc.so.6 "$ROOT/lib/"
R=$(rules_dir names) OUT=$TMP/an-names
SFEMU_WATCHDOG=1 qemu arm -L "$ROOT" -rules "$R" -sfanalysis "$OUT" "$ROOT/bin/probe" hello 0 > "$TMP/o" 2>&1
[ -f "$OUT/analysis.json" ] &&
  expect_json "record: program and modules by guest path" "$OUT/analysis.json" \
    "r['program'] == '/bin/probe' and '/lib/libc.so.6' in [m['path'] for m in r['modules']] and all(m['path'].startswith('/bin/') or m['path'].startswith('/lib/') for m in r['modules'])" ||
  fail "record: no analysis record"
expect_grep "summary: modules by guest path" "^  0x[0-9a-f]+-0x[0-9a-f]+ /lib/libc.so.6 " "$OUT/summary.txt"
f=$(reports "$R" quick_exit)
[ -n "$f" ] && expect_json "report: exec_path and exec_maps by guest path" "$f" \
  "r['exec_path'] == '/bin/probe' and '/lib/libc.so.6' in [m['path'] for m in r['exec_maps']] and not any('$ROOT' in m['path'] or 'deleted' in m['path'] for m in r['exec_maps'])" ||
  fail "report: no quick-exit report for the dynamic probe"

bash "$SRC/scripts/debian-packages.sh" armel "$TMP/bb" busybox libc6 > "$TMP/deb.log" 2>&1 ||
  { fail "Debian busybox (armel) unpacked"; cat "$TMP/deb.log"; finish; }
cp "$(wd arm)" "$TMP/bb/bin/wd"
R=$(rules_dir execd) OUT=$TMP/an-execd
SFEMU_WATCHDOG=1 qemu arm -L "$TMP/bb" -rules "$R" -sfanalysis "$OUT" "$TMP/bb/bin/busybox" sh -c \
  'exec /bin/wd exitsys 5 /nothere' > "$TMP/o" 2>&1; rc=$?
expect_eq "exec'd program: its status" "$rc" 5
f=$(reports "$R" exit)
[ -n "$f" ] && expect_json "exec'd program: the report names /bin/wd, not /proc/self/fd" "$f" \
  "r['exec_path'] == '/bin/wd' and r['exit']['status'] == 5" ||
  fail "exec'd program: no exit report"
[ -f "$OUT/analysis.json" ] &&
  expect_json "the shell that exec'd: its own record, by guest path" "$OUT/analysis.json" \
    "r['program'] == '/bin/busybox' and r['why'] == 'execve'" ||
  fail "the shell that exec'd: no analysis record"
f=$(ls "$OUT"/analysis-*-exec1.json 2>/dev/null | head -1)
[ -n "$f" ] && expect_json "exec'd program: the record names /bin/wd" "$f" "r['program'] == '/bin/wd' and r['why'] == 'exit'" ||
  fail "exec'd program: no analysis record (analysis-PID-exec1.json)"
finish
