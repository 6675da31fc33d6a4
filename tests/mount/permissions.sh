# Permissions as an unprivileged user (uid 65534), without and with
# --allow-other (which always comes with default_permissions).
. "$(dirname "$0")/common.sh"
R="$T/rootfs"
mk_rootfs "$R"
as_user() { setpriv --reuid 65534 --regid 65534 --clear-groups -- "$@"; }
mnt "$R"
grep " $R fuse.sfemu " /proc/self/mounts | grep -q default_permissions || fail "no default_permissions"
ok "default_permissions set"
must_fail "without --allow-other another user cannot read" as_user cat "$R/www/index.html"
must_fail "without --allow-other another user cannot stat" as_user stat "$R/www"
umnt "$R"

mnt "$R" --allow-other
grep " $R fuse.sfemu " /proc/self/mounts | grep -q "default_permissions,allow_other" \
    || fail "allow_other without default_permissions"; ok "allow_other paired with default_permissions"
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
# the lower tree still belongs to uid 1000 on disk; nothing was chowned there
umnt "$R"
eq "$(stat -c %u "$R/www/key.pem")" "1000" "chown did not touch the firmware tree"
