# The default fakeconfigs: text, dev (a device node given a record), socket.
# Device nodes, firmware or mknod'ed, show as the nodes they are and are
# never the host's devices (the mount is nodev); a record makes a path a
# fake resource served by the engine.
. "$(dirname "$0")/common.sh"
R="$T/rootfs"; RULES="$T/rules"
mk_rootfs "$R"; mk_rules "$RULES"
mknod "$R/dev/zero" c 1 5           # the host's /dev/zero would give zeros
before=$(manifest "$R")
mnt "$R" --rules "$RULES" --cache-timeout 0.5
eq "$(stat -c %F:%t:%T "$R/dev/zero")" "character special file:1:5" "firmware device node shown as the node it is"
must_fail "firmware /dev/zero cannot be opened as the host's device (nodev)" head -c 100 "$R/dev/zero"
# a record makes it a fake device served by the engine
echo "type=dev" > "$R/dev/zero.fakefile"
eq "$(stat -c %F "$R/dev/zero")" "regular empty file" "with a record: a fake device (a regular file)"
eq "$(stat -c %a "$R/dev/zero")" "666" "dev default mode 0666"
eq "$(head -c 100 "$R/dev/zero" | wc -c)" "0" "fake /dev/zero reads EOF"
echo x > "$R/dev/zero" || fail "write"; ok "dev: write discarded with success"
ioctl() { /usr/bin/python3 -c '
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
r = fcntl.ioctl(fd, int(sys.argv[2], 0), bytes(4))
print(len(r))' "$@"; }
eq "$(ioctl "$R/dev/zero" 0x80047801)" "4" "dev: ioctl returns 0"
must_fail "ioctl on a real file is ENOTTY" ioctl "$R/www/index.html" 0x80047801
grep -q "^last_pid=[1-9]" "$R/dev/zero.fakefile" || fail "record"; ok "dev: record updated on open"
rm "$R/dev/zero"
[ ! -e "$R/dev/zero" ] || fail "rm of a fake device"; ok "rm removes the fake device and its record"
# mknod through the mount: the node it is, never the host's device
mknod "$R/dev/random2" c 1 8
must_fail "mknod'ed node cannot be opened as a host device (nodev)" head -c 16 "$R/dev/random2"
sleep 0.7   # past --cache-timeout: the kernel looks it up again
eq "$(stat -c %F:%t:%T "$R/dev/random2")" "character special file:1:8" "mknod'ed device keeps its type and number"
must_fail "still not the host's random" head -c 16 "$R/dev/random2"
# text
echo "type=text" > "$R/tmp/t.fakefile"
eq "$(stat -c %s "$R/tmp/t")" "0" "text: size 0"
eq "$(printf abc | tee "$R/tmp/t" | wc -c)" "3" "text: write returns count"
eq "$(cat "$R/tmp/t")" "" "text: read EOF"
# socket
echo "type=socket" > "$R/tmp/app.sock.fakefile"
eq "$(stat -c %F "$R/tmp/app.sock")" "socket" "socket: shown as a socket"
umnt "$R"
eq "$(manifest "$R")" "$before" "firmware tree untouched"
