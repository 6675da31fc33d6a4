# Fixes that must not stay: a rule with a syntax error and one named after
# no syscall are rejected before use and never loaded; a rule that makes
# things worse (a bogus descriptor: the guest then dies of SIGABRT in the
# re-exec'd run) is rolled back, and a replaced override comes back.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SRC/tests/qemu/ai_lib.sh"
printf 'function do_syscall(num\n  return 1, 0\nend\n' > "$TMP/syntax.lua"
cat > "$TMP/bogus.lua" <<'LUA'
function do_syscall(num, dirfd, path, flags)
  if c_read_string(path, 64) == "/dev/sfemu_missing" then return 1, 99 end
  return 0, 0
end
LUA
arch=arm
# syntax error
TOOL=$TMP/tool-syntax.sh
ai_tool "$TOOL" "$TMP/syntax.lua"
R=$(ai_rules syntax)
ai_run "$R" $arch missing > "$TMP/o" 2>&1; rc=$?
expect_eq "syntax: the guest ends as without AI" "$rc" "1"
v=$(verdicts "$R")
[ -n "$v" ] && expect_json "syntax: verdict rejected, says why" "$v" \
  "r['verdict'] == 'rejected' and r['why'].startswith('openat.lua: syntax: openat.lua:2:') and r['files'][0]['status'] == 'rejected'"
check "syntax: nothing installed" test ! -e "$R/syscall_override/openat.lua"
expect_no_grep "syntax: never loaded as a rule" "rule .*openat.lua" "$TMP/o"
expect_no_grep "syntax: no re-exec" "re-exec" "$TMP/o"

# not a syscall of the guest
TOOL=$TMP/tool-name.sh
ai_fix_open "$TMP/fix.lua"
ai_tool "$TOOL" "$TMP/fix.lua" no_such_call
R=$(ai_rules name)
ai_run "$R" $arch missing > "$TMP/o" 2>&1; rc=$?
expect_eq "bad name: the guest ends as without AI" "$rc" "1"
v=$(verdicts "$R")
[ -n "$v" ] && expect_json "bad name: rejected" "$v" \
  "r['verdict'] == 'rejected' and 'no syscall of this guest' in r['why']"
check "bad name: nothing installed" test -z "$(ls "$R/syscall_override")"

# worse: rolled back; an override it replaced is restored
TOOL=$TMP/tool-bogus.sh
ai_tool "$TOOL" "$TMP/bogus.lua"
R=$(ai_rules worse)
printf -- '-- the user'"'"'s own\nfunction do_syscall() end\n' > "$R/syscall_override/openat.lua"
cp "$R/syscall_override/openat.lua" "$TMP/mine.lua"
ai_run "$R" $arch missing > "$TMP/o" 2>&1; rc=$?
expect_eq "worse: the re-exec'd guest died of SIGABRT" "$rc" "134"
expect_grep "worse: logged" "ai: .*the guest died of signal 6 during the validation window: worse, rolled back \(1 file\)" "$TMP/o"
v=$(verdicts "$R")
[ -n "$v" ] && expect_json "worse: verdict rejected, rolled back, not exported" "$v" \
  "r['verdict'] == 'rejected' and 'signal 6' in r['why'] and 'exported' not in r"
check "worse: the replaced override is back" cmp "$TMP/mine.lua" "$R/syscall_override/openat.lua"
check "worse: its backup kept in the run" cmp "$TMP/mine.lua" "$(dirname "$v")/backup/openat.lua"
check "worse: nothing under stable_rules" test -z "$(ls "$R/cache/stable_rules")"

# The c_ai_* functions are every rule's (generated ones too): none of them
# reads, copies or runs anything outside an AI run's directory.
R=$(ai_rules hostile)
mkdir -p "$R/syscall" "$R/cache/ai_runs/x/patch/fix/syscall"
echo secret-host-file > "$TMP/host.txt"
cat > "$R/syscall/getpid.lua" <<LUA
function do_syscall(num)
  for _, t in ipairs({
      { "check", function() return c_ai_check_rule("$TMP/host.txt") end },
      { "check_dotdot", function() return c_ai_check_rule("$R/cache/ai_runs/x/patch/fix/syscall/../../../../../../host.lua") end },
      { "install", function() return c_ai_install("$R/cache/ai_runs/x", "$TMP/host.txt", "open") end },
      { "install_dir", function() return c_ai_install("$TMP", "$TMP/host.txt", "open") end },
      { "write", function() return c_ai_write("$TMP", "x.lua", "x") end },
      { "tool", function() return c_ai_run_tool("$TMP") end } }) do
    local ok, err = pcall(t[2])
    c_log("hostile " .. t[1] .. ": " .. tostring(ok) .. " " .. tostring(err))
  end
end
LUA
SFEMU_AI_ENABLE=1 SFEMU_AI_CMD="touch $TMP/ran" timeout 60 "$QDIR/qemu-$arch" -rules "$R" "$(probe $arch)" getpid > "$TMP/o" 2>&1
for t in check check_dotdot install install_dir tool; do
  expect_grep "hostile rule: c_ai_ $t refused" "hostile $t: false .*(not a rule file|not an AI run directory)" "$TMP/o"
done
expect_grep "hostile rule: c_ai_write refused" "hostile write: true nil" "$TMP/o"
check "hostile rule: nothing written outside a run" test ! -e "$TMP/x.lua"
check "hostile rule: nothing copied" test -z "$(ls -A "$R/syscall_override")"
check "hostile rule: no tool ran" test ! -e "$TMP/ran"
finish
