# Symlink policy: --symlinks=contained (default) rewrites targets so the host
# kernel stays inside the mount; --symlinks=firmware returns them unchanged.
# Both expose the firmware target as xattr security.sfemu.symlink, and both
# give the object RESOLVE_IN_ROOT (the qemu side) finds.
. "$(dirname "$0")/common.sh"
R="$T/rootfs"
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
eq "$(readlink "$R/etc")" "tmp/etc" "contained: /tmp/etc seen from / becomes tmp/etc"
eq "$(x "$R/etc")" "/tmp/etc" "contained: xattr keeps the firmware target"
eq "$(readlink "$R/lib/libchain.so")" "../usr/lib/libbig.so.1" "contained: absolute target made relative"
eq "$(readlink "$R/usr/sbin/index")" "../../www/index.html" "contained: relative target unchanged"
eq "$(cat "$R/etc/fw-only")" "only-in-firmware" "cat rootfs/etc/x reads the firmware's /tmp/etc/x"
[ ! -e /tmp/etc/fw-only ] || fail "host /tmp/etc/fw-only exists: test invalid"
eq "$(stat -c %s "$R/lib/libchain.so" -L)" "300000" "chained absolute symlinks resolve in the rootfs"
eq "$(in_root "$R" /etc/fw-only)" "only-in-firmware" "contained: RESOLVE_IN_ROOT finds the same object"
eq "$(realpath "$R/etc/hostname")" "$(realpath "$R")/tmp/etc/hostname" "realpath stays in the mount"
umnt "$R"
mnt "$R" --symlinks=firmware
eq "$(readlink "$R/etc")" "/tmp/etc" "firmware: readlink gives the firmware target"
eq "$(x "$R/etc")" "/tmp/etc" "firmware: xattr too"
eq "$(in_root "$R" /etc/fw-only)" "only-in-firmware" "firmware: RESOLVE_IN_ROOT finds the same object"
eq "$(readlink "$R/bin/up")" "../sbin" "firmware: relative target unchanged"
umnt "$R"
