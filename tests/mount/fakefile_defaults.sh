# The default fakeconfigs: text, dev (a device node given a record), socket.
# Device nodes, firmware or mknod'ed, show as the nodes they are and are
# never the host's devices (the mount is nodev); a record makes a path a
# fake resource served by the engine.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
R="$TMP/rootfs"; RULES="$TMP/rules"
mk_rootfs "$R"; mk_rules "$RULES"
mknod "$R/dev/zero" c 1 5           # the host's /dev/zero would give zeros
before=$(manifest "$R")
mnt "$R" --rules "$RULES" --cache-timeout 0.5
expect_eq "firmware device node shown as the node it is" "$(stat -c %F:%t:%T "$R/dev/zero")" "character special file:1:5"
check_fails "firmware /dev/zero cannot be opened as the host's device (nodev)" head -c 100 "$R/dev/zero"
# a record makes it a fake device served by the engine
echo "type=dev" > "$R/dev/zero.fakefile"
expect_eq "with a record: a fake device (a regular file)" "$(stat -c %F "$R/dev/zero")" "regular empty file"
expect_eq "dev default mode 0666" "$(stat -c %a "$R/dev/zero")" "666"
expect_eq "fake /dev/zero reads EOF" "$(head -c 100 "$R/dev/zero" | wc -c)" "0"
check "dev: write discarded with success" sh -c 'echo x > "$1"' sh "$R/dev/zero"
ioctl() { /usr/bin/python3 -c '
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
r = fcntl.ioctl(fd, int(sys.argv[2], 0), bytes(4))
print(len(r))' "$@"; }
expect_eq "dev: ioctl returns 0" "$(ioctl "$R/dev/zero" 0x80047801)" "4"
check_fails_with "ioctl on a real file is ENOTTY" "Inappropriate ioctl for device" \
    ioctl "$R/www/index.html" 0x80047801
expect_grep "dev: record updated on open" "^last_pid=[1-9]" "$R/dev/zero.fakefile"
rm "$R/dev/zero"
check "rm removes the fake device and its record" test ! -e "$R/dev/zero"
# mknod through the mount: the node it is, never the host's device
mknod "$R/dev/random2" c 1 8
check_fails "mknod'ed node cannot be opened as a host device (nodev)" head -c 16 "$R/dev/random2"
sleep 0.7   # past --cache-timeout: the kernel looks it up again
expect_eq "mknod'ed device keeps its type and number" "$(stat -c %F:%t:%T "$R/dev/random2")" "character special file:1:8"
check_fails "still not the host's random" head -c 16 "$R/dev/random2"
# text
echo "type=text" > "$R/tmp/t.fakefile"
expect_eq "text: size 0" "$(stat -c %s "$R/tmp/t")" "0"
expect_eq "text: write returns count" "$(printf abc | tee "$R/tmp/t" | wc -c)" "3"
expect_eq "text: read EOF" "$(cat "$R/tmp/t")" ""
# socket
echo "type=socket" > "$R/tmp/app.sock.fakefile"
expect_eq "socket: shown as a socket" "$(stat -c %F "$R/tmp/app.sock")" "socket"
umnt "$R"
expect_eq "firmware tree untouched" "$(manifest "$R")" "$before"
finish
