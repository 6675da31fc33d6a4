# AI repair of an abnormal exit: the guest exits 1 because /dev/sfemu_missing
# cannot be opened; the tool's fix (open gives a descriptor) lands in
# syscall_override/, qemu re-execs the program, which then exits 0; the fix
# is validated and exported.  With SFEMU_AI_REEXEC_ON_EXIT_FIX=0 the guest
# ends as without AI and the fix stays for the next run.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SRC/tests/qemu/ai_lib.sh"
ai_open_tool
for arch in $AI_ARCHES; do
  R=$(ai_rules exit-$arch)
  ai_run "$R" $arch missing > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch guest exits 0 after the fix and the re-exec" "$rc" "0"
  expect_grep "$arch first run failed" "^cannot open /dev/sfemu_missing" "$TMP/o"
  expect_grep "$arch second run opened it" "^opened /dev/sfemu_missing" "$TMP/o"
  expect_grep "$arch re-exec logged" "ai: re-exec 1 of 3: " "$TMP/o"
  expect_grep "$arch the new process validates" "ai: re-exec 1: validating the fix of " "$TMP/o"
  v=$(verdicts "$R")
  expect_eq "$arch one attempt" "$(echo "$v" | grep -c json)" "1"
  [ -n "$v" ] || continue
  d=$(dirname "$v")
  id=$(basename "$d")
  expect_json "$arch verdict validated, exit trigger, re-exec 1, exported" "$v" \
    "r['verdict'] == 'validated' and r['trigger']['kind'] == 'exit' and r['trigger']['detail'] == 'exit_group(1)' and r['reexec'] == 1 and r['reexec_count'] == 1 and r['tool']['status'] == 'ok' and r['files'] == [{'file': 'patch/fix/syscall/openat.lua', 'installed': 'syscall_override/openat.lua', 'status': 'installed'}] and r['exported'] == 'cache/stable_rules/$id/syscall'"
  check "$arch exported to cache/stable_rules/<run_id>/syscall/" cmp "$TMP/fix.lua" "$R/cache/stable_rules/$id/syscall/openat.lua"
  check "$arch installed in syscall_override/" cmp "$TMP/fix.lua" "$R/syscall_override/openat.lua"
  expect_json "$arch snapshot: schema, trigger, syscall, arch names, rules, ring, registers" "$d/snapshot.json" \
    "r['schema'] == 'sfemu-ai-snapshot' and r['version'] == 1 and r['run_id'] == '$id' and r['trigger']['kind'] == 'exit' and r['syscall']['name'] == 'exit_group' and r['arch'] == '$arch' and 'openat' in r['syscalls_known'] and 'ioctl' in r['syscalls_known'] and 'entry.lua' in r['rules_active'] and r['ctx'][-1]['name'] == 'exit_group' and len(r['registers']) > 16 and r['report'].startswith('$R/cache/ctx/exit-') and r['reexec_count'] == 0 and '/dev/sfemu_missing' in r['fake_resources']['missing_paths']"
  check "$arch snapshot valid against docs/ai-snapshot.schema.json" snapshot_valid "$d/snapshot.json"
  expect_grep "$arch the tool got 3 arguments" "^tool args: 3 $d/snapshot.json $d/patch $R/config/env$" "$d/tool.log"
  expect_grep "$arch SFEMU_BINDIR is qemu's directory" "^tool bindir: $QDIR$" "$d/tool.log"
  check "$arch the pending hand-over was claimed" test ! -e "$d/pending"

  # re-exec off: the guest ends as without AI, the fix stays, unvalidated
  R=$(ai_rules noreexec-$arch)
  SFEMU_AI_REEXEC_ON_EXIT_FIX=0 ai_run "$R" $arch missing > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch no re-exec: exit status 1 kept" "$rc" "1"
  expect_no_grep "$arch no re-exec line" "re-exec" "$TMP/o"
  v=$(verdicts "$R")
  [ -n "$v" ] && expect_json "$arch no re-exec: verdict unvalidated, fix kept" "$v" \
    "r['verdict'] == 'unvalidated' and 'SFEMU_AI_REEXEC_ON_EXIT_FIX=0' in r['why']"
  check "$arch no re-exec: the fix stays for the next run" test -f "$R/syscall_override/openat.lua"
  timeout 60 "$QDIR/qemu-$arch" -rules "$R" "$(aifix $arch)" missing > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch the next run (AI off) opens it" "$rc" "0"
done

# Under the true root (-L), with relative -L, -rules and program paths: the
# re-exec starts where qemu was started, not in the root's "/".
mkdir -p "$TMP/tr/root/dev" "$TMP/tr/root/bin"
cp "$(aifix arm)" "$TMP/tr/root/bin/"
R=$(ai_rules tr/rules)
(cd "$TMP/tr" && SFEMU_AI_ENABLE=1 SFEMU_AI_AUTO_CONTINUE=1 SFEMU_AI_CMD="$TOOL" \
  timeout 120 "$QDIR/qemu-arm" -L root -rules rules root/bin/aifix-arm missing) > "$TMP/o" 2>&1; rc=$?
expect_eq "true root, relative paths: exit 0 after the re-exec" "$rc" "0"
expect_grep "true root: the re-run opened it" "^opened /dev/sfemu_missing" "$TMP/o"
finish
