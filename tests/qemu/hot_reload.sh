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

# The watcher (inotify) follows every way a rule changes: override dirs of
# SFEMU_RULES_OVERRIDE_DIR that appear after start-up (absolute, relative),
# a directory removed with its rules, and a rewrite that keeps the file's
# size and mtime (only its content tells).  SFEMU_RULES_CHECK_MS (the
# polling fallback) is an hour here: only inotify can be seeing these.
export SFEMU_RULES_CHECK_MS=3600000
P=$(probe arm)
R=$(rules_dir hot-ovr)
mkdir -p "$R/syscall"
echo 'function do_syscall(num) return 6001 end' > "$R/syscall/getppid.lua"
SFEMU_RULES_OVERRIDE_DIR="ovr:$TMP/abs-ovr/deep" qemu arm -rules "$R" $P loop 60 50 > "$TMP/ovr" 2>&1 &
pid=$!
sleep 0.6
mkdir -p "$TMP/abs-ovr/deep"
echo 'function do_syscall(num) return 6002 end' > "$TMP/abs-ovr/deep/getppid.lua"
sleep 0.5
mkdir "$R/ovr"
echo 'function do_syscall(num) return 6003 end' > "$R/ovr/getppid.lua"
sleep 0.5
rm -r "$R/ovr"
sleep 0.5
echo 'function do_syscall(num) return 6004 end' > "$TMP/abs-ovr/deep/getppid.lua"
cp -p "$TMP/abs-ovr/deep/getppid.lua" "$TMP/stamp"
sleep 0.5
echo 'function do_syscall(num) return 6005 end' > "$TMP/abs-ovr/deep/getppid.lua"
touch -m -r "$TMP/stamp" "$TMP/abs-ovr/deep/getppid.lua" # same size, same mtime
wait $pid
expect_grep "rule before the override dirs exist" "^loop 0 getppid=6001$" "$TMP/ovr"
expect_grep "absolute override dir created later" "getppid=6002$" "$TMP/ovr"
expect_grep "relative override dir created later wins" "getppid=6003$" "$TMP/ovr"
expect_grep "override dir removed: the next one is back" "getppid=6002.*|getppid=6004$" "$TMP/ovr"
expect_grep "a rewrite keeping size and mtime is seen" "getppid=6005$" "$TMP/ovr"
# in order, each value once in a row: 6001 6002 6003 6002 6004 6005
order=$(grep -oE '[0-9]+$' "$TMP/ovr" | uniq | tr '\n' ' ')
expect_eq "override changes in order" "$order" "6001 6002 6003 6002 6004 6005 "

# A guest that closes every fd, and a forked child: both keep hot reload
# (the watcher's inotify fd is in its own fd table; a child starts its own).
for how in closefds fork; do
  R=$(rules_dir hot-$how)
  echo 'function do_syscall(num) return 7001 end' > "$R/getppid.lua"
  qemu arm -rules "$R" $P loop 30 50 $how > "$TMP/$how" 2>&1 &
  pid=$!
  sleep 0.8
  echo 'function do_syscall(num) return 7002 end' > "$R/getppid.lua.new"
  mv "$R/getppid.lua.new" "$R/getppid.lua"
  wait $pid
  expect_grep "$how: the first rule" "^loop 0 getppid=7001$" "$TMP/$how"
  expect_grep "$how: an edit still takes effect" "getppid=7002$" "$TMP/$how"
done
# ... and the child's watcher holds none of the guest's fds: a pipe's write
# end closed by parent and child reads EOF while the child runs on.
R=$(rules_dir hot-pipe)
echo 'function do_syscall(num) return c_do_syscall(num) end' > "$R/getppid.lua"
qemu arm -rules "$R" $P pipe_eof > "$TMP/pipe" 2>&1
expect_grep "no guest fd kept open by the watcher" "^pipe read=0 " "$TMP/pipe"
finish
