# The default fakeconfigs: text, dev (firmware device nodes and mknod), socket.
. "$(dirname "$0")/common.sh"
R="$T/rootfs"; RULES="$T/rules"
mk_rootfs "$R"; mk_rules "$RULES"
mknod "$R/dev/zero" c 1 5           # the host's /dev/zero would give zeros
before=$(manifest "$R")
mnt "$R" --rules "$RULES" --cache-timeout 0.5
eq "$(stat -c %F "$R/dev/zero")" "regular empty file" "firmware device node shown as a regular file"
eq "$(stat -c %a "$R/dev/zero")" "666" "dev default mode 0666"
eq "$(head -c 100 "$R/dev/zero" | wc -c)" "0" "firmware /dev/zero is fake (EOF), not the host device"
echo x > "$R/dev/zero" || fail "write"; ok "dev: write discarded with success"
ioctl() { /usr/bin/python3 -c '
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
r = fcntl.ioctl(fd, int(sys.argv[2], 0), bytes(4))
print(len(r))' "$@"; }
eq "$(ioctl "$R/dev/zero" 0x80047801)" "4" "dev: ioctl returns 0"
must_fail "ioctl on a real file is ENOTTY" ioctl "$R/www/index.html" 0x80047801
grep -q "^type=dev$" "$R/dev/zero.fakefile" || fail "record"; ok "dev: record written on first open"
# mknod through the mount: a fake device, never the host's
mknod "$R/dev/random2" c 1 8
must_fail "fresh mknod node cannot be opened as a host device (nodev)" head -c 16 "$R/dev/random2"
sleep 0.7   # the kernel revalidates the entry after --cache-timeout
eq "$(head -c 16 "$R/dev/random2" | wc -c)" "0" "mknod c 1 8 gives a fake device, not the host's random"
eq "$(stat -c %F "$R/dev/random2")" "regular empty file" "mknod device shown as a regular file"
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
