# SFEMU_REEXEC_MAX: a fix that does not help (the guest exits 1 again) is
# rejected in the re-exec'd run, which tries again; at the limit no further
# attempt is made and the guest ends as without AI.  The count survives the
# re-execs (SFEMU_REEXEC_COUNT).
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SRC/tests/qemu/ai_lib.sh"
printf 'function do_syscall(num)\n  return 0, 0\nend\n' > "$TMP/noop.lua"
TOOL=$TMP/tool.sh
ai_tool "$TOOL" "$TMP/noop.lua"
for arch in $AI_ARCHES; do
  R=$(ai_rules max-$arch)
  SFEMU_REEXEC_MAX=2 ai_run "$R" $arch missing > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch the guest ends with its own status" "$rc" "1"
  expect_eq "$arch the guest ran 3 times" "$(grep -c '^cannot open /dev/sfemu_missing' "$TMP/o")" "3"
  expect_grep "$arch re-exec 2 of 2" "ai: re-exec 2 of 2: " "$TMP/o"
  expect_no_grep "$arch no third re-exec" "ai: re-exec 3" "$TMP/o"
  expect_grep "$arch refusal logged" "ai: exit \(exit_group\(1\)\): no attempt: re-exec refused: 2 re-execs already \(SFEMU_REEXEC_MAX=2\)" "$TMP/o"
  v=$(verdicts "$R")
  expect_eq "$arch two attempts" "$(echo "$v" | grep -c json)" "2"
  for f in $v; do
    expect_json "$arch $(basename "$(dirname "$f")"): rejected, the trigger recurred" "$f" \
      "r['verdict'] == 'rejected' and 'the trigger recurred' in r['why'] and r['rolled_back'] == 1"
  done
  check "$arch nothing left in syscall_override/" test -z "$(ls "$R/syscall_override")"
  SFEMU_REEXEC_MAX=0 ai_run "$R" $arch missing > "$TMP/o" 2>&1; rc=$?
  expect_grep "$arch SFEMU_REEXEC_MAX=0: no attempt" "no attempt: re-exec refused: 0 re-execs already \(SFEMU_REEXEC_MAX=0\)" "$TMP/o"
done
finish
