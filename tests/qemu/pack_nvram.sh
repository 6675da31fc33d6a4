# NVRAM the Broadcom way (issue 16; docs/firmware-pack.md "NVRAM"): the
# vendor-style `nvram` command (demo/vendor/nvram.c over libnvram.c: open
# /dev/nvram O_RDWR, mmap NVRAM_SPACE shared, get = read with the name in the
# buffer answered by an offset into the mapping, set/unset = write, commit =
# ioctl NVRAM_MAGIC, show = read with "\0") on ARM, mipsel and big-endian
# MIPS, without a mount (the engine inside qemu, the store in the rootfs)
# and on an sfemu-mount (the daemon's engine over the ring, the store in the
# upper layer).  The store /sfemu/nvram.txt is seeded from the firmware's
# /etc/nvram.default then rules_examples/config/nvram.defaults (which wins),
# is edited with shell tools, persists across a remount, and an unknown key
# is logged once.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
NV_ARCHES=${SFEMU_TEST_ARCHES:-arm mipsel mips}
for arch in $NV_ARCHES; do
    require "the patched qemu-$arch" test -x "$QDIR/qemu-$arch"
    require "the nvram guests for $arch" test -x "$GDIR/nvram-$arch" -a -x "$GDIR/nvramhold-$arch"
done
export SFEMU_WATCHDOG=off

# The firmware's own defaults: a key of its own, and a lan_ipaddr the rules
# tree's default overrides.
fw_defaults() {
    mkdir -p "$1"
    printf '# vendor defaults\nfw_model=SFEMU-DEMO\r\nlan_ipaddr=127.0.0.2\nfw_note=two words\n' \
        > "$1/nvram.default"
    printf '[wireless]\nini_key = "a quoted value"\nfw_note = from the ini\n' > "$1/nvram.ini"
    mkdir -p "$1/default"
    # a Broadcom image: the FLSH header (magic, len, crc, 2 words), strings
    { printf 'FLSH'; head -c 16 /dev/zero; printf 'img_key=from the image\0img_two=2\0\0'; } \
        > "$1/default/nvram"
}
mk_nv_rules() {
    cp -r "$SRC/rules_examples" "$1"
    rm -rf "$1"/cache/* "$1"/plugins/fakefile/data/*
}

# The client's view, the same with and without a mount.  $1: arch, $2:
# label, $3: the store file as the shell sees it, $4: the log where the
# store's messages go.
client_checks() {
    local arch=$1 how=$2 file=$3 log=$4 out rc
    expect_eq "$arch $how: a defaulted key (the rules tree's lan_ipaddr wins over the firmware's)" \
        "$(run get lan_ipaddr)" "127.0.0.1"
    expect_eq "$arch $how: the firmware's /etc/nvram.default is imported (key=value lines)" \
        "$(run get fw_model)" "SFEMU-DEMO"
    expect_eq "$arch $how: ... /etc/nvram.ini ([section] ignored, quotes dropped; a later file wins)" \
        "$(run get ini_key fw_note)" "$(printf 'a quoted value\nfrom the ini')"
    expect_eq "$arch $how: ... /etc/default/nvram, a NUL-separated Broadcom image" \
        "$(run get img_key img_two)" "$(printf 'from the image\n2')"
    expect_grep "$arch $how: the store was seeded into /sfemu/nvram.txt" "^http_lanport=80$" "$file"
    expect_grep "$arch $how: the seeding is logged with its sources" \
        "nvram: seeded /sfemu/nvram.txt with [0-9]+ keys from /etc/nvram.default \(3\), /etc/nvram.ini \(2\), /etc/default/nvram \(2\), config/nvram.defaults" "$log"
    check "$arch $how: set" run set color=blue
    expect_eq "$arch $how: get gives the value set" "$(run get color)" "blue"
    expect_grep "$arch $how: the set is in the store file" "^color=blue$" "$file"
    check "$arch $how: set a longer value (a new slot in the mapping)" run set color=ultramarine-blue
    check "$arch $how: set a shorter one (in place)" run set color=red
    expect_eq "$arch $how: get follows" "$(run get color)" "red"
    expect_eq "$arch $how: other keys are untouched" "$(run get lan_ipaddr http_lanport)" \
        "$(printf '127.0.0.1\n80')"
    out=$(run show 2> /dev/null)
    expect_match "$arch $how: show (read with \"\\0\", getall) lists the store" "^color=red$" "$out"
    expect_match "$arch $how: ... with the defaults" "^lan_netmask=255\.0\.0\.0$" "$out"
    expect_eq "$arch $how: ... one line per key in the store" \
        "$(grep -c . <<< "$out")" "$(grep -c '^[^#]' "$file")"
    check "$arch $how: set a value with a newline and a backslash" run set "ml=one"$'\n'"two\\x"
    expect_grep "$arch $how: ... stored on one line, escaped" '^ml=one\\ntwo\\\\x$' "$file"
    expect_eq "$arch $how: ... and read back as set" "$(run get ml)" "one"$'\n'"two\\x"
    check "$arch $how: unset" run unset color
    rc=0; out=$(run get color) || rc=$?
    expect_eq "$arch $how: an unset key reads as unset (read returns 0)" "$rc:$out" "1:"
    expect_no_grep "$arch $how: ... and is gone from the store file" "^color=" "$file"
    check "$arch $how: commit (ioctl NVRAM_MAGIC)" run commit
    hold_checks "$arch" "$how"
    refresh_checks "$arch" "$how"
    sed -i 's/^lan_netmask=.*/lan_netmask=255.255.0.0/' "$file"
    echo "edited_key=by the shell" >> "$file"
    echo "a line without an equals sign" >> "$file"
    local badline
    badline=$(wc -l < "$file")
    expect_eq "$arch $how: an edit of the store with sed and echo is seen by the next get" \
        "$(run get lan_netmask edited_key)" "$(printf '255.255.0.0\nby the shell')"
    expect_grep "$arch $how: a bad line of the store is logged with its line number" \
        "nvram: /sfemu/nvram.txt:$badline: not a key=value line: ignored" "$log"
    check "$arch $how: set after the edit" run set after_edit=1
    expect_grep "$arch $how: ... keeps the edit" "^edited_key=by the shell$" "$file"
}

# A process that mapped the device before other processes unset the key
# laid out before lan_ipaddr (the firmware's fw_model) and set longer and
# new values still finds lan_ipaddr at the offset it had.
hold_checks() {
    local arch=$1 how=$2 fifo=$TMP/hold-fifo out=$TMP/hold-out i
    rm -f "$fifo" "$out"
    mkfifo "$fifo"
    hold lan_ipaddr < "$fifo" > "$out" &
    exec 3> "$fifo"
    for i in $(seq 100); do grep -q '^before=' "$out" 2>/dev/null && break; sleep 0.1; done
    run unset fw_model
    run set fw_note=a-longer-value-than-before
    run set brand_new=1
    echo go >&3
    exec 3>&-
    wait $!
    expect_eq "$arch $how: a mapping made before other processes' changes still reads the key at its offset" \
        "$(cat "$out")" "$(printf 'before=127.0.0.1\nold=127.0.0.1 again=127.0.0.1')"
}

# With the refresh of shared mappings (h-fcall): a process that holds its
# mapping sees a value another process set after it mapped, and one it set
# itself; the pointer it got first still reads the old value.
refresh_checks() {
    local arch=$1 how=$2 fifo=$TMP/refresh-fifo out=$TMP/refresh-out i
    rm -f "$fifo" "$out"
    mkfifo "$fifo"
    run set held=red
    hold held a-much-longer-colour < "$fifo" > "$out" &
    exec 3> "$fifo"
    for i in $(seq 100); do grep -q '^before=' "$out" 2>/dev/null && break; sleep 0.1; done
    run set held=set-elsewhere-longer
    echo go >&3
    exec 3>&-
    wait $!
    expect_eq "$arch $how: a held mapping shows another process's set, then its own; old pointers keep the old value" \
        "$(cat "$out")" \
        "$(printf 'before=red\nold=red again=set-elsewhere-longer\nset=0 mine=a-much-longer-colour old=red')"
    expect_eq "$arch $how: ... and the store has the last set" "$(run get held)" "a-much-longer-colour"
}

for arch in $NV_ARCHES; do
    # ------------------------------------------------ without a mount
    R="$TMP/root-$arch"
    RULES="$TMP/rules-$arch"
    LOG="$TMP/q-$arch.log"
    mkdir -p "$R/bin" "$R/dev" "$R/tmp"
    fw_defaults "$R/etc"
    mk_nv_rules "$RULES"
    cp "$GDIR/nvram-$arch" "$R/bin/nvram"
    cp "$GDIR/nvramhold-$arch" "$R/bin/nvramhold"
    run() { SFEMU_LOG="$LOG" qemu "$arch" -L "$R" -rules "$RULES" "$R/bin/nvram" "$@"; }
    hold() { SFEMU_LOG="$LOG" qemu "$arch" -L "$R" -rules "$RULES" "$R/bin/nvramhold" "$@"; }
    client_checks "$arch" "no mount" "$R/sfemu/nvram.txt" "$LOG"
    rc=0; SFEMU_LOG="$TMP/unknown-$arch.log" qemu "$arch" -L "$R" -rules "$RULES" \
        "$R/bin/nvram" get no_such_key no_such_key > /dev/null || rc=$?
    expect_eq "$arch no mount: a get of an unknown key fails" "$rc" 1
    expect_eq "$arch no mount: the unknown key is logged once for two gets" \
        "$(grep -c 'nvram: unknown key no_such_key (add it' "$TMP/unknown-$arch.log")" 1
    expect_eq "$arch no mount: ... and noted once for the run record (fakefile.note)" \
        "$(grep -c 'note: /dev/nvram: nvram: unknown key no_such_key$' "$TMP/unknown-$arch.log")" 1
    ino=$(stat -c %i "$R/sfemu/nvram.txt")
    run set replaced=1
    check "$arch no mount: a set replaces the store file (temp + rename: never seen truncated)" \
        test "$(stat -c %i "$R/sfemu/nvram.txt")" != "$ino"
    expect_eq "$arch no mount: ... leaving no temporary file" "$(ls -A "$R/sfemu")" "nvram.txt"
    rm "$R/sfemu/nvram.txt"
    expect_eq "$arch no mount: a deleted store is seeded again" "$(run get color lan_netmask)" \
        "255.0.0.0"
    expect_no_grep "$arch no mount: no mapping of the device failed" "mmap of the fake resource" "$LOG"
    rm -r "$R/sfemu"
    touch "$R/sfemu" # (a file where the store's directory should be)
    expect_eq "$arch no mount: a store that cannot be written is served from memory" \
        "$(SFEMU_LOG="$TMP/ro-$arch.log" qemu "$arch" -L "$R" -rules "$RULES" "$R/bin/nvram" get lan_ipaddr)" \
        "127.0.0.1"
    expect_grep "$arch no mount: ... and says so" "nvram: cannot write /sfemu/nvram.txt .*kept in memory" \
        "$TMP/ro-$arch.log"

    # ------------------------------------------------ on an sfemu-mount
    R="$TMP/mroot-$arch"
    RULES="$TMP/mrules-$arch"
    LOG="$TMP/mq-$arch.log"
    mk_rootfs "$R"
    fw_defaults "$R/tmp/etc" # (the firmware's /etc is a link to /tmp/etc)
    mk_nv_rules "$RULES"
    cp "$GDIR/nvram-$arch" "$R/bin/nvram"
    cp "$GDIR/nvramhold-$arch" "$R/bin/nvramhold"
    chmod 755 "$R/bin/nvram" "$R/bin/nvramhold"
    mnt "$R" --rules "$RULES"
    DLOG="$R.sfemu/sfemu-mount.log"
    client_checks "$arch" "mount" "$R/sfemu/nvram.txt" "$DLOG"
    expect_grep "$arch mount: the store lives in the upper layer" "^after_edit=1$" \
        "$R.sfemu/tree/sfemu/nvram.txt"
    expect_eq "$arch mount: cat /dev/nvram on the mount shows the store" \
        "$(grep '^lan_' "$R/dev/nvram" | head -1)" "lan_ipaddr=127.0.0.1"
    expect_eq "$arch mount: ls -l shows NVRAM_SPACE as the device's size" "$(stat -c %s "$R/dev/nvram")" 65536
    echo "shell_key=from echo" > "$R/dev/nvram"
    expect_eq "$arch mount: echo k=v > /dev/nvram on the mount sets a key" \
        "$(run get shell_key)" "from echo"
    run get no_such_key > /dev/null || true
    run get no_such_key no_such_key > /dev/null || true
    expect_grep "$arch mount: the unknown key comes back to qemu as a note (fakefile.note over the ring)" \
        'note: /dev/nvram: nvram: unknown key no_such_key$' "$LOG"
    expect_eq "$arch mount: an unknown key is logged once (three gets, two processes)" \
        "$(grep -c 'nvram: unknown key no_such_key (add it' "$DLOG")" 1
    # The daemon rewrites the store (a new file renamed over it): the
    # shell's view through the mount follows each rewrite, after reading it.
    stale=
    for step in "set view_a=1" "set view_b=two" "unset view_b" "set view_b=three" "set view_a=4" "unset view_b"; do
        run $step > /dev/null
        cmp -s "$R/sfemu/nvram.txt" "$R.sfemu/tree/sfemu/nvram.txt" || stale="$stale [$step]"
    done
    expect_eq "$arch mount: the mount's view of the store follows each rewrite" "$stale" ""
    check "$arch mount: set before the remount" run set persist_key=kept
    umnt "$R"
    wait_daemons # (the daemon lets go of its upper directory as it exits)
    check "$arch mount: the firmware tree is untouched (no /sfemu in the lower rootfs)" \
        test ! -e "$R/sfemu"
    expect_grep "$arch mount: ... its defaults file too" "^fw_model=SFEMU-DEMO" "$R/tmp/etc/nvram.default"
    mnt "$R" --rules "$RULES"
    expect_eq "$arch mount: a set persists across a remount" "$(run get persist_key)" "kept"
    expect_grep "$arch mount: ... and shows with cat ROOTFS/sfemu/nvram.txt" "^persist_key=kept$" \
        "$R/sfemu/nvram.txt"
    expect_no_grep "$arch mount: qemu served nothing itself" "served inside this qemu" "$LOG"
    expect_no_grep "$arch mount: no mapping of the device failed" "mmap of the fake resource" "$LOG"
    umnt "$R"
done

# A relative -L: the engine inside qemu reaches the store through the true
# root's own fd (not -L's text, which names nothing once the guest changes
# directory).
REL="$TMP/rel"
mkdir -p "$REL/root/bin" "$REL/root/dev"
cp "$GDIR/nvram-arm" "$REL/root/bin/nvram"
mk_nv_rules "$REL/rules"
( cd "$REL" && "$QDIR/qemu-arm" -L root -rules rules root/bin/nvram set rel_key=rel_value ) \
    > "$TMP/rel.log" 2>&1 || true
expect_grep "relative -L: a set reaches the store inside the root" "^rel_key=rel_value$" \
    "$REL/root/sfemu/nvram.txt"
expect_eq "relative -L: the next process gets it" \
    "$(cd "$REL" && "$QDIR/qemu-arm" -L root -rules rules root/bin/nvram get rel_key 2>/dev/null)" \
    "rel_value"

# The device's fakeconfig names its one path (first line "-- fakefile-path:
# /dev/nvram"): a shell's PATH lookup of a missing /sbin/nvram or
# /usr/sbin/nvram keeps ENOENT instead of becoming a 64 KiB fake.
cp "$GDIR/probe-arm" "$REL/root/bin/probe"
for p in /sbin/nvram /usr/sbin/nvram; do
    ( cd "$REL" && "$QDIR/qemu-arm" -L root -rules rules root/bin/probe stat "$p" ) > "$TMP/o" 2>&1 || true
    expect_grep "a missing $p is not made a fake by /dev/nvram's config (stat)" "stat=-1 errno=2" "$TMP/o"
    ( cd "$REL" && "$QDIR/qemu-arm" -L root -rules rules root/bin/probe open "$p" ) > "$TMP/o" 2>&1 || true
    expect_grep "a missing $p is not made a fake by /dev/nvram's config (open)" "open $p -> -1 errno=2" "$TMP/o"
done
check "no record was made for them" test ! -e "$REL/root/sbin/nvram.fakefile" -a ! -e "$REL/root/usr/sbin/nvram.fakefile"
finish
