# exit(1) after a missing file, and SIGSEGV in a named function: reports with
# the faulting pc, a backtrace, registers and the last syscalls.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SFEMU_SRC/tests/qemu/watchdog_lib.sh"
for arch in $WD_ARCHES; do
  R=$(rules_dir exit-$arch)
  SFEMU_WATCHDOG=1 timeout 60 "$QDIR/qemu-$arch" -rules "$R" $(wd $arch) exitmissing /etc/board.conf > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch guest exit status kept" "$rc" "1"
  expect_grep "$arch exit summary" "watchdog: exit \(tid [0-9]+\): exit_group\(1\)" "$TMP/o"
  f=$(reports "$R" exit)
  expect_eq "$arch one exit report" "$(echo "$f" | grep -c json)" "1"
  [ -n "$f" ] && expect_json "$arch exit report: status, missing file, last syscall" "$f" \
    "r['exit'] == {'syscall': 'exit_group', 'status': 1} and r['fake_resources']['missing_paths'] == ['/etc/board.conf'] and r['ctx'][-1]['name'] == 'exit_group' and not r['ctx'][-1]['done']"
  SFEMU_WATCHDOG=1 timeout 60 "$QDIR/qemu-$arch" -rules "$R" $(wd $arch) exitmissing /etc > "$TMP/o" 2>&1
  expect_eq "$arch exit(0): no new report" "$(reports "$R" exit | grep -c json)" "1"

  R=$(rules_dir crash-$arch)
  SFEMU_WATCHDOG=1 timeout 60 "$QDIR/qemu-$arch" -rules "$R" $(wd $arch) crash > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch killed by SIGSEGV" "$rc" "139"
  expect_grep "$arch signal summary" "watchdog: signal \(tid [0-9]+\): fatal signal 11 \(SIGSEGV\)" "$TMP/o"
  f=$(reports "$R" signal)
  expect_eq "$arch one signal report" "$(echo "$f" | grep -c json)" "1"
  [ -n "$f" ] || continue
  # The pc is inside wd_crash_here (from the guest's symbol table); its name
  # is checked once sfemu_syms_resolve resolves symbols ("bin!sym+0x..").
  read lo hi < <(${arch/mipsel/mips}-linux-gnu-nm -S "$(wd $arch)" 2>/dev/null | awk '/ wd_crash_here$/ {print $1, $2}')
  [ -z "$lo" ] && read lo hi < <(arm-linux-gnueabi-nm -S "$(wd $arch)" | awk '/ wd_crash_here$/ {print $1, $2}')
  expect_json "$arch signal report: SIGSEGV, pc inside wd_crash_here" "$f" \
    "r['signal'] == {'num': 11, 'name': 'SIGSEGV'} and 0x$lo <= int(r['pc'], 16) < 0x$lo + 0x$hi and r['backtrace'][0]['how'] == 'pc'"
  expect_json "$arch symbol name when resolved, else the bare pc" "$f" \
    "('wd_crash_here' in r['backtrace'][0]['sym']) if '!' in r['backtrace'][0]['sym'] else int(r['backtrace'][0]['sym'], 16) == int(r['pc'], 16)"
  expect_json "$arch all registers, exec maps, last syscall" "$f" \
    "len(r['registers']) > 16 and len(r['exec_maps']) >= 1 and r['ctx'][-1]['name'] == 'write'"
done
finish
