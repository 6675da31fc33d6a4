# Editing or adding a rule takes effect in the running guest without a
# restart, and an unchanged rule is not re-read (its state persists).
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
for arch in arm mips; do
  P=$(probe $arch)
  R=$(rules_dir hot-$arch)
  mkdir -p "$R/syscall"
  echo 'n = 0 function do_syscall(num) n = n + 1 return 100 + n end' > "$R/syscall/getppid.lua"
  qemu $arch -rules "$R" $P loop 90 50 > "$TMP/o-$arch" 2>&1 &
  pid=$!
  sleep 1.2
  # add an override while it runs
  mkdir -p "$R/syscall_override"
  echo 'function do_syscall(num) return 7000 end' > "$R/syscall_override/getppid.lua.tmp"
  mv "$R/syscall_override/getppid.lua.tmp" "$R/syscall_override/getppid.lua"
  sleep 1.0
  # edit it in place
  echo 'function do_syscall(num) return 8000 end' > "$R/syscall_override/getppid.lua"
  sleep 0.8
  rm "$R/syscall_override/getppid.lua"
  wait $pid
  expect_grep "$arch starts with the first rule" "getppid=101$" "$TMP/o-$arch"
  expect_grep "$arch unchanged rule keeps state (counter grows)" "getppid=10[5-9]$" "$TMP/o-$arch"
  expect_grep "$arch added override takes effect" "getppid=7000$" "$TMP/o-$arch"
  expect_grep "$arch edited rule takes effect" "getppid=8000$" "$TMP/o-$arch"
  # after removal the original rule returns, its state intact (not recompiled)
  last=$(tail -1 "$TMP/o-$arch" | grep -oE '[0-9]+$')
  if [ "$last" -gt 110 ] && [ "$last" -lt 200 ]; then pass "$arch removed override: back to the cached rule with its state ($last)"; else fail "$arch after removal got $last"; fi
done
# A rule for a syscall that had none at start-up is picked up too (the
# watcher adds it to the hook map).
P=$(probe arm)
R=$(rules_dir hot-new)
echo 'function do_syscall() end' > "$R/uname.lua"
qemu arm -rules "$R" $P loop 40 50 > "$TMP/new" 2>&1 &
pid=$!
sleep 0.7
echo 'function do_syscall(num) return 4321 end' > "$R/getppid.lua"
wait $pid
expect_no_grep "no rule at start: real getppid" "^loop 0 getppid=4321" "$TMP/new"
expect_grep "a rule added for an unhooked syscall takes effect" "getppid=4321$" "$TMP/new"
finish
