# Changes survive unmount/remount; deleting the upper tree resets the device.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
R="$TMP/rootfs"
mk_rootfs "$R"
before=$(manifest "$R")
mnt "$R"
echo "persist" > "$R/tmp/etc/state"
rm "$R/www/cgi/a.cgi"
chmod 700 "$R/www"
chown 5:6 "$R/tmp/etc/hostname"
mv "$R/www/index.html" "$R/www/main.html"
ln -s main.html "$R/www/home"
mkdir "$R/data"
touch -d "2002-03-04 05:06:07" "$R/www/cgi"
mknod "$R/dev/mtd0" c 90 0
umnt "$R"
expect_eq "lower tree unchanged after the run" "$(manifest "$R")" "$before"
mnt "$R"
expect_eq "new file persists" "$(cat "$R/tmp/etc/state")" "persist"
check "deletion persists" test ! -e "$R/www/cgi/a.cgi"
expect_eq "chmod persists" "$(stat -c %a "$R/www")" "700"
expect_eq "chown persists" "$(stat -c %u:%g "$R/tmp/etc/hostname")" "5:6"
if [ ! -e "$R/www/index.html" ] && [ -e "$R/www/main.html" ]; then
    pass "rename persists"
else
    fail "rename persists"
fi
expect_eq "symlink persists" "$(readlink "$R/www/home")" "main.html"
check "mkdir persists" test -d "$R/data"
expect_eq "utimens persists" "$(stat -c %Y "$R/www/cgi")" "$(date -d '2002-03-04 05:06:07' +%s)"
expect_eq "mknod'ed device persists as the node it is" "$(stat -c %F:%t:%T "$R/dev/mtd0")" "character special file:5a:0"
check_fails "and is never the host's device (nodev)" head -c 10 "$R/dev/mtd0"
umnt "$R"
rm -rf "$TMP/rootfs.sfemu"
mnt "$R"
if [ ! -e "$R/tmp/etc/state" ] && [ -e "$R/www/cgi/a.cgi" ] && [ -e "$R/www/index.html" ]; then
    pass "deleting the upper tree resets to the firmware state"
else
    fail "deleting the upper tree resets to the firmware state"
fi
expect_eq "mode reset" "$(stat -c %a "$R/www")" "755"
umnt "$R"
finish
