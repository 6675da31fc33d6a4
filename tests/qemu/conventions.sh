# Return conventions: two values = V1 (action, ret), one = V2 result, none =
# run the real syscall; c_do_syscall runs the real syscall without re-entering
# the rules; entry.lua/finish.lua around every syscall.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
for arch in arm mipsel; do
  P=$(probe $arch)
  ppid=$$   # every qemu below is a child of this shell
  R=$(rules_dir v1-$arch)
  echo 'function do_syscall(num) return 1, 4242 end' > "$R/getppid.lua"
  qemu $arch -rules "$R" $P getpid > "$TMP/o" 2>&1
  expect_grep "$arch V1 (1, ret) returns ret" "getppid=4242$" "$TMP/o"
  echo 'function do_syscall(num) return 0, 4242 end' > "$R/getppid.lua"
  qemu $arch -rules "$R" $P getpid > "$TMP/o" 2>&1
  expect_grep "$arch V1 (0, x) runs the real syscall" "getppid=$ppid$" "$TMP/o"
  echo 'function do_syscall(num) return 77 end' > "$R/getppid.lua"
  qemu $arch -rules "$R" $P getpid > "$TMP/o" 2>&1
  expect_grep "$arch V2 one value is the result" "getppid=77$" "$TMP/o"
  echo 'function do_syscall(num, ...) return c_do_syscall(num, ...) + 1 end' > "$R/getppid.lua"
  qemu $arch -rules "$R" $P getpid > "$TMP/o" 2>&1
  expect_grep "$arch V2 c_do_syscall result modified" "getppid=$((ppid + 1))$" "$TMP/o"
  echo 'function do_syscall(num) c_log("seen") end' > "$R/getppid.lua"
  qemu $arch -rules "$R" $P getpid > "$TMP/o" 2>&1
  expect_grep "$arch no value runs the real syscall" "getppid=$ppid$" "$TMP/o"
  # c_do_syscall does not re-enter: a rule calling its own syscall once
  echo 'n=0 function do_syscall(num, ...) n=n+1 local r=c_do_syscall(num, ...) c_log("depth "..n) return r end' > "$R/getppid.lua"
  qemu $arch -rules "$R" $P getpid > "$TMP/o" 2>&1
  expect_eq "$arch c_do_syscall never re-enters the rule" "$(grep -c 'depth' "$TMP/o")" "1"
  # c_do_syscall of another syscall number
  echo 'function do_syscall(num) return c_do_syscall(c_syscall_num("getpid")) end' > "$R/getppid.lua"
  qemu $arch -rules "$R" $P getpid > "$TMP/o" 2>&1
  pid=$(grep -oE '^getpid=[0-9]+' "$TMP/o" | cut -d= -f2)
  expect_grep "$arch c_do_syscall of another number" "getppid=$pid$" "$TMP/o"
  # entry/finish
  R2=$(rules_dir ef-$arch)
  cat > "$R2/entry.lua" <<'LUA'
seen = 0
function entry(num, name, a1)
  seen = seen + 1
  if name == "getppid" then return 1, 555 end
end
LUA
  cat > "$R2/finish.lua" <<'LUA'
function finish(num, name, ret, intercepted)
  if name == "getpid" then c_log("finish getpid ret=" .. ret .. " intercepted=" .. tostring(intercepted)) return 999 end
  if name == "getppid" then c_log("finish getppid intercepted=" .. tostring(intercepted)) end
end
LUA
  echo 'function do_syscall(num) c_log("rule must not run") return 1 end' > "$R2/getppid.lua"
  qemu $arch -rules "$R2" $P getpid > "$TMP/o" 2>&1
  expect_grep "$arch entry.lua can intercept" "getppid=555$" "$TMP/o"
  expect_no_grep "$arch intercepted in entry skips the rule" "rule must not run" "$TMP/o"
  expect_grep "$arch finish.lua replaces a result" "^getpid=999 " "$TMP/o"
  expect_grep "$arch finish.lua sees intercepted" "finish getppid intercepted=true" "$TMP/o"
  expect_grep "$arch finish.lua sees the real ret" "finish getpid ret=[0-9]+ intercepted=false" "$TMP/o"
done
# The seed's own entry/finish (ring recording) leave behaviour unchanged.
P=$(probe arm)
cp -r "$SRC/rules_examples" "$TMP/rx"     # it writes reports under cache/
qemu arm -rules "$TMP/rx" $P hello 5 > "$TMP/o" 2>&1; rc=$?
expect_eq "rules_examples entry/finish keep the guest's exit code" "$rc" "5"
expect_grep "rules_examples entry/finish keep output" "hello from the guest" "$TMP/o"
finish
