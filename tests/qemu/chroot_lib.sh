# Helpers shared by the chroot_*.sh tests (sourced after tests/lib.sh): a
# router-style root from Debian's BusyBox and C library, mounted with
# sfemu-mount, with /proc and the rules tree inside, used through chroot(8)
# (docs/chroot.md).
CHROOT_ARCHES="arm mipsel"
deb_of() { case $1 in arm) echo armel ;; mipsel) echo mipsel ;; esac; }

# chroot_root ARCH DIR: the firmware tree (the lower layer): BusyBox and its
# applets, the Broadcom-style nvram client, a "#!" script, no /dev/nvram.
chroot_root() {
    local a=$1 d=$2 n
    bash "$SRC/scripts/debian-packages.sh" "$(deb_of "$a")" "$d" busybox libc6 \
        > "$TMP/deb-$a.log" 2>&1 || { cat "$TMP/deb-$a.log"; return 1; }
    for n in sh cat echo ls; do ln -sf busybox "$d/bin/$n"; done
    mkdir -p "$d/dev" "$d/proc" "$d/etc"
    cp "$GDIR/nvram-$a" "$d/bin/nvram"
    printf '#!/bin/sh\necho "script-ok $1"\n' > "$d/bin/hello.sh"
    chmod 755 "$d/bin/nvram" "$d/bin/hello.sh"
    rm -rf "$d/tmp" "$d/var"
    ln -s /tmp/var "$d/var"
}

# chroot_rules DIR: the shipped rules tree, without earlier runs' pieces.
chroot_rules() {
    cp -r "$SRC/rules_examples" "$1" &&
        rm -rf "$1"/cache/* "$1"/plugins/fakefile/data/*
}

# chroot_mount ROOT RULES: sfemu-mount ROOT serving RULES, /proc mounted in
# it and RULES bound at /sfemu/rules (the same tree for the daemon and the
# guest's qemu); both are unmounted at exit, before the mount.
chroot_mount() {
    local r=$1 rules=$2
    mnt "$r" --rules "$rules" --no-negative-cache
    mount -t proc proc "$r/proc" || { fail "mount proc in $r"; _stop; }
    at_exit "! mountpoint -q '$r/proc' || umount '$r/proc'"
    mkdir -p "$r/sfemu/rules"
    mount --bind "$rules" "$r/sfemu/rules" || { fail "bind the rules in $r"; _stop; }
    at_exit "! mountpoint -q '$r/sfemu/rules' || umount '$r/sfemu/rules'"
}

# The commands every chroot run does, in the guest's busybox sh: a fake
# device (the nvram client opens the missing /dev/nvram), guest execs (an
# ELF, a "#!" script) and writes (through the missing /var too).
CHROOT_SCRIPT='/bin/nvram set chroot_key=from_chroot; echo "get=$(/bin/nvram get chroot_key)"
/bin/hello.sh arg; /bin/echo exec-ok
echo written > /tmp/in-upper; mkdir -p /var/run; echo 1 > /var/run/x.pid; cat /tmp/in-upper'

# chroot_checks LABEL ROOT OUT LOG: what the run must show.
chroot_checks() {
    local l=$1 r=$2 out=$3 log=$4
    expect_grep "$l: the guest's nvram get answers its set (a fake /dev/nvram)" '^get=from_chroot$' "$out"
    check "$l: the fake device is in the mount (/dev/nvram.fakefile)" test -f "$r/dev/nvram.fakefile"
    expect_eq "$l: the host's shell sees the guest's key through the daemon (one state machine)" \
        "$(grep '^chroot_key=' "$r/dev/nvram" 2>/dev/null)" "chroot_key=from_chroot"
    expect_no_grep "$l: the guest root is found to be the sfemu-mount" 'not an sfemu-mount' "$log"
    expect_no_grep "$l: fake resources are served by the daemon, not inside qemu" 'served inside this qemu' "$log"
    expect_no_grep "$l: the daemon serves the same rules tree as -rules" 'not from -rules' "$log"
    expect_grep "$l: guest exec of a \"#!\" script" '^script-ok arg$' "$out"
    expect_grep "$l: guest exec of an ELF" '^exec-ok$' "$out"
    expect_grep "$l: a write reads back" '^written$' "$out"
    check "$l: the write is in the upper layer" test -f "$r.sfemu/tree/tmp/in-upper"
    check "$l: the pid file under the missing /var is in the upper layer" test -f "$r.sfemu/tree/tmp/var/run/x.pid"
    check "$l: the fake device's record is in the upper layer" test -f "$r.sfemu/tree/dev/nvram.fakefile"
}

# chroot_teardown ARCH DIR: undo the mounts inside and the sfemu-mount; the
# firmware tree (lower) must be as chroot_root left it ($TMP/lower-before-ARCH).
chroot_teardown() {
    local a=$1 r=$2
    umount "$r/sfemu/rules"
    umount "$r/proc"
    umnt "$r"
    manifest "$r" > "$TMP/lower-after-$a"
    check "$a: the firmware tree (lower) is unchanged" cmp -s "$TMP/lower-before-$a" "$TMP/lower-after-$a"
}
