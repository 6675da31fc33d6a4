# Overlay semantics: copy-up, whiteouts, rename across layers, directories,
# links, metadata; the firmware tree stays byte-identical.
. "$(dirname "$0")/common.sh"
R="$T/rootfs"; U="$T/rootfs.sfemu/tree"
mk_rootfs "$R"
before=$(manifest "$R")
mnt "$R"
layer() { getfattr --absolute-names -h --only-values -n security.sfemu.layer "$1" 2>/dev/null; }

eq "$(layer "$R/www/index.html")" "lower" "unchanged file is served from the lower tree"
echo "<html>new</html>" > "$R/www/index.html"
eq "$(cat "$R/www/index.html")" "<html>new</html>" "write lands"
eq "$(layer "$R/www/index.html")" "upper" "copy-up on write"
eq "$(cat "$U/www/index.html")" "<html>new</html>" "upper tree holds the new data"
echo more >> "$R/tmp/etc/hostname"
eq "$(cat "$R/tmp/etc/hostname")" "$(printf 'firmware-host\nmore')" "append after copy-up keeps old data"
# truncate
truncate -s 3 "$R/usr/lib/libbig.so"
eq "$(stat -c %s "$R/usr/lib/libbig.so")" "3" "truncate a lower file (copy-up)"
# delete -> whiteout
rm "$R/www/cgi/a.cgi"
[ ! -e "$R/www/cgi/a.cgi" ] || fail "deleted file still visible"; ok "unlink hides the lower file"
[ -e "$U/www/cgi/.wh.a.cgi" ] || fail "no whiteout"; ok "whiteout .wh.a.cgi in upper"
ls -a "$R/www/cgi" | grep -q wh && fail "whiteout visible in the mount"; ok "whiteouts hidden from readdir"
echo back > "$R/www/cgi/a.cgi"
eq "$(cat "$R/www/cgi/a.cgi")" "back" "re-create over a whiteout"
# rmdir of a lower dir, then mkdir: opaque
rm -r "$R/www/cgi"
[ ! -e "$R/www/cgi" ] || fail "rm -r lower dir"; ok "rm -r of a lower directory"
mkdir "$R/www/cgi"
eq "$(ls -A "$R/www/cgi")" "" "new directory over a deleted one is empty (opaque)"
# rename across layers
mv "$R/www/key.pem" "$R/www/key2.pem"
[ ! -e "$R/www/key.pem" ] || fail "old name still visible"
eq "$(cat "$R/www/key2.pem")" "secret" "rename of a lower file"
eq "$(stat -c %a "$R/www/key2.pem")" "600" "rename keeps the mode"
mv "$R/tmp/var" "$R/tmp/var2"   # lower dir: EXDEV inside, mv copies
[ -d "$R/tmp/var2" ] && [ ! -e "$R/tmp/var" ] || fail "rename of a lower directory"; ok "rename of a lower directory (mv fallback)"
mkdir -p "$R/new/sub"; echo z > "$R/new/sub/f"
mv "$R/new" "$R/new2"
eq "$(cat "$R/new2/sub/f")" "z" "rename of an upper directory"
# symlinks, hard links, mkfifo
ln -s /www/index.html "$R/lnk"
eq "$(getfattr --absolute-names -h --only-values -n security.sfemu.symlink "$R/lnk")" "/www/index.html" "new symlink keeps its target"
ln "$R/bin/busybox" "$R/bin/sh"
eq "$(stat -c %h "$R/bin/sh")" "2" "hard link of a lower file"
mkfifo "$R/tmp/fifo"
eq "$(stat -c %F "$R/tmp/fifo")" "fifo" "mkfifo"
# metadata: ownership shown as root; chmod/chown recorded
eq "$(stat -c %U:%G "$R/www/index.html")" "root:root" "firmware unpacked by uid 1000 shows root ownership"
chown 123:456 "$R/bin/busybox"
chmod 4711 "$R/bin/busybox"
eq "$(stat -c %u:%g:%a "$R/bin/busybox")" "123:456:4711" "chown/chmod recorded"
eq "$(stat -c %u "$U/bin/busybox" 2>/dev/null || echo none)" "0" "hard link copy-up is root-owned on disk"
touch -d "2001-02-03 04:05:06" "$R/www/index.html"
eq "$(stat -c %Y "$R/www/index.html")" "$(date -d '2001-02-03 04:05:06' +%s)" "utimens"
# directory listing merges layers
mkdir "$R/mnt/extra"
eq "$(ls "$R/mnt")" "extra" "mkdir in a lower directory"
eq "$(ls "$R/usr/lib" | tr '\n' ' ')" "libbig.so libbig.so.1 " "merged listing"
umnt "$R"
eq "$(manifest "$R")" "$before" "lower tree byte-identical (sha256 manifest)"
