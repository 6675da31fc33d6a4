# -shadowstack: the shadow call stack plugin against known call chains
# (tests/guest/callchain.c) on ARM, Thumb, mipsel, mips and aarch64:
# c_get_shadowstack() from a getppid rule, recursion and longjmp unwinding,
# the summary at exit, log=on, and qemu-arm-static's refusal.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1

SS="log=off,summary=on,unwind_limit=100,max_stack=100"
R=$(rules_dir ss)
# Every frame as "F <i> <callee> | <ret>" and the depth as "DEPTH <n>".
cat > "$R/getppid.lua" <<'LUA'
function do_syscall(num, ...)
  local st, err = c_get_shadowstack(true)
  if not st then
    c_log("SHADOW nil " .. tostring(err))
    return c_do_syscall(num, ...)
  end
  c_log("DEPTH " .. #st)
  for i, f in ipairs(st) do
    local callee = c_resolve_addr(f.callee, 4096)
    local ret = c_resolve_addr(f.ret)
    c_log(string.format("F %d %s | %s", i, callee, ret))
  end
  local plain = c_get_shadowstack()
  c_log("PLAIN " .. #plain .. " " .. tostring(plain[1] == (st[1] and st[1].ret)))
  return c_do_syscall(num, ...)
end
LUA

# callees of the frames logged in FILE, innermost first, symbol names only
callees() { sed -nE 's/.*F [0-9]+ ([^ ]*) \|.*/\1/p' "$1" | sed -E 's/.*!//; s/\+0x[0-9a-f]+$//' | tr '\n' ' '; }

for arch in arm arm-thumb mipsel mips aarch64; do
  q=${arch%-thumb}
  G="$GDIR/callchain-$arch"
  [ -x "$G" ] || { fail "$arch: $G not built"; continue; }
  O="$TMP/o-$arch"

  # 1. main -> level1 -> level2 -> level3 -> (syscall) -> getppid
  qemu $q -rules "$R" -shadowstack "$SS" "$G" > "$O" 2>&1
  expect_grep "$arch: the guest ran" "^chain=" "$O"
  chain=$(callees "$O")
  # glibc's syscall() (and on MIPS __mips_syscall6) may sit on top
  if echo "$chain" | grep -qE "^([^ ]*syscall[^ ]* ){0,2}level3 level2 level1 main "; then
    pass "$arch: callee chain innermost first: level3 level2 level1 main"
  else
    fail "$arch: callee chain is '$chain'"; sed 's/^/    | /' "$O" | head -20
  fi
  expect_grep "$arch: return addresses resolve into the callers" "F [0-9]+ [^ ]*level3[^ ]* \| [^ ]*level2\+0x" "$O"
  expect_grep "$arch: plain c_get_shadowstack() gives the same return addresses" "PLAIN [0-9]+ true" "$O"
  expect_grep "$arch: summary at exit" "shadowstack: summary: [0-9]+ calls" "$O"

  # 2. recursion: 30 deep, back to main, then getppid from main
  qemu $q -rules "$R" -shadowstack "$SS" "$G" recurse 30 > "$O" 2>&1
  expect_grep "$arch: recursion ran" "^after=" "$O"
  d1=$(grep -oE "DEPTH [0-9]+" "$O" | sed -n 1p | cut -d' ' -f2)
  d2=$(grep -oE "DEPTH [0-9]+" "$O" | sed -n 2p | cut -d' ' -f2)
  if [ -n "$d1" ] && [ "$d1" -ge 31 ]; then pass "$arch: 31+ frames at the bottom of the recursion ($d1)"; else fail "$arch: recursion depth '$d1'"; fi
  if [ -n "$d2" ] && [ "$d2" -le 7 ]; then pass "$arch: the stack unwound after the recursion ($d2 frames)"; else fail "$arch: depth after recursion '$d2'"; sed 's/^/    | /' "$O" | tail -12; fi
  n_rec=$(callees "$O" | tr ' ' '\n' | grep -c '^recurse$')
  [ "$n_rec" -ge 31 ] && pass "$arch: 31 recurse frames" || fail "$arch: $n_rec recurse frames"

  # 3. max_stack caps the depth (the oldest frames dropped)
  qemu $q -rules "$R" -shadowstack "log=off,summary=off,max_stack=8" "$G" recurse 30 > "$O" 2>&1
  d1=$(grep -oE "DEPTH [0-9]+" "$O" | sed -n 1p | cut -d' ' -f2)
  expect_eq "$arch: max_stack=8 caps the depth" "$d1" "8"
  expect_no_grep "$arch: summary=off prints no summary" "shadowstack: summary" "$O"

  # 4. longjmp from jump3 back into catcher, which returns to main: that
  #    return skips the jump frames (unwind_limit search); afterwards the
  #    stack from main's getppid holds neither catcher nor the jump frames.
  qemu $q -rules "$R" -shadowstack "$SS" "$G" jump > "$O" 2>&1
  expect_grep "$arch: longjmp guest ran" "^after=" "$O"
  chain=$(callees "$O")
  if echo "$chain" | grep -qE "jump|catcher"; then fail "$arch: frames left after longjmp + return: '$chain'"
  elif echo "$chain" | grep -qE "main "; then pass "$arch: the return after longjmp unwound the skipped frames ($chain)"
  else fail "$arch: no main frame after longjmp: '$chain'"; fi
  qemu $q -shadowstack "log=on,summary=off" "$G" jump > "$O" 2>&1
  expect_grep "$arch: log=on logs the unwind" "shadowstack: unwind [0-9]+ frames" "$O"
  # unwind_limit=2 does not reach catcher's frame: the jump frames stay
  qemu $q -rules "$R" -shadowstack "summary=off,unwind_limit=2" "$G" jump > "$O" 2>&1
  chain=$(callees "$O")
  if echo "$chain" | grep -q "jump3"; then pass "$arch: unwind_limit=2 stops the search (frames kept)"; else fail "$arch: unwind_limit=2: '$chain'"; fi

  # 5. summary names the hot path
  qemu $q -shadowstack "$SS" "$G" hot 2000 > "$O" 2>&1
  expect_grep "$arch: hot path first in the summary" \
    "shadowstack: +[0-9]+  [^ ]*hot_inner[^ ]* <- [^ ]*hot_outer[^ ]* <- [^ ]*main" "$O"
  top=$(grep -A1 "shadowstack: summary" "$O" | tail -1)
  if echo "$top" | grep -qE "^.*shadowstack: +(19[0-9][0-9]|2[0-9]{3})  [^ ]*hot_(inner|outer)"; then
    pass "$arch: the hottest path counted ~2000 times"
  else
    fail "$arch: top summary line '$top'"
  fi

  # 6. log=on logs each call with its depth
  qemu $q -shadowstack "log=on,summary=off" "$G" chain > "$O" 2>&1
  expect_grep "$arch: log=on logs calls" "shadowstack: call [^ ]*level2[^ ]* -> [^ ]*level3[^ ]* \(depth [0-9]+\)" "$O"
done

# A dynamically linked guest: calls through (bound) PLT stubs are recorded
# with the library function as the callee.
ROOT="$TMP/rootfs"
mkdir -p "$ROOT/bin" "$ROOT/lib"
cp "$GDIR/probe-arm-dyn" "$ROOT/bin/probe"
cp -L /usr/arm-linux-gnueabi/lib/ld-linux.so.3 /usr/arm-linux-gnueabi/lib/libc.so.6 "$ROOT/lib/"
qemu arm -L "$ROOT" -E LD_BIND_NOW=1 -rules "$R" -shadowstack "$SS" "$ROOT/bin/probe" getpid > "$TMP/o" 2>&1
expect_grep "dynamic: the PLT stub is skipped, the callee is libc's getppid" "F 1 libc\.so\.6!(__)?getppid \| probe!main\+0x" "$TMP/o"
expect_grep "dynamic: main below it" "F 2 probe!main \|" "$TMP/o"

# Threads: one stack per guest thread (vCPU), from the thread function down
# (one log line per stack: the threads' lines interleave).
RT=$(rules_dir ss-threads)
cat > "$RT/getppid.lua" <<'LUA'
function do_syscall(num, ...)
  local names = {}
  for i, f in ipairs(c_get_shadowstack(true)) do
    names[#names + 1] = (c_resolve_addr(f.callee, 4096):gsub("^.*!", ""))
  end
  c_log("STACK " .. table.concat(names, " "))
  return c_do_syscall(num, ...)
end
LUA
qemu arm -rules "$RT" -shadowstack "$SS" "$(probe arm)" threads 4 20 > "$TMP/o" 2>&1
expect_grep "threads: the guest ran" "^thread [0-9]+ getppid=[0-9]+$" "$TMP/o"
n=$(grep -cE "STACK .*thread_main.*start_thread" "$TMP/o")
[ "$n" -eq 80 ] && pass "threads: 80 stacks with thread_main <- start_thread" || fail "threads: $n stacks with thread_main <- start_thread"
expect_no_grep "threads: a thread's stack has no frames of main's thread" "STACK .*start_thread.* main( |$)" "$TMP/o"

# Without -shadowstack: nil, -ENOSYS (the number depends on the arch)
qemu arm -rules "$R" "$GDIR/callchain-arm" > "$TMP/o" 2>&1
expect_grep "no -shadowstack: c_get_shadowstack() is nil" "SHADOW nil -?[0-9]+" "$TMP/o"
expect_grep "no -shadowstack: the guest still runs" "^chain=" "$TMP/o"

# Bad option values are refused by name, before the guest runs.
qemu arm -shadowstack "max_stack=0" "$GDIR/callchain-arm" > "$TMP/o" 2>&1; rc=$?
check "max_stack=0: qemu exits with an error (status $rc)" test $rc -ne 0
expect_grep "max_stack=0: the error names the option, its value and range" \
  "-shadowstack max_stack '0': expected an integer from 1 to [0-9]+" "$TMP/o"
expect_no_grep "max_stack=0: the guest did not run" "^chain=" "$TMP/o"

# The static build has no plugins: says so, the guest runs anyway.
if [ -x "$QDIR/qemu-arm-static" ]; then
  "$QDIR/qemu-arm-static" -rules "$R" -shadowstack "$SS" "$GDIR/callchain-arm" > "$TMP/o" 2>&1
  expect_grep "static: -shadowstack is not available" "shadowstack needs TCG plugin support" "$TMP/o"
  expect_grep "static: the guest still runs" "^chain=" "$TMP/o"
  expect_grep "static: c_get_shadowstack() is nil" "SHADOW nil" "$TMP/o"
else
  fail "qemu-arm-static not built"
fi
# A fatal signal's watchdog report takes its backtrace from the shadow stack.
for arch in arm mipsel; do
  R=$(rules_dir crash-$arch)
  SFEMU_WATCHDOG=1 qemu $arch -rules "$R" -shadowstack log=off,summary=off,unwind_limit=10,max_stack=50 \
    "$GDIR/wd-$arch" crash > "$TMP/o" 2>&1
  f=$(ls "$R"/cache/ctx/signal-*.json 2>/dev/null | head -1)
  if [ -n "$f" ] && /usr/bin/python3 - "$f" <<'PY'
import json, sys
bt = json.load(open(sys.argv[1]))["backtrace"]
shadow = [b["sym"] for b in bt if b["how"] == "shadowstack"]
assert bt[0]["how"] == "pc" and "wd_crash_here" in bt[0]["sym"], bt[0]
assert shadow and "!main+" in shadow[0], shadow
PY
  then pass "$arch crash report: pc in wd_crash_here, shadow-stack caller main"
  else fail "$arch crash report backtrace"; cat "$TMP/o"; fi
done
finish
