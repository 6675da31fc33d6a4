# POSIX semantics a firmware service relies on (issue 19; pjdfstest.sh covers
# the rest): hard links are one inode, an unlinked open file keeps working,
# device nodes and FIFOs made through the mount behave like files and show
# what they are, names of 252-255 bytes and paths near PATH_MAX work, modes
# are exact, copy-up keeps directory modes.
. "$(dirname "$0")/common.sh"
R="$T/rootfs"; U="$T/rootfs.sfemu/tree"
mk_rootfs "$R"
chmod 1777 "$R/tmp"; chmod 751 "$R/usr/lib"
long=$(printf 'n%.0s' $(seq 255))
echo "fw long" > "$R/www/$long"
echo applet > "$R/bin/one"; ln "$R/bin/one" "$R/bin/two"   # firmware hard links
before=$(manifest "$R")
mnt "$R"

# Hard links: one inode, one link count, one record; across a remount.
echo data > "$R/tmp/a"
ln "$R/tmp/a" "$R/tmp/b"
eq "$(stat -c %i "$R/tmp/a")" "$(stat -c %i "$R/tmp/b")" "hard links: same st_ino"
eq "$(stat -c %h:%h "$R/tmp/a" "$R/tmp/b" | tr '\n' ' ')" "2:2 2:2 " "hard links: shared nlink"
chmod 640 "$R/tmp/a"; chown 7:8 "$R/tmp/b"
eq "$(stat -c %a:%u:%g "$R/tmp/b")" "640:7:8" "chmod through one name, chown through the other: seen in both"
ln "$R/www/index.html" "$R/tmp/fwlink"
eq "$(stat -c %i "$R/www/index.html")" "$(stat -c %i "$R/tmp/fwlink")" "hard link of a firmware file (copied up first)"
# Firmware hard links: the name written to is the one copied up (the link
# breaks, as with overlayfs without its index).
eq "$(stat -c %i "$R/bin/one")" "$(stat -c %i "$R/bin/two")" "firmware hard links: one st_ino"
cat "$R/bin/two" >/dev/null
echo more >> "$R/bin/two"
eq "$(cat "$R/bin/two" | tr '\n' ' ')" "applet more " "write through the second firmware name"
eq "$(cat "$R/bin/one")" "applet" "the first firmware name keeps the firmware file"
[ -f "$U/bin/two" ] && [ ! -e "$U/bin/one" ] || fail "copied up the wrong name: $(ls "$U/bin")"
ok "copy-up copies the name written through"
umnt "$R"; mnt "$R"
eq "$(stat -c %a:%u:%g:%h "$R/tmp/a")" "640:7:8:2" "after a remount: the record shared by both names"
chmod 600 "$R/tmp/b"
eq "$(stat -c %a "$R/tmp/a")" "600" "and still one inode after a remount"
rm "$R/tmp/a"
eq "$(stat -c %a:%u:%h "$R/tmp/b"):$(cat "$R/tmp/b")" "600:7:1:data" "unlinking one name keeps the other"

# An unlinked open file keeps working (fstat used to give ESTALE).
out=$(python3 - "$R/tmp/gone" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b"before")
os.unlink(sys.argv[1])
st = os.fstat(fd)
os.write(fd, b"+after")
os.lseek(fd, 0, 0)
print(st.st_size, st.st_nlink, os.read(fd, 100).decode(), os.path.exists(sys.argv[1]))
PY
) || fail "unlinked open file: $out"
eq "$out" "6 0 before+after False" "an unlinked open file: fstat, write and read work"

# Device nodes and FIFOs made through the mount.
mknod "$R/dev/mtdblock3" b 31 3
mknod "$R/dev/ttyS9" c 4 73
mkfifo "$R/tmp/fifo"
eq "$(stat -c %F:%t:%T "$R/dev/mtdblock3" "$R/dev/ttyS9" | tr '\n' ' ')" \
   "block special file:1f:3 character special file:4:49 " "mknod: the type and rdev that were made"
for n in dev/mtdblock3 dev/ttyS9 tmp/fifo; do
    chmod 620 "$R/$n" && chown 5:6 "$R/$n" && touch -h -d "2003-04-05 06:07:08" "$R/$n" \
        || fail "$n: chmod/chown/utimensat"
    mv "$R/$n" "$R/$n.moved" || fail "$n: rename"
done
eq "$(stat -c %F:%a:%u:%g:%Y "$R/tmp/fifo.moved")" "fifo:620:5:6:$(date -d '2003-04-05 06:07:08' +%s)" "FIFO: chmod, chown, utimensat, rename"
eq "$(stat -c %F:%t:%T:%a:%u "$R/dev/ttyS9.moved")" "character special file:4:49:620:5" "device: chmod, chown, rename keep type and rdev"
must_fail "a device is never the host's (nodev)" head -c1 "$R/dev/ttyS9.moved"
[ ! -c "$U/dev/ttyS9.moved" ] && [ ! -u "$U/dev/ttyS9.moved" ] || fail "a real device node in the upper tree"
ok "no real device node in the upper tree"
umnt "$R"; mnt "$R"
eq "$(stat -c %F:%t:%T:%a:%u:%g "$R/dev/mtdblock3.moved")" "block special file:1f:3:620:5:6" "device node after a remount"
rm "$R/dev/mtdblock3.moved" "$R/dev/ttyS9.moved" "$R/tmp/fifo.moved" || fail "unlink of devices and FIFOs"
ok "unlink of devices and FIFOs"

# Names of 252-255 bytes; 256 is too long.
for n in 252 253 254 255; do
    name=$(printf 'x%.0s' $(seq $n))
    echo "$n" > "$R/tmp/$name" && mkdir "$R/tmp/d$name" 2>/dev/null || [ $n = 255 ] || fail "$n-byte names"
    eq "$(cat "$R/tmp/$name")" "$n" "a $n-byte name"
    rm "$R/tmp/$name" || fail "rm of a $n-byte name"
done
out=$(touch "$R/tmp/$(printf 'y%.0s' $(seq 256))" 2>&1) && fail "256-byte name accepted"
echo "$out" | grep -q "File name too long" || fail "256: $out"; ok "a 256-byte name: ENAMETOOLONG"
eq "$(cat "$R/www/$long")" "fw long" "a firmware file with a 255-byte name"
rm "$R/www/$long" || fail "rm of a firmware file with a 255-byte name"
[ ! -e "$R/www/$long" ] || fail "still there"
ls "$R/www" | grep -q "^n" && fail "listed after rm"
umnt "$R"; mnt "$R"
[ ! -e "$R/www/$long" ] || fail "a 255-byte lower name came back after a remount"
ok "deleting a lower 255-byte name: hidden, also after a remount"

# Paths near PATH_MAX can be created and removed.
comp=$(printf 'p%.0s' $(seq 200))
( cd "$R/tmp" && mkdir deep && cd deep &&
  for i in $(seq 19); do mkdir "$comp" && cd "$comp" || exit 1; done &&
  echo end > f && [ "$(cat f)" = end ] ) || fail "creating a path near PATH_MAX"
ok "a path of $(( 19 * 201 + 15 )) bytes below the mount point created"
rm -rf "$R/tmp/deep" || fail "removing a path near PATH_MAX"
[ ! -e "$R/tmp/deep" ] || fail "still there"; ok "and removed"

# Modes are exact: the caller's umask, never the daemon's.
out=$(cd "$R/tmp" && umask 0 && python3 -c '
import os
os.close(os.open("m642", os.O_CREAT | os.O_WRONLY, 0o642))
os.close(os.open("m4777", os.O_CREAT | os.O_WRONLY, 0o4777))
os.mkdir("d1777", 0o1777)
os.mknod("f606", 0o10606)' && stat -c %a m642 m4777 d1777 f606 | tr '\n' ' ')
eq "$out" "642 4777 1777 606 " "umask 0: modes as asked (no daemon umask)"
out=$(cd "$R/tmp" && umask 027 && touch u027 && mkdir du027 && stat -c %a u027 du027 | tr '\n' ' ')
eq "$out" "640 750 " "umask 027: the caller's umask applies"
eq "$(stat -c %a "$U/tmp/m4777")" "777" "the upper tree's copy carries no set-uid bit"
umnt "$R"; mnt "$R"
eq "$(stat -c %a "$R/tmp/m4777")" "4777" "set-uid kept in the journal across a remount"

# Copy-up keeps the parent directories' modes (a lower 1777 /tmp stays 1777).
eq "$(stat -c %a "$R/tmp")" "1777" "/tmp after copy-ups below it"
eq "$(stat -c %a "$U/tmp")" "1777" "its upper copy too"
mkdir -p "$R/usr/lib/new/sub"
eq "$(stat -c %a "$R/usr/lib"):$(stat -c %a "$U/usr/lib")" "751:751" "a copied-up parent keeps its mode (751)"
umnt "$R"
eq "$(manifest "$R")" "$before" "firmware tree untouched"
