# POSIX semantics a firmware service relies on (issue 19; pjdfstest.sh covers
# the rest): hard links are one inode, an unlinked open file keeps working,
# device nodes and FIFOs made through the mount behave like files and show
# what they are, names of 252-255 bytes and paths near PATH_MAX work, modes
# are exact, copy-up keeps directory modes.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
R="$TMP/rootfs"; U="$TMP/rootfs.sfemu/tree"
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
expect_eq "hard links: same st_ino" "$(stat -c %i "$R/tmp/a")" "$(stat -c %i "$R/tmp/b")"
expect_eq "hard links: shared nlink" "$(stat -c %h:%h "$R/tmp/a" "$R/tmp/b" | tr '\n' ' ')" "2:2 2:2 "
chmod 640 "$R/tmp/a"; chown 7:8 "$R/tmp/b"
expect_eq "chmod through one name, chown through the other: seen in both" "$(stat -c %a:%u:%g "$R/tmp/b")" "640:7:8"
ln "$R/www/index.html" "$R/tmp/fwlink"
expect_eq "hard link of a firmware file (copied up first)" "$(stat -c %i "$R/www/index.html")" "$(stat -c %i "$R/tmp/fwlink")"
# Firmware hard links: the name written to is the one copied up (the link
# breaks, as with overlayfs without its index).
expect_eq "firmware hard links: one st_ino" "$(stat -c %i "$R/bin/one")" "$(stat -c %i "$R/bin/two")"
cat "$R/bin/two" >/dev/null
echo more >> "$R/bin/two"
expect_eq "write through the second firmware name" "$(cat "$R/bin/two" | tr '\n' ' ')" "applet more "
expect_eq "the first firmware name keeps the firmware file" "$(cat "$R/bin/one")" "applet"
[ -f "$U/bin/two" ] && [ ! -e "$U/bin/one" ] || fatal "copied up the wrong name: $(ls "$U/bin")"
pass "copy-up copies the name written through"
umnt "$R"; mnt "$R"
expect_eq "after a remount: the record shared by both names" "$(stat -c %a:%u:%g:%h "$R/tmp/a")" "640:7:8:2"
chmod 600 "$R/tmp/b"
expect_eq "and still one inode after a remount" "$(stat -c %a "$R/tmp/a")" "600"
rm "$R/tmp/a"
expect_eq "unlinking one name keeps the other" "$(stat -c %a:%u:%h "$R/tmp/b"):$(cat "$R/tmp/b")" "600:7:1:data"

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
) || fatal "unlinked open file: $out"
expect_eq "an unlinked open file: fstat, write and read work" "$out" "6 0 before+after False"

# Device nodes and FIFOs made through the mount.
mknod "$R/dev/mtdblock3" b 31 3
mknod "$R/dev/ttyS9" c 4 73
mkfifo "$R/tmp/fifo"
expect_eq "mknod: the type and rdev that were made" "$(stat -c %F:%t:%T "$R/dev/mtdblock3" "$R/dev/ttyS9" | tr '\n' ' ')" "block special file:1f:3 character special file:4:49 "
for n in dev/mtdblock3 dev/ttyS9 tmp/fifo; do
    chmod 620 "$R/$n" && chown 5:6 "$R/$n" && touch -h -d "2003-04-05 06:07:08" "$R/$n" \
        || fatal "$n: chmod/chown/utimensat"
    mv "$R/$n" "$R/$n.moved" || fatal "$n: rename"
done
expect_eq "FIFO: chmod, chown, utimensat, rename" "$(stat -c %F:%a:%u:%g:%Y "$R/tmp/fifo.moved")" "fifo:620:5:6:$(date -d '2003-04-05 06:07:08' +%s)"
expect_eq "device: chmod, chown, rename keep type and rdev" "$(stat -c %F:%t:%T:%a:%u "$R/dev/ttyS9.moved")" "character special file:4:49:620:5"
check_fails "a device is never the host's (nodev)" head -c1 "$R/dev/ttyS9.moved"
[ ! -c "$U/dev/ttyS9.moved" ] && [ ! -u "$U/dev/ttyS9.moved" ] || fatal "a real device node in the upper tree"
pass "no real device node in the upper tree"
umnt "$R"; mnt "$R"
expect_eq "device node after a remount" "$(stat -c %F:%t:%T:%a:%u:%g "$R/dev/mtdblock3.moved")" "block special file:1f:3:620:5:6"
rm "$R/dev/mtdblock3.moved" "$R/dev/ttyS9.moved" "$R/tmp/fifo.moved" || fatal "unlink of devices and FIFOs"
pass "unlink of devices and FIFOs"

# Names of 252-255 bytes; 256 is too long.
for n in 252 253 254 255; do
    name=$(printf 'x%.0s' $(seq $n))
    echo "$n" > "$R/tmp/$name" && mkdir "$R/tmp/d$name" 2>/dev/null || [ $n = 255 ] || fatal "$n-byte names"
    expect_eq "a $n-byte name" "$(cat "$R/tmp/$name")" "$n"
    rm "$R/tmp/$name" || fatal "rm of a $n-byte name"
done
out=$(touch "$R/tmp/$(printf 'y%.0s' $(seq 256))" 2>&1) && fatal "256-byte name accepted"
echo "$out" | grep -q "File name too long" || fatal "256: $out"; pass "a 256-byte name: ENAMETOOLONG"
expect_eq "a firmware file with a 255-byte name" "$(cat "$R/www/$long")" "fw long"
rm "$R/www/$long" || fatal "rm of a firmware file with a 255-byte name"
[ ! -e "$R/www/$long" ] || fatal "still there"
ls "$R/www" | grep -q "^n" && fatal "listed after rm"
umnt "$R"; mnt "$R"
[ ! -e "$R/www/$long" ] || fatal "a 255-byte lower name came back after a remount"
pass "deleting a lower 255-byte name: hidden, also after a remount"

# Paths near PATH_MAX can be created and removed.
comp=$(printf 'p%.0s' $(seq 200))
( cd "$R/tmp" && mkdir deep && cd deep &&
  for i in $(seq 19); do mkdir "$comp" && cd "$comp" || exit 1; done &&
  echo end > f && [ "$(cat f)" = end ] ) || fatal "creating a path near PATH_MAX"
pass "a path of $(( 19 * 201 + 15 )) bytes below the mount point created"
rm -rf "$R/tmp/deep" || fatal "removing a path near PATH_MAX"
[ ! -e "$R/tmp/deep" ] || fatal "still there"; pass "and removed"

# Modes are exact: the caller's umask, never the daemon's.
out=$(cd "$R/tmp" && umask 0 && python3 -c '
import os
os.close(os.open("m642", os.O_CREAT | os.O_WRONLY, 0o642))
os.close(os.open("m4777", os.O_CREAT | os.O_WRONLY, 0o4777))
os.mkdir("d1777", 0o1777)
os.mknod("f606", 0o10606)' && stat -c %a m642 m4777 d1777 f606 | tr '\n' ' ')
expect_eq "umask 0: modes as asked (no daemon umask)" "$out" "642 4777 1777 606 "
out=$(cd "$R/tmp" && umask 027 && touch u027 && mkdir du027 && stat -c %a u027 du027 | tr '\n' ' ')
expect_eq "umask 027: the caller's umask applies" "$out" "640 750 "
expect_eq "the upper tree's copy carries no set-uid bit" "$(stat -c %a "$U/tmp/m4777")" "777"
umnt "$R"; mnt "$R"
expect_eq "set-uid kept in the journal across a remount" "$(stat -c %a "$R/tmp/m4777")" "4777"

# Copy-up keeps the parent directories' modes (a lower 1777 /tmp stays 1777).
expect_eq "/tmp after copy-ups below it" "$(stat -c %a "$R/tmp")" "1777"
expect_eq "its upper copy too" "$(stat -c %a "$U/tmp")" "1777"
mkdir -p "$R/usr/lib/new/sub"
expect_eq "a copied-up parent keeps its mode (751)" "$(stat -c %a "$R/usr/lib"):$(stat -c %a "$U/usr/lib")" "751:751"
umnt "$R"
expect_eq "firmware tree untouched" "$(manifest "$R")" "$before"
finish
