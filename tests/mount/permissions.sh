# Permissions as an unprivileged user (uid 65534): a root daemon serves
# every uid by default (allow_other, always with default_permissions), as
# firmware services drop to nobody after start; --private keeps the mount to
# the mounting user.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
R="$TMP/rootfs"
mk_rootfs "$R"
as_user() { setpriv --reuid 65534 --regid 65534 --clear-groups -- "$@"; }
mnt "$R" --private
expect_match "default_permissions set" "default_permissions" "$(grep " $R fuse.sfemu " /proc/self/mounts)"
expect_no_match "--private: no allow_other" "allow_other" "$(grep " $R fuse.sfemu " /proc/self/mounts)"
check_fails "--private: another user cannot read" as_user cat "$R/www/index.html"
check_fails "--private: another user cannot stat" as_user stat "$R/www"
umnt "$R"
check_fails_with "--private and --allow-other exclude each other" "--private" \
    "$SFEMU_MOUNT" --private --allow-other "$R"

for opt in "" --allow-other; do
mnt "$R" $opt
expect_match "${opt:-as root, by default}: allow_other paired with default_permissions" \
    "default_permissions,allow_other" "$(grep " $R fuse.sfemu " /proc/self/mounts)"
expect_eq "user reads a world-readable file" "$(as_user cat "$R/www/index.html")" "<html>fw</html>"
check_fails "user cannot read a 0600 root file" as_user cat "$R/www/key.pem"
check_fails "user cannot write a root file" as_user sh -c "echo x > '$R/www/index.html'"
check_fails "user cannot create in a root 0755 dir" as_user touch "$R/www/new"
check_fails "user cannot chown" as_user chown 65534 "$R/www/index.html"
check_fails "user cannot chmod a root file" as_user chmod 777 "$R/www/index.html"
chmod 1777 "$R/tmp"
as_user sh -c "echo mine > '$R/tmp/user-file'"
expect_eq "file created by the user is owned by the user" "$(stat -c %u:%g "$R/tmp/user-file")" "65534:65534"
expect_eq "user reads its own file" "$(as_user cat "$R/tmp/user-file")" "mine"
chmod 600 "$R/tmp/user-file"
expect_eq "owner keeps access after chmod 600" "$(as_user cat "$R/tmp/user-file")" "mine"
chown 65534 "$R/www/key.pem"
expect_eq "root chown gives the user access" "$(as_user cat "$R/www/key.pem")" "secret"
check_fails "another user's 0600 file stays closed" setpriv --reuid 65533 --regid 65533 --clear-groups cat "$R/tmp/user-file"
rm "$R/tmp/user-file"
chmod 755 "$R/tmp"
chown 0 "$R/www/key.pem"
umnt "$R"
done
# the lower tree still belongs to uid 1000 on disk; nothing was chowned there
expect_eq "chown did not touch the firmware tree" "$(stat -c %u "$R/www/key.pem")" "1000"
finish
