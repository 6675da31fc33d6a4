# Overlay semantics: copy-up, whiteouts, rename across layers, directories,
# links, metadata; the firmware tree stays byte-identical.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
R="$TMP/rootfs"; U="$TMP/rootfs.sfemu/tree"
mk_rootfs "$R"
before=$(manifest "$R")
mnt "$R"
layer() { getfattr --absolute-names -h --only-values -n security.sfemu.layer "$1" 2>/dev/null; }

expect_eq "unchanged file is served from the lower tree" "$(layer "$R/www/index.html")" "lower"
echo "<html>new</html>" > "$R/www/index.html"
expect_eq "write lands" "$(cat "$R/www/index.html")" "<html>new</html>"
expect_eq "copy-up on write" "$(layer "$R/www/index.html")" "upper"
expect_eq "upper tree holds the new data" "$(cat "$U/www/index.html")" "<html>new</html>"
echo more >> "$R/tmp/etc/hostname"
expect_eq "append after copy-up keeps old data" "$(cat "$R/tmp/etc/hostname")" "$(printf 'firmware-host\nmore')"
# truncate
truncate -s 3 "$R/usr/lib/libbig.so"
expect_eq "truncate a lower file (copy-up)" "$(stat -c %s "$R/usr/lib/libbig.so")" "3"
# delete -> whiteout
rm "$R/www/cgi/a.cgi"
check "unlink hides the lower file" test ! -e "$R/www/cgi/a.cgi"
check "whiteout .wh.a.cgi in upper" test -e "$U/www/cgi/.wh.a.cgi"
entries=$(ls -a "$R/www/cgi")
expect_no_match "whiteouts hidden from readdir" "wh" "$entries"
echo back > "$R/www/cgi/a.cgi"
expect_eq "re-create over a whiteout" "$(cat "$R/www/cgi/a.cgi")" "back"
# rmdir of a lower dir, then mkdir: opaque
rm -r "$R/www/cgi"
check "rm -r of a lower directory" test ! -e "$R/www/cgi"
mkdir "$R/www/cgi"
expect_eq "new directory over a deleted one is empty (opaque)" "$(ls -A "$R/www/cgi")" ""
# rename across layers
mv "$R/www/key.pem" "$R/www/key2.pem"
check "rename of a lower file: the old name is gone" test ! -e "$R/www/key.pem"
expect_eq "rename of a lower file" "$(cat "$R/www/key2.pem")" "secret"
expect_eq "rename keeps the mode" "$(stat -c %a "$R/www/key2.pem")" "600"
mv "$R/tmp/var" "$R/tmp/var2"   # lower dir: EXDEV inside, mv copies
if [ -d "$R/tmp/var2" ] && [ ! -e "$R/tmp/var" ]; then
    pass "rename of a lower directory (mv fallback)"
else
    fail "rename of a lower directory (mv fallback)"
fi
mkdir -p "$R/new/sub"; echo z > "$R/new/sub/f"
mv "$R/new" "$R/new2"
expect_eq "rename of an upper directory" "$(cat "$R/new2/sub/f")" "z"
# symlinks, hard links, mkfifo
ln -s /www/index.html "$R/lnk"
expect_eq "new symlink keeps its target" "$(getfattr --absolute-names -h --only-values -n security.sfemu.symlink "$R/lnk")" "/www/index.html"
ln "$R/bin/busybox" "$R/bin/sh"
expect_eq "hard link of a lower file" "$(stat -c %h "$R/bin/sh")" "2"
mkfifo "$R/tmp/fifo"
expect_eq "mkfifo" "$(stat -c %F "$R/tmp/fifo")" "fifo"
# metadata: ownership shown as root; chmod/chown recorded
expect_eq "firmware unpacked by uid 1000 shows root ownership" "$(stat -c %U:%G "$R/www/index.html")" "root:root"
chown 123:456 "$R/bin/busybox"
chmod 4711 "$R/bin/busybox"
expect_eq "chown/chmod recorded" "$(stat -c %u:%g:%a "$R/bin/busybox")" "123:456:4711"
expect_eq "hard link copy-up is root-owned on disk" "$(stat -c %u "$U/bin/busybox" 2>/dev/null || echo none)" "0"
touch -d "2001-02-03 04:05:06" "$R/www/index.html"
expect_eq "utimens" "$(stat -c %Y "$R/www/index.html")" "$(date -d '2001-02-03 04:05:06' +%s)"
# directory listing merges layers
mkdir "$R/mnt/extra"
expect_eq "mkdir in a lower directory" "$(ls "$R/mnt")" "extra"
expect_eq "merged listing" "$(ls "$R/usr/lib" | tr '\n' ' ')" "libbig.so libbig.so.1 "
umnt "$R"
expect_eq "lower tree byte-identical (sha256 manifest)" "$(manifest "$R")" "$before"
finish
