# mmap of fake resources (issue 15; docs/fakefile.md "mmap"): ARM and
# big-endian MIPS guests map a fake device (an mmap handler, 40 KiB: more
# than a ring slot) and a fake text file (no mmap handler: the mapping shows
# what read serves), private and shared, without a mount (the engine inside
# qemu) and on an sfemu-mount (the daemon's engine over the ring).  A write
# through a shared mapping reaches the write handler at msync and at munmap
# (only the changed bytes), a private one never does, a read-only mapping
# stays read-only.  On the mount the shell sees the result with cat and can
# map the fakes too (direct I/O with FUSE_DIRECT_IO_ALLOW_MMAP).
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
require "the patched qemu-arm and qemu-mips" test -x "$QDIR/qemu-arm" -a -x "$QDIR/qemu-mips"
require "the fakemap guests" test -x "$GDIR/fakemap-arm" -a -x "$GDIR/fakemap-mips"
require "python3 (a shell-side mmap)" command -v python3
export SFEMU_FAKEFILE_ON=all SFEMU_WATCHDOG=off
# mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) from the shell: "mapped" or
# the error (python's mmap module refuses a length past the size itself)
SHELL_MAP='import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long]
p = libc.mmap(None, 4096, 1, 1, os.open(sys.argv[1], os.O_RDONLY), 0)
print("mapped" if p not in (None, 2**64 - 1) else os.strerror(ctypes.get_errno()))'
# a shared mapping of the whole file: OLD replaced by NEW, then msync
SHELL_POKE='import mmap, sys
f = open(sys.argv[1], "r+b")
m = mmap.mmap(f.fileno(), 0)
i = m.find(sys.argv[2].encode())
m[i:i + len(sys.argv[3])] = sys.argv[3].encode()
m.flush()'

mk_map_rules() {
    cp -r "$SRC/rules_examples" "$1"
    rm -rf "$1"/plugins/fakefile/config/*.lua "$1"/plugins/fakefile/data/* "$1"/cache/*
    cp "$SRC/tests/fixtures/map-dev.fakeconfig.lua" "$1/plugins/fakefile/config/mapdev.fakeconfig.lua"
    cp "$SRC/tests/fixtures/map-text.fakeconfig.lua" "$1/plugins/fakefile/config/map.conf.fakeconfig.lua"
}

# The guest's view, the same with and without a mount.  $1: arch, $2: label.
guest_checks() {
    local arch=$1 how=$2 out
    out=$(run show /dev/mapdev 40960 0)
    expect_eq "$arch $how: a device mapping shows what its mmap handler serves, 40 KiB to the end" \
        "$out" "head=init    ................ tail=END! "
    expect_eq "$arch $how: at a file offset (mmap2, offset in pages)" \
        "$(run show /dev/mapdev 4096 4096)" "head=PAGE1:.................. tail=.... "
    if [ "$arch" = mips ]; then
        expect_eq "$arch $how: MIPS o32's old mmap (offset in bytes)" \
            "$(run show /dev/mapdev 4096 4096 raw)" "head=PAGE1:.................. tail=.... "
    fi
    expect_eq "$arch $how: a text fake maps what its read handler serves, zeros after" \
        "$(run show /tmp/map.conf 4096 0)" "head=state=init|value=1234|~~ tail=~~~~ "
    expect_eq "$arch $how: shared write + msync reaches the write handler (a state change)" \
        "$(run poke /tmp/map.conf 17 5678 msync)" \
        "msync=0 read=state=written|value=5678| mine=state=init|value=5678|~~ munmap=0 read=state=written|value=5678| again=state=written|value=5678 "
    expect_grep "$arch $how: the record shows the new state" "^state=written$" "$R/tmp/map.conf.fakefile"
    expect_eq "$arch $how: a shared write without msync goes back at munmap, only the 2 changed bytes" \
        "$(run poke /dev/mapdev 16 GO munmap)" \
        "mine=init    ........GO...... munmap=0 read=state=run writes=1 bytes=2 regs=........GO......| again=run     ........GO...... "
}

for arch in arm mips; do
    # ------------------------------------------------ without a mount
    R="$TMP/root-$arch"
    RULES="$TMP/rules-$arch"
    mkdir -p "$R/bin" "$R/dev" "$R/tmp"
    mk_map_rules "$RULES"
    cp "$GDIR/fakemap-$arch" "$R/bin/fakemap"
    run() { SFEMU_LOG="$TMP/q-$arch.log" qemu "$arch" -L "$R" -rules "$RULES" "$R/bin/fakemap" "$@"; }
    guest_checks "$arch" "no mount"
    # (without a mount each qemu process starts the resource afresh: the
    # open rule creates it again, state init)
    expect_eq "$arch no mount: a private mapping's writes stay in the process" \
        "$(run poke /dev/mapdev 20 XY private)" \
        "mine=init    ............XY.. munmap=0 read=state=init writes=0 bytes=0 regs=................| again=init    ................ "
    expect_eq "$arch no mount: a read-only mapping stays read-only" \
        "$(run ro /dev/mapdev)" "ro=SIGSEGV first=i"

    # ------------------------------------------------ on an sfemu-mount
    R="$TMP/mroot-$arch"
    RULES="$TMP/mrules-$arch"
    mk_rootfs "$R"
    mk_map_rules "$RULES"
    cp "$GDIR/fakemap-$arch" "$R/bin/fakemap"
    chmod 755 "$R/bin/fakemap"
    mnt "$R" --rules "$RULES"
    run show /tmp/map.conf 4096 0 > /dev/null
    expect_eq "$arch mount: cat shows the text fake (through the page cache)" \
        "$(cat "$R/tmp/map.conf")" "$(printf 'state=init\nvalue=1234')"
    guest_checks "$arch" "mount"
    expect_eq "$arch mount: after the state change, cat shows what a fresh read gives" \
        "$(cat "$R/tmp/map.conf")" "$(printf 'state=written\nvalue=5678')"
    expect_eq "$arch mount: ... and its size is the new one" "$(stat -c %s "$R/tmp/map.conf")" "25"
    expect_eq "$arch mount: cat shows the device state the guest's mapping set" \
        "$(cat "$R/dev/mapdev")" "state=run writes=1 bytes=2 regs=........GO......"
    expect_eq "$arch mount: another guest process maps the one state" \
        "$(run show /dev/mapdev 40960 0)" "head=run     ........GO...... tail=END! "
    expect_eq "$arch mount: a private mapping's writes never reach the handler" \
        "$(run poke /dev/mapdev 20 XY private)" \
        "mine=run     ........GO..XY.. munmap=0 read=state=run writes=1 bytes=2 regs=........GO......| again=run     ........GO...... "
    expect_eq "$arch mount: a read-only mapping stays read-only" \
        "$(run ro /dev/mapdev)" "ro=SIGSEGV first=r"
    expect_eq "$arch mount: the shell maps the text fake (shared, what read serves)" \
        "$(python3 -c 'import mmap,sys; f=open(sys.argv[1],"rb"); print(mmap.mmap(f.fileno(),0,prot=mmap.PROT_READ)[:].decode(),end="")' "$R/tmp/map.conf")" \
        "$(printf 'state=written\nvalue=5678')"
    python3 -c "$SHELL_POKE" "$R/tmp/map.conf" 5678 9999
    expect_eq "$arch mount: the shell's write through a shared mapping reaches the write handler at msync" \
        "$(cat "$R/tmp/map.conf")" "$(printf 'state=written\nvalue=9999')"
    expect_eq "$arch mount: the shell maps the device too (FUSE_DIRECT_IO_ALLOW_MMAP)" \
        "$(python3 -c "$SHELL_MAP" "$R/dev/mapdev")" "mapped"
    expect_no_grep "$arch mount: qemu served nothing itself" "served inside this qemu" "$TMP/q-$arch.log"
    umnt "$R"
done
for arch in arm mips; do
    expect_no_grep "$arch: no mapping of a fake failed" "mmap of the fake resource" "$TMP/q-$arch.log"
done
finish
