# Permissions as an unprivileged user (uid 65534): a root daemon serves
# every uid by default (allow_other, always with default_permissions), as
# firmware services drop to nobody after start; --private keeps the mount to
# the mounting user.
. "$(dirname "$0")/common.sh"
R="$T/rootfs"
mk_rootfs "$R"
as_user() { setpriv --reuid 65534 --regid 65534 --clear-groups -- "$@"; }
mnt "$R" --private
grep " $R fuse.sfemu " /proc/self/mounts | grep -q default_permissions || fail "no default_permissions"
ok "default_permissions set"
grep " $R fuse.sfemu " /proc/self/mounts | grep -q allow_other && fail "--private: allow_other set"
must_fail "--private: another user cannot read" as_user cat "$R/www/index.html"
must_fail "--private: another user cannot stat" as_user stat "$R/www"
umnt "$R"
out=$("$SFEMU_MOUNT" --private --allow-other "$R" 2>&1) && fail "--private with --allow-other accepted"
echo "$out" | grep -q -- "--private" || fail "$out"; ok "--private and --allow-other exclude each other"

for opt in "" --allow-other; do
mnt "$R" $opt
grep " $R fuse.sfemu " /proc/self/mounts | grep -q "default_permissions,allow_other" \
    || fail "${opt:-default}: not allow_other with default_permissions"
ok "${opt:-as root, by default}: allow_other paired with default_permissions"
eq "$(as_user cat "$R/www/index.html")" "<html>fw</html>" "user reads a world-readable file"
must_fail "user cannot read a 0600 root file" as_user cat "$R/www/key.pem"
must_fail "user cannot write a root file" as_user sh -c "echo x > '$R/www/index.html'"
must_fail "user cannot create in a root 0755 dir" as_user touch "$R/www/new"
must_fail "user cannot chown" as_user chown 65534 "$R/www/index.html"
must_fail "user cannot chmod a root file" as_user chmod 777 "$R/www/index.html"
chmod 1777 "$R/tmp"
as_user sh -c "echo mine > '$R/tmp/user-file'"
eq "$(stat -c %u:%g "$R/tmp/user-file")" "65534:65534" "file created by the user is owned by the user"
eq "$(as_user cat "$R/tmp/user-file")" "mine" "user reads its own file"
chmod 600 "$R/tmp/user-file"
eq "$(as_user cat "$R/tmp/user-file")" "mine" "owner keeps access after chmod 600"
chown 65534 "$R/www/key.pem"
eq "$(as_user cat "$R/www/key.pem")" "secret" "root chown gives the user access"
must_fail "another user's 0600 file stays closed" setpriv --reuid 65533 --regid 65533 --clear-groups cat "$R/tmp/user-file"
rm "$R/tmp/user-file"
chmod 755 "$R/tmp"
chown 0 "$R/www/key.pem"
umnt "$R"
done
# the lower tree still belongs to uid 1000 on disk; nothing was chowned there
eq "$(stat -c %u "$R/www/key.pem")" "1000" "chown did not touch the firmware tree"
