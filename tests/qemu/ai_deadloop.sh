# AI repair of a dead loop: the guest opens the missing /dev/sfemu_loop
# over and over; the watchdog's deadloop report starts an attempt, the fix
# is installed while the guest runs, and the loop ends at its next try.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SRC/tests/qemu/ai_lib.sh"
ai_open_tool
for arch in $AI_ARCHES; do
  R=$(ai_rules loop-$arch)
  ai_run "$R" $arch loop > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch guest exits 0" "$rc" "0"
  n=$(sed -n 's/^loop ended after \([0-9]*\) tries$/\1/p' "$TMP/o")
  check "$arch the loop ended soon after the report (${n:-no} tries)" test "${n:-999}" -le 40
  expect_grep "$arch deadloop report" "watchdog: deadloop \(tid [0-9]+\)" "$TMP/o"
  expect_no_grep "$arch no re-exec" "re-exec" "$TMP/o"
  v=$(verdicts "$R")
  expect_eq "$arch one attempt" "$(echo "$v" | grep -c json)" "1"
  [ -n "$v" ] && expect_json "$arch verdict validated on a deadloop" "$v" \
    "r['verdict'] == 'validated' and r['trigger']['kind'] == 'deadloop' and r['trigger']['report'].startswith('$R/cache/ctx/deadloop-')"
  [ -n "$v" ] && check "$arch snapshot valid against the schema" snapshot_valid "$(dirname "$v")/snapshot.json"
  [ -n "$v" ] && expect_json "$arch snapshot: the loop in the ring, no syscall" "$(dirname "$v")/snapshot.json" \
    "r['trigger']['kind'] == 'deadloop' and r['syscall'] is None and sum(1 for e in r['ctx'] if e.get('path') == '/dev/sfemu_loop') >= 20"
done
finish
