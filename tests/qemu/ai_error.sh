# AI repair on a failing syscall (SFEMU_AI_REPAIR_ON_ERROR=1): TCGETS on
# /dev/null fails with ENOTTY; the tool's ioctl fix is installed and the
# call runs again at the same point, through it: the guest prints
# "ioctl=4242", which only the retried call gives, with no restart.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SRC/tests/qemu/ai_lib.sh"
cat > "$TMP/ioctl.lua" <<'LUA'
function do_syscall(num, fd, req, argp)
  if req == 0x5401 or req == 0x540d then return 1, 4242 end -- TCGETS (MIPS: 0x540d)
  return 0, 0
end
LUA
TOOL=$TMP/tool.sh
ai_tool "$TOOL" "$TMP/ioctl.lua" ioctl
for arch in $AI_ARCHES; do
  R=$(ai_rules err-$arch)
  SFEMU_AI_REPAIR_ON_ERROR=1 ai_run "$R" $arch ioctl > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch guest exits 0" "$rc" "0"
  expect_grep "$arch the retried call's result reached the guest" "^ioctl=4242$" "$TMP/o"
  expect_no_grep "$arch the failure never reached the guest" "^ioctl failed" "$TMP/o"
  expect_no_grep "$arch no re-exec" "re-exec" "$TMP/o"
  expect_grep "$arch retry logged" "ai: .*: the retried call returned 4242" "$TMP/o"
  v=$(verdicts "$R")
  expect_eq "$arch one attempt" "$(echo "$v" | grep -c json)" "1"
  [ -n "$v" ] || continue
  expect_json "$arch verdict: syscall_error on ioctl ENOTTY, retried, validated" "$v" \
    "r['verdict'] == 'validated' and r['trigger']['kind'] == 'syscall_error' and r['trigger']['site'] == 'ioctl:ENOTTY' and r['retry'] == {'ret': 4242} and 'exported' in r"
  check "$arch snapshot valid against the schema" snapshot_valid "$(dirname "$v")/snapshot.json"
  expect_json "$arch snapshot: the failing syscall decoded" "$(dirname "$v")/snapshot.json" \
    "r['trigger']['kind'] == 'syscall_error' and r['syscall']['name'] == 'ioctl' and r['syscall']['errno'] == 'ENOTTY' and r['syscall']['ret'] < 0 and int(r['syscall']['args'][1], 16) in (0x5401, 0x540d) and r['syscall']['fd'] >= 0"

  # the same without SFEMU_AI_REPAIR_ON_ERROR, and with ioctl not chosen:
  # no syscall_error attempt (re-exec off, so the exit leaves it as is)
  for env in "SFEMU_AI_REPAIR_ON_ERROR=0" "SFEMU_AI_REPAIR_ON_ERROR=1 SFEMU_AI_REPAIR_SYSCALLS=open,openat" "SFEMU_AI_REPAIR_ON_ERROR=1 SFEMU_AI_REPAIR_ERRNOS=ENOENT"; do
    R=$(ai_rules "err-$arch-$RANDOM")
    env $env SFEMU_AI_REEXEC_ON_EXIT_FIX=0 bash -c "$(declare -f ai_run aifix); TOOL='$TOOL' QDIR='$QDIR' GDIR='$GDIR' ai_run '$R' $arch ioctl" > "$TMP/o" 2>&1; rc=$?
    expect_eq "$arch $env: the guest sees the failure" "$rc" "1"
    expect_grep "$arch $env: ENOTTY printed" "^ioctl failed: " "$TMP/o"
    expect_no_grep "$arch $env: no syscall_error attempt" "ai: syscall_error" "$TMP/o"
  done
done
finish
