# The daemon killed mid-run: the mount answers ENOTCONN; the next
# sfemu-mount detects the stale mount, says so, cleans it and mounts again
# with the state kept; -u also cleans a stale mount.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
R="$TMP/rootfs"
mk_rootfs "$R"
mnt "$R" --log "$TMP/log"
echo kept > "$R/tmp/state"
pid=$(sed -n 's/.*daemon pid \([0-9]*\) .*/\1/p' "$TMP/log" | tail -1)
require "daemon pid in the log" test -n "$pid"
# busy reader in the background while the daemon dies
( while cat "$R/www/index.html" >/dev/null 2>&1; do :; done ) &
reader=$!
sleep 0.2
kill -9 "$pid"
wait "$reader" || true
check_fails_with "dead daemon: ENOTCONN" "not connected" stat "$R"
out=$("$SFEMU_MOUNT" --log "$TMP/log" "$R" 2>&1)
expect_match "stale mount reported: $out" "stale" "$out"
expect_eq "remounted with the state kept" "$(cat "$R/tmp/state")" "kept"
expect_eq "firmware visible again" "$(cat "$R/www/index.html")" "<html>fw</html>"
pid=$(sed -n 's/.*daemon pid \([0-9]*\) .*/\1/p' "$TMP/log" | tail -1)
kill -9 "$pid"; sleep 0.1
out=$("$SFEMU_MOUNT" -u "$R" 2>&1) || fail "-u on a stale mount: $out"
check_fails "-u cleans a stale mount" is_mounted "$R"
check "plain directory back" test -e "$R/www/index.html"
# SIGTERM: the daemon unmounts and exits cleanly
mnt "$R" --log "$TMP/log"
pid=$(sed -n 's/.*daemon pid \([0-9]*\) .*/\1/p' "$TMP/log" | tail -1)
kill -TERM "$pid"
for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check_fails "SIGTERM: the daemon exited" kill -0 "$pid"
check_fails "SIGTERM: unmounted" is_mounted "$R"
expect_eq "firmware tree never got the upper data" "$(cat "$R/tmp/state" 2>/dev/null || echo absent)" "absent"
finish
