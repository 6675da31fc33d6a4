# AI repair of an idle_deadloop: the guest spins in its own code with no
# syscall (between tries to open the missing /dev/sfemu_spin).  The attempt
# runs off the guest thread (it makes no syscall); the fix installed, the
# guest's next open succeeds and the window validates it.  A fix that does
# not help: the thread spins again, the next idle report rejects it.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SRC/tests/qemu/ai_lib.sh"
cat > "$TMP/fix.lua" <<'LUA'
function do_syscall(num, dirfd, path, flags)
  if c_read_string(path, 64) == "/dev/sfemu_spin" then
    return 1, c_open_host("/dev/zero", 0)
  end
  return 0, 0
end
LUA
printf 'function do_syscall(num)\n  return 0, 0\nend\n' > "$TMP/noop.lua"
ai_tool "$TMP/tool-fix.sh" "$TMP/fix.lua"
ai_tool "$TMP/tool-noop.sh" "$TMP/noop.lua"
for arch in $AI_ARCHES; do
  case $arch in arm) n=600 ;; *) n=400 ;; esac # about 1 s a round
  R=$(ai_rules idle-$arch)
  SFEMU_AI_ENABLE=1 SFEMU_AI_AUTO_CONTINUE=1 SFEMU_AI_CMD="$TMP/tool-fix.sh" \
    timeout 120 "$QDIR/qemu-$arch" -rules "$R" -rules-idle-ms 300 "$(aifix $arch)" spin $n > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch guest exits 0" "$rc" "0"
  expect_grep "$arch the first round's open succeeded" "^spin ended after 1 rounds$" "$TMP/o"
  expect_grep "$arch idle report" "watchdog: idle_deadloop \(tid [0-9]+\)" "$TMP/o"
  expect_grep "$arch attempt off the guest thread" "ai: idle_deadloop \(thread [0-9]+ runs guest code with no syscall\): attempt " "$TMP/o"
  v=$(verdicts "$R")
  expect_eq "$arch one attempt" "$(echo "$v" | grep -c json)" "1"
  [ -n "$v" ] || continue
  d=$(dirname "$v")
  expect_json "$arch verdict validated, exported" "$v" \
    "r['verdict'] == 'validated' and r['trigger']['kind'] == 'idle_deadloop' and r['files'][0]['status'] == 'installed' and r['exported'] == 'cache/stable_rules/$(basename "$d")/syscall'"
  check "$arch snapshot valid against the schema" snapshot_valid "$d/snapshot.json"
  expect_json "$arch snapshot: no registers (the thread runs), the arch's names" "$d/snapshot.json" \
    "r['trigger']['kind'] == 'idle_deadloop' and r['registers'] is None and r['syscall'] is None and 'openat' in r['syscalls_known'] and r['report'].startswith('$R/cache/ctx/idle_deadloop-')"

  R=$(ai_rules idle-noop-$arch)
  SFEMU_AI_ENABLE=1 SFEMU_AI_AUTO_CONTINUE=1 SFEMU_AI_CMD="$TMP/tool-noop.sh" SFEMU_AI_REEXEC_ON_EXIT_FIX=0 SFEMU_AI_VALIDATE_MS=10000 \
    timeout 120 "$QDIR/qemu-$arch" -rules "$R" -rules-idle-ms 300 "$(aifix $arch)" spin $n > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch no help: the guest ends as without AI" "$rc" "2"
  v=$(verdicts "$R" | head -1)
  [ -n "$v" ] && expect_json "$arch no help: rejected, the trigger recurred, rolled back" "$v" \
    "r['verdict'] == 'rejected' and r['trigger']['kind'] == 'idle_deadloop' and 'the trigger recurred' in r['why'] and r['rolled_back'] == 1"
done
finish
