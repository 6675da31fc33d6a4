# Shared helpers for the sfemu-mount tests (sourced).  Every test works in a
# scratch directory, mounts only there, and unmounts on exit even on failure.
set -euo pipefail
SFEMU_MOUNT=${SFEMU_MOUNT:?set by meson: path of sfemu-mount}
SRC=${SFEMU_SRC:?set by meson: source root}
export LC_ALL=C
T=$(mktemp -d /tmp/sfemu-mount-test.XXXXXX)
chmod 755 "$T"
MOUNTS=()
# ASan/UBSan builds: reports go to files that the cleanup turns into a failure.
# (meson sets *SAN_OPTIONS; the daemon's stderr is /dev/null once it has
# daemonized, so the reports must go to files.)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$T/ubsan"

# Wait (at most 10 s) until no sfemu-mount of this build runs any more.
wait_daemons() {
    local exe p i busy
    exe=$(realpath "$SFEMU_MOUNT")
    for i in $(seq 100); do
        busy=0
        for p in /proc/[0-9]*; do
            if [ "$(readlink "$p/exe" 2>/dev/null)" = "$exe" ]; then busy=1; break; fi
        done
        [ $busy = 0 ] && return 0
        sleep 0.1
    done
    echo "warning: an sfemu-mount daemon is still running" >&2
}

cleanup() {
    local rc=$?
    set +e
    for m in "${MOUNTS[@]}"; do
        if grep -q " $m fuse" /proc/self/mounts 2>/dev/null; then
            fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m"
        fi
    done
    wait_daemons   # sanitizer reports are written when the daemons exit
    local reports
    reports=$(find "$T" -maxdepth 1 \( -name 'asan.*' -o -name 'ubsan.*' \) 2>/dev/null)
    if [ -n "$reports" ]; then
        echo "FAIL: sanitizer report:" >&2
        cat $reports >&2
        rc=1
    fi
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; ok "$3"; }
must_fail() { local what=$1; shift; if "$@" 2>/dev/null; then fail "$what: succeeded"; fi; ok "$what"; }

# A small firmware tree, as a normal user would unpack it (owner 1000).
mk_rootfs() {
    local r=$1
    mkdir -p "$r"/{bin,sbin,dev,proc,tmp/etc,tmp/var,usr/lib,usr/sbin,www/cgi,lib,mnt}
    echo "root:x:0:0:root:/root:/bin/sh" > "$r/tmp/etc/passwd.fw"
    echo "firmware-host" > "$r/tmp/etc/hostname"
    echo "<html>fw</html>" > "$r/www/index.html"
    echo "cgi" > "$r/www/cgi/a.cgi"
    echo "secret" > "$r/www/key.pem"; chmod 600 "$r/www/key.pem"
    head -c 300000 /dev/urandom > "$r/usr/lib/libbig.so"
    ln -s /tmp/etc "$r/etc"
    ln -s /tmp/var "$r/var"
    ln -s libbig.so "$r/usr/lib/libbig.so.1"
    ln -s ../../www/index.html "$r/usr/sbin/index"
    echo '#!/bin/sh' > "$r/bin/busybox"; chmod 755 "$r/bin/busybox"
    chown -R 1000:1000 "$r"
}

# sha256 manifest of a tree: names, types, modes, owners, link targets, data
manifest() {
    (cd "$1" && find . -printf '%p %y %m %U:%G %l\n' | sort &&
     find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# A private copy of the rules tree (tests write configs into it).
mk_rules() {
    mkdir -p "$1"
    cp -a "$SRC/rules_examples/plugins" "$1/"
}

mnt() { # mnt ROOTFS [options...]: mount over ROOTFS
    local r=$1; shift
    "$SFEMU_MOUNT" "$@" "$r"
    MOUNTS+=("$(realpath "$r")")
}
mnt_on() { # mnt_on ROOTFS MOUNTPOINT [options...]
    local r=$1 m=$2; shift 2
    "$SFEMU_MOUNT" "$@" "$r" "$m"
    MOUNTS+=("$(realpath "$m")")
}
umnt() { "$SFEMU_MOUNT" -u "$1"; }
is_mounted() { grep -q " $(realpath "$1") fuse.sfemu " /proc/self/mounts; }
