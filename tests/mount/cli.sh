# Command line: help, version, errors naming the argument, ready on return,
# separate mount point, double mount, -u.
. "$(dirname "$0")/common.sh"
"$SFEMU_MOUNT" --help | grep -q -- "--upper DIR" || fail "--help lists --upper"; ok "--help"
"$SFEMU_MOUNT" --version | grep -q "^sfemu-mount [0-9]" || fail "--version"; ok "--version"
out=$("$SFEMU_MOUNT" --bogus x 2>&1) && fail "bad option accepted"
echo "$out" | grep -q -- "--bogus" || fail "error does not name the option: $out"; ok "bad option named"
out=$("$SFEMU_MOUNT" --symlinks=weird x 2>&1) && fail "bad --symlinks accepted"
echo "$out" | grep -q "weird" || fail "error does not name the value: $out"; ok "bad value named"
out=$("$SFEMU_MOUNT" "$T/nope" 2>&1) && fail "missing rootfs accepted"
echo "$out" | grep -q "$T/nope" || fail "error does not name the path: $out"; ok "missing rootfs named"
out=$("$SFEMU_MOUNT" --upper 2>&1) && fail "missing value accepted"
echo "$out" | grep -q -- "--upper" || fail "$out"; ok "missing value named"
mk_rootfs "$T/rootfs"
out=$("$SFEMU_MOUNT" --upper "$T/rootfs/up" "$T/rootfs" 2>&1) && fail "upper inside rootfs accepted"
echo "$out" | grep -q "inside ROOTFS" || fail "$out"; ok "upper inside rootfs refused"
mkdir -p "$T/rootfs/rules/plugins/fakefile"
out=$("$SFEMU_MOUNT" --rules "$T/rootfs/rules" "$T/rootfs" 2>&1) && fail "rules inside rootfs accepted"
echo "$out" | grep -q -- "--rules" || fail "$out"; ok "rules inside ROOTFS refused (the daemon would reach its own mount)"
rm -r "$T/rootfs/rules"
out=$("$SFEMU_MOUNT" --log "$T/rootfs/log" "$T/rootfs" 2>&1) && fail "log inside rootfs accepted"
ok "log inside ROOTFS refused"
out=$("$SFEMU_MOUNT" --threads 0 "$T/rootfs" 2>&1) && fail "--threads 0 accepted"
echo "$out" | grep -q -- "--threads" || fail "$out"; ok "bad --threads named"
out=$("$SFEMU_MOUNT" -u "$T/rootfs" 2>&1) && fail "-u of an unmounted dir succeeded"
echo "$out" | grep -q "not mounted" || fail "$out"; ok "-u: not mounted"

# relative paths: the daemon chdirs to / when daemonizing
cd "$T"
mnt rootfs
# ready on return: no sleep before the first access
eq "$(cat rootfs/www/index.html)" "<html>fw</html>" "mounted and ready on return (relative path)"
[ -d "$T/rootfs.sfemu/tree" ] || fail "default upper <ROOTFS>.sfemu/ not created"; ok "default upper dir"
out=$("$SFEMU_MOUNT" rootfs 2>&1) && fail "double mount accepted"
echo "$out" | grep -q "already mounted" || fail "$out"; ok "double mount refused"
umnt rootfs
is_mounted rootfs && fail "still mounted after -u"; ok "-u unmounts"
# separate mount point, custom upper, log file
mkdir -p "$T/mp"
mnt_on rootfs mp --upper "$T/up2" --log "$T/m.log"
eq "$(cat mp/tmp/etc/hostname)" "firmware-host" "mount on MOUNTPOINT"
echo x > mp/newfile
[ -f "$T/up2/tree/newfile" ] || fail "--upper not used"; ok "--upper DIR"
grep -q "mounted" "$T/m.log" || fail "--log not written"; ok "--log FILE"
[ ! -e rootfs/newfile ] || fail "write reached ROOTFS"; ok "ROOTFS untouched"
umnt mp
# A kernel or seccomp profile without openat2 (which keeps every path inside
# the layers): a clear refusal, nothing mounted.
out=$("$SFEMU_NO_OPENAT2" "$SFEMU_MOUNT" rootfs 2>&1) && fail "mounted without openat2"
echo "$out" | grep -q "refuses openat2(2).*Linux 5.6 or later" || fail "unclear: $out"
is_mounted rootfs && fail "mounted without openat2"; ok "no openat2: clear refusal ($out)"
