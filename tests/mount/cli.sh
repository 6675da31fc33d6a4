# Command line: help, version, errors naming the argument, ready on return,
# separate mount point, double mount, -u.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
out=$("$SFEMU_MOUNT" --help)
expect_match "--help lists --upper" "--upper DIR" "$out"
out=$("$SFEMU_MOUNT" --version)
expect_match "--version" "^sfemu-mount [0-9]" "$out"
check_fails_with "bad option named" "--bogus" "$SFEMU_MOUNT" --bogus x
check_fails_with "bad value named" "weird" "$SFEMU_MOUNT" --symlinks=weird x
check_fails_with "missing rootfs named" "$TMP/nope" "$SFEMU_MOUNT" "$TMP/nope"
check_fails_with "missing value named" "--upper" "$SFEMU_MOUNT" --upper
mk_rootfs "$TMP/rootfs"
before=$(manifest "$TMP/rootfs")
check_fails_with "upper inside rootfs refused" "inside ROOTFS" \
    "$SFEMU_MOUNT" --upper "$TMP/rootfs/up" "$TMP/rootfs"
mkdir -p "$TMP/rootfs/rules/plugins/fakefile"
check_fails_with "rules inside ROOTFS refused (the daemon would reach its own mount)" "--rules" \
    "$SFEMU_MOUNT" --rules "$TMP/rootfs/rules" "$TMP/rootfs"
rm -r "$TMP/rootfs/rules"
check_fails_with "log inside ROOTFS refused, the option named" "--log '$TMP/rootfs/log' must not be inside ROOTFS" \
    "$SFEMU_MOUNT" --log "$TMP/rootfs/log" "$TMP/rootfs"
check_fails_with "bad --threads named" "--threads" "$SFEMU_MOUNT" --threads 0 "$TMP/rootfs"
check_fails_with "-u: not mounted" "not mounted" "$SFEMU_MOUNT" -u "$TMP/rootfs"
expect_eq "the refused commands wrote nothing into the firmware tree" "$(manifest "$TMP/rootfs")" "$before"

# relative paths: the daemon chdirs to / when daemonizing
cd "$TMP"
mnt rootfs
# ready on return: no sleep before the first access
expect_eq "mounted and ready on return (relative path)" "$(cat rootfs/www/index.html)" "<html>fw</html>"
check "default upper dir <ROOTFS>.sfemu/" test -d "$TMP/rootfs.sfemu/tree"
check_fails_with "double mount refused" "already mounted" "$SFEMU_MOUNT" rootfs
umnt rootfs
check_fails "-u unmounts" is_mounted rootfs
# separate mount point, custom upper, log file
mkdir -p "$TMP/mp"
mnt_on rootfs mp --upper "$TMP/up2" --log "$TMP/m.log"
expect_eq "mount on MOUNTPOINT" "$(cat mp/tmp/etc/hostname)" "firmware-host"
echo x > mp/newfile
check "--upper DIR" test -f "$TMP/up2/tree/newfile"
expect_grep "--log FILE" "\] mounted [^ ]*/rootfs on [^ ]*/mp " "$TMP/m.log"
check "ROOTFS untouched" test ! -e rootfs/newfile
umnt mp
# A kernel or seccomp profile without openat2 (which keeps every path inside
# the layers): a clear refusal, nothing mounted.
check_fails_with "no openat2: clear refusal" "refuses openat2\(2\).*Linux 5\.6 or later" \
    "$SFEMU_NO_OPENAT2" "$SFEMU_MOUNT" rootfs
check_fails "no openat2: nothing mounted" is_mounted rootfs
finish
