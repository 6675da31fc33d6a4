# Symlink policy: --symlinks=contained (default) rewrites targets so the host
# kernel stays inside the mount; --symlinks=firmware returns them unchanged.
# Both expose the firmware target as xattr security.sfemu.symlink, and both
# give the object RESOLVE_IN_ROOT (the qemu side) finds.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
R="$TMP/rootfs"
mk_rootfs "$R"
echo "only-in-firmware" > "$R/tmp/etc/fw-only"
ln -s /usr/lib/libbig.so.1 "$R/lib/libchain.so"
ln -s ../sbin "$R/bin/up"
x() { getfattr --absolute-names -h --only-values -n security.sfemu.symlink "$1"; }
# openat2(rootfd, path, RESOLVE_IN_ROOT) as the qemu true root does it
in_root() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
class How(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]
root = os.open(sys.argv[1], os.O_PATH | os.O_DIRECTORY)
how = How(os.O_RDONLY, 0, 0x10)  # RESOLVE_IN_ROOT
fd = libc.syscall(437, root, sys.argv[2].encode(), ctypes.byref(how), ctypes.sizeof(how))
if fd < 0:
    sys.exit("openat2: " + os.strerror(ctypes.get_errno()))
sys.stdout.write(os.read(fd, 100).decode())
PY
}
mnt "$R"
expect_eq "contained: /tmp/etc seen from / becomes tmp/etc" "$(readlink "$R/etc")" "tmp/etc"
expect_eq "contained: xattr keeps the firmware target" "$(x "$R/etc")" "/tmp/etc"
expect_eq "contained: absolute target made relative" "$(readlink "$R/lib/libchain.so")" "../usr/lib/libbig.so.1"
expect_eq "contained: relative target unchanged" "$(readlink "$R/usr/sbin/index")" "../../www/index.html"
expect_eq "cat rootfs/etc/x reads the firmware's /tmp/etc/x" "$(cat "$R/etc/fw-only")" "only-in-firmware"
check "no host /tmp/etc/fw-only (else the check above proves nothing)" test ! -e /tmp/etc/fw-only
expect_eq "chained absolute symlinks resolve in the rootfs" "$(stat -c %s "$R/lib/libchain.so" -L)" "300000"
expect_eq "contained: RESOLVE_IN_ROOT finds the same object" "$(in_root "$R" /etc/fw-only)" "only-in-firmware"
expect_eq "realpath stays in the mount" "$(realpath "$R/etc/hostname")" "$(realpath "$R")/tmp/etc/hostname"
umnt "$R"
mnt "$R" --symlinks=firmware
expect_eq "firmware: readlink gives the firmware target" "$(readlink "$R/etc")" "/tmp/etc"
expect_eq "firmware: xattr too" "$(x "$R/etc")" "/tmp/etc"
expect_eq "firmware: RESOLVE_IN_ROOT finds the same object" "$(in_root "$R" /etc/fw-only)" "only-in-firmware"
expect_eq "firmware: relative target unchanged" "$(readlink "$R/bin/up")" "../sbin"
umnt "$R"
finish
