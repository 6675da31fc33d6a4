# Path escapes: ".." and absolute symlinks stay inside the tree; a symlink
# swapped into a layer behind the daemon's back does not lead out.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
R="$TMP/rootfs"
mk_rootfs "$R"
echo "HOST-SECRET" > "$TMP/host-secret"
mkdir -p "$TMP/hostdir"; echo "HOST-DIR" > "$TMP/hostdir/f"
echo "fw-passwd" > "$R/tmp/etc/passwd"
ln -s ../../../../../../../../etc/passwd "$R/usr/sbin/climb"
ln -s "$TMP/host-secret" "$R/usr/sbin/abs-host"
ln -s "/../../..$TMP/host-secret" "$R/usr/sbin/abs-dotdot"
ln -s /etc/passwd "$R/usr/sbin/abs-fw"
mnt "$R"
expect_eq "'..' chain stays in the rootfs" "$(cat "$R/usr/sbin/climb")" "fw-passwd"
expect_eq "absolute symlink resolves in the rootfs" "$(cat "$R/usr/sbin/abs-fw")" "fw-passwd"
check_fails "absolute symlink to a host path does not reach the host" cat "$R/usr/sbin/abs-host"
check_fails "/../.. prefix does not reach the host" cat "$R/usr/sbin/abs-dotdot"
# a symlink created through the mount is contained the same way
ln -s "$TMP/host-secret" "$R/tmp/mine"
check_fails "guest-made symlink to a host path is contained" cat "$R/tmp/mine"
# races: replace a directory with a symlink directly in the lower tree,
# after the kernel has seen it as a directory
ls "$R/www/cgi" >/dev/null
mv "$R/www/cgi" "$R/www/cgi.real"
ln -s "$TMP/hostdir" "$R/www/cgi"
out=$(cat "$R/www/cgi/f" 2>&1 || true)
expect_no_match "lower-tree symlink swap does not reach the host ($out)" "HOST-DIR" "$out"
# same in the upper tree
mkdir "$R/data"; echo in > "$R/data/f"; ls "$R/data" >/dev/null
mv "$TMP/rootfs.sfemu/tree/data" "$TMP/data.moved"
ln -s "$TMP/hostdir" "$TMP/rootfs.sfemu/tree/data"
out=$(cat "$R/data/f" 2>&1 || true)
expect_no_match "upper-tree symlink swap does not reach the host ($out)" "HOST-DIR" "$out"
# whiteout names cannot be created through the mount
check_fails "creating a .wh. name is refused" touch "$R/tmp/.wh.passwd"
expect_eq "whiteout forging had no effect" "$(cat "$R/tmp/etc/passwd")" "fw-passwd"
finish
