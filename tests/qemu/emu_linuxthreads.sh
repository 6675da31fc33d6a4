# LinuxThreads (docs/emulator.md): clone(CLONE_VM|CLONE_FS|CLONE_FILES|
# CLONE_SIGHAND|sig) without CLONE_THREAD.  Stock qemu answers EINVAL; with
# -rules the child runs, shares memory, has its own pid, takes kill, is
# waited for with __WCLONE and its exit signal reaches its parent.  Also
# the manager pattern (the first clone starts a manager that clones and
# reaps the workers).
source "$SFEMU_SRC/tests/lib.sh"
E=$(rules_dir empty)
basic_keys="shared_write_seen child_pid_differs clone_returned_child_pid
  child_ppid_is_parent wait_without_wclone_echild wnohang_while_running
  waitpid_wclone_returned_pid kill_reached_child exit_signal_reached_parent
  no_more_children"
for arch in arm mipsel; do
  "$QDIR/qemu-$arch-stock" "$GDIR/ltclone-$arch" basic > "$TMP/stock" 2>&1
  expect_grep "$arch stock: clone answers EINVAL" "clone failed: Invalid argument" "$TMP/stock"
done
for arch in $ARCHES; do
  G="$GDIR/ltclone-$arch"
  qemu $arch "$G" basic > "$TMP/plain" 2>&1
  expect_grep "$arch without -rules: stock behaviour" "clone failed: Invalid argument" "$TMP/plain"
  qemu $arch -rules "$E" -linuxthreads off "$G" basic > "$TMP/off" 2>&1
  expect_grep "$arch -linuxthreads off: EINVAL" "clone failed: Invalid argument" "$TMP/off"

  timeout 60 "$QDIR/qemu-$arch" -rules "$E" "$G" basic > "$TMP/b" 2>&1; rc=$?
  expect_eq "$arch basic: exit code" "$rc" 0
  for k in $basic_keys; do
    expect_grep "$arch basic: $k" "^$k=1$" "$TMP/b"
  done
  expect_grep "$arch basic: the child's exit status" "^exit_status=7$" "$TMP/b"
  expect_grep "$arch basic: logged" "LinuxThreads clone \(flags 0x[0-9a-f]+\)" "$TMP/b"

  timeout 60 "$QDIR/qemu-$arch" -linuxthreads on "$G" basic > "$TMP/on" 2>&1
  expect_grep "$arch -linuxthreads on without -rules" "^exit_status=7$" "$TMP/on"

  timeout 60 "$QDIR/qemu-$arch" -rules "$E" "$G" manager > "$TMP/m" 2>&1; rc=$?
  expect_eq "$arch manager: exit code" "$rc" 0
  for kv in manager_waited=1 manager_exit_status=5 manager_ppid_is_main=1 \
            workers_reaped=3 workers_reaped_by_pid=3 workers_status_sum=33 \
            workers_own_pids_parent_manager=1 worker_exit_signal_reached_manager=1 \
            main_got_no_exit_signal=1; do
    expect_grep "$arch manager: $kv" "^$kv$" "$TMP/m"
  done
done
finish
