# Path escapes: ".." and absolute symlinks stay inside the tree; a symlink
# swapped into a layer behind the daemon's back does not lead out.
. "$(dirname "$0")/common.sh"
R="$T/rootfs"
mk_rootfs "$R"
echo "HOST-SECRET" > "$T/host-secret"
mkdir -p "$T/hostdir"; echo "HOST-DIR" > "$T/hostdir/f"
echo "fw-passwd" > "$R/tmp/etc/passwd"
ln -s ../../../../../../../../etc/passwd "$R/usr/sbin/climb"
ln -s "$T/host-secret" "$R/usr/sbin/abs-host"
ln -s "/../../..$T/host-secret" "$R/usr/sbin/abs-dotdot"
ln -s /etc/passwd "$R/usr/sbin/abs-fw"
mnt "$R"
eq "$(cat "$R/usr/sbin/climb")" "fw-passwd" "'..' chain stays in the rootfs"
eq "$(cat "$R/usr/sbin/abs-fw")" "fw-passwd" "absolute symlink resolves in the rootfs"
must_fail "absolute symlink to a host path does not reach the host" cat "$R/usr/sbin/abs-host"
must_fail "/../.. prefix does not reach the host" cat "$R/usr/sbin/abs-dotdot"
# a symlink created through the mount is contained the same way
ln -s "$T/host-secret" "$R/tmp/mine"
must_fail "guest-made symlink to a host path is contained" cat "$R/tmp/mine"
# races: replace a directory with a symlink directly in the lower tree,
# after the kernel has seen it as a directory
ls "$R/www/cgi" >/dev/null
mv "$R/www/cgi" "$R/www/cgi.real"
ln -s "$T/hostdir" "$R/www/cgi"
out=$(cat "$R/www/cgi/f" 2>&1 || true)
case "$out" in *HOST-DIR*) fail "lower-tree symlink race reached the host";; esac
ok "lower-tree symlink swap does not reach the host ($out)"
# same in the upper tree
mkdir "$R/data"; echo in > "$R/data/f"; ls "$R/data" >/dev/null
mv "$T/rootfs.sfemu/tree/data" "$T/data.moved"
ln -s "$T/hostdir" "$T/rootfs.sfemu/tree/data"
out=$(cat "$R/data/f" 2>&1 || true)
case "$out" in *HOST-DIR*) fail "upper-tree symlink race reached the host";; esac
ok "upper-tree symlink swap does not reach the host ($out)"
# whiteout names cannot be created through the mount
must_fail "creating a .wh. name is refused" touch "$R/tmp/.wh.passwd"
eq "$(cat "$R/tmp/etc/passwd")" "fw-passwd" "whiteout forging had no effect"
