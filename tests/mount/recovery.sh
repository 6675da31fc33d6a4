# The daemon killed mid-run: the mount answers ENOTCONN; the next
# sfemu-mount detects the stale mount, says so, cleans it and mounts again
# with the state kept; -u also cleans a stale mount.
. "$(dirname "$0")/common.sh"
R="$T/rootfs"
mk_rootfs "$R"
mnt "$R" --log "$T/log"
echo kept > "$R/tmp/state"
pid=$(sed -n 's/.*daemon pid \([0-9]*\) .*/\1/p' "$T/log" | tail -1)
[ -n "$pid" ] || fail "no daemon pid in the log"
# busy reader in the background while the daemon dies
( while cat "$R/www/index.html" >/dev/null 2>&1; do :; done ) &
reader=$!
sleep 0.2
kill -9 "$pid"
wait "$reader" || true
out=$(stat "$R" 2>&1 || true)
echo "$out" | grep -q "not connected" || fail "expected ENOTCONN, got: $out"; ok "dead daemon: ENOTCONN"
out=$("$SFEMU_MOUNT" --log "$T/log" "$R" 2>&1)
echo "$out" | grep -q "stale" || fail "no stale message: $out"; ok "stale mount reported: $out"
eq "$(cat "$R/tmp/state")" "kept" "remounted with the state kept"
eq "$(cat "$R/www/index.html")" "<html>fw</html>" "firmware visible again"
pid=$(sed -n 's/.*daemon pid \([0-9]*\) .*/\1/p' "$T/log" | tail -1)
kill -9 "$pid"; sleep 0.1
out=$("$SFEMU_MOUNT" -u "$R" 2>&1) || fail "-u on a stale mount: $out"
is_mounted "$R" && fail "still mounted"; ok "-u cleans a stale mount"
stat "$R/www/index.html" >/dev/null || fail "rootfs not reachable after cleanup"; ok "plain directory back"
# SIGTERM: the daemon unmounts and exits cleanly
mnt "$R" --log "$T/log"
pid=$(sed -n 's/.*daemon pid \([0-9]*\) .*/\1/p' "$T/log" | tail -1)
kill -TERM "$pid"
for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "daemon still running after SIGTERM"
is_mounted "$R" && fail "still mounted after SIGTERM"; ok "SIGTERM: unmounted, daemon exited"
eq "$(cat "$R/tmp/state" 2>/dev/null || echo absent)" "absent" "firmware tree never got the upper data"
