# A Lua syntax or runtime error, or a runaway rule, is logged with file:line
# and the real syscall runs: the guest goes on.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
for arch in arm mipsel; do
  P=$(probe $arch)
  ppid=$$   # every qemu below is a child of this shell
  R=$(rules_dir err-$arch)
  printf 'function do_syscall(num)\n  return 1 +\nend\n' > "$R/getppid.lua"
  qemu $arch -rules "$R" $P getpid > "$TMP/o" 2>&1; rc=$?
  expect_grep "$arch syntax error names file:line" "getppid.lua:3:" "$TMP/o"
  expect_grep "$arch syntax error: real syscall ran" "getppid=$ppid$" "$TMP/o"
  expect_eq "$arch syntax error: guest exit code" "$rc" "0"
  printf 'function do_syscall(num)\n  local t = nil\n  return t.x\nend\n' > "$R/getppid.lua"
  qemu $arch -rules "$R" $P getpid > "$TMP/o" 2>&1; rc=$?
  expect_grep "$arch runtime error names file:line" "getppid.lua:3: attempt to index" "$TMP/o"
  expect_grep "$arch runtime error: real syscall ran" "getppid=$ppid$" "$TMP/o"
  expect_eq "$arch runtime error: guest exit code" "$rc" "0"
  printf 'function do_syscall(num)\n  error("deliberate")\nend\n' > "$R/getppid.lua"
  qemu $arch -rules "$R" $P getpid > "$TMP/o" 2>&1; rc=$?
  expect_grep "$arch error() is caught" "getppid.lua:2: deliberate" "$TMP/o"
  expect_eq "$arch error(): guest exit code" "$rc" "0"
  printf 'function do_syscall(num)\n  while true do end\nend\n' > "$R/getppid.lua"
  SFEMU_RULE_MAX_INSNS=2000000 timeout 60 "$QDIR/qemu-$arch" -rules "$R" $P loop 3 1 > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch runaway rule: guest finishes" "$rc" "0"
  expect_grep "$arch runaway rule is stopped and logged" "instruction budget" "$TMP/o"
  expect_eq "$arch runaway rule: every call ran the real syscall" "$(grep -cE "^loop [0-2] getppid=[0-9]+$" "$TMP/o")" "3"
  printf 'function do_syscall(num)\n  local t = {}\n  for i = 1, 1e9 do t[i] = string.rep("x", 1000) .. i end\nend\n' > "$R/getppid.lua"
  SFEMU_RULE_MAX_MEM=33554432 timeout 60 "$QDIR/qemu-$arch" -rules "$R" $P getpid > "$TMP/o" 2>&1; rc=$?
  expect_eq "$arch memory-hungry rule: guest finishes" "$rc" "0"
  expect_grep "$arch memory-hungry rule is stopped" "not enough memory" "$TMP/o"
  printf 'function do_syscall(num)\n  return "text"\nend\n' > "$R/getppid.lua"
  qemu $arch -rules "$R" $P getpid > "$TMP/o" 2>&1; rc=$?
  expect_grep "$arch a non-number result is reported" "returned a string, not a number" "$TMP/o"
  expect_grep "$arch non-number: real syscall ran" "getppid=$ppid$" "$TMP/o"
  expect_eq "$arch non-number: guest exit code" "$rc" "0"
  printf 'x = 1\n' > "$R/getppid.lua"
  qemu $arch -rules "$R" $P getpid > "$TMP/o" 2>&1; rc=$?
  expect_grep "$arch a rule without do_syscall is reported" "defines no function do_syscall" "$TMP/o"
  expect_grep "$arch no do_syscall: real syscall ran" "getppid=$ppid$" "$TMP/o"
  expect_eq "$arch no do_syscall: guest exit code" "$rc" "0"
done
finish
