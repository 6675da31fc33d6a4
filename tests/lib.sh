# tests/lib.sh: the one harness of the shell tests (suites qemu, mount and
# unit; docs/testing.md says how to add a test).  A test is a bash script
# registered in tests/meson.build that starts with
#     source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
# and ends with `finish`.
#
# Checks print "ok   - LABEL" or "FAIL - LABEL (why)", never stop the script
# and return 0, so one run reports every failure.  The script exits non-zero
# if a check failed, if no check ran, or if it ended before `finish`.
#   pass LABEL / fail LABEL          a result the script decided itself
#   fatal LABEL                      fail, and end the script (a step every
#                                    later one needs)
#   check LABEL CMD [ARG...]         CMD exits 0
#   check_fails LABEL CMD [ARG...]   CMD exits non-zero (its stderr hidden)
#   check_fails_with LABEL ERE CMD [ARG...]
#                                    CMD exits non-zero and its output
#                                    (stdout and stderr) matches ERE
#   expect_eq LABEL GOT WANT         the strings are equal
#   expect_match LABEL ERE TEXT      a line of TEXT matches ERE
#   expect_no_match LABEL ERE TEXT   no line of TEXT matches ERE
#   expect_grep LABEL ERE FILE       a line of FILE matches ERE
#   expect_no_grep LABEL ERE FILE    no line of FILE matches ERE
#   expect_json LABEL FILE PYEXPR    the Python expression is true of the
#                                    JSON document of FILE, named r
#   require LABEL CMD [ARG...]       as check, but a failure ends the script
#                                    (for a step every later one needs)
#   strict                           from here on (and with pipefail) a
#                                    command that fails outside a condition
#                                    (where set -e would stop) is a failed
#                                    check naming its line; the script goes
#                                    on (the mount tests use it)
#   at_exit 'COMMAND LINE'           run it (eval) at exit, before the cleanup
# No test skips: a missing prerequisite is a failure.  The one exception is
# `skip_test REASON` for what the machine cannot give (pjdfstest needs root).  Counts are kept in a
# file, so checks inside subshells and pipelines count too.
#
# Scratch: $TMP, a fresh directory (mode 755: tests run commands as other
# users), removed at exit.  Mounts made with mnt/mnt_on are unmounted at exit
# even after a failure, and an ASan/UBSan report of any process of the test
# (they go to files: a daemon's stderr is gone once it has daemonized) is a
# failed check.
#
# Environment (set by tests/meson.build): SFEMU_SRC the source tree ($SRC),
# SFEMU_MOUNT the sfemu-mount binary; suite qemu: SFEMU_QEMU_DIR the qemu-*
# binaries ($QDIR), SFEMU_GUEST_DIR the test guests ($GDIR).
#
# qemu helpers:  qemu ARCH ARG...  (runs the patched qemu-ARCH), probe ARCH
#   (path of the probe guest), rules_dir NAME (a new rules dir in $TMP),
#   $ARCHES (the guest architectures; SFEMU_TEST_ARCHES overrides).
# mount helpers: mk_rootfs DIR (a small firmware tree, as uid 1000 unpacks
#   it), mk_rules DIR (a copy of rules_examples/plugins), manifest DIR (sha256
#   listing: names, types, modes, owners, links, data), mnt ROOTFS [OPT...]
#   and mnt_on ROOTFS MOUNTPOINT [OPT...] (a failure ends the script),
#   umnt DIR, is_mounted DIR, wait_daemons (until this test's daemons exit).
set -u
SRC=${SFEMU_SRC:?run through meson test: SFEMU_SRC is not set}
SFEMU_MOUNT=${SFEMU_MOUNT:-}
QDIR=${SFEMU_QEMU_DIR:-}
GDIR=${SFEMU_GUEST_DIR:-}
ARCHES=${SFEMU_TEST_ARCHES:-arm mipsel mips aarch64}
export LC_ALL=C
TMP=$(mktemp -d /tmp/sfemu-test.XXXXXX)
chmod 755 "$TMP"
_RESULTS=$TMP/.harness-results
: > "$_RESULTS"
_FINISHED= _STOPPED= _STRICT= _LAST_ERR= _SKIPPED=
_AT_EXIT=()
MOUNTS=()
# meson sets *SAN_OPTIONS; the reports go to files the cleanup looks at.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$TMP/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$TMP/ubsan"

# ------------------------------------------------------------------ checks
# (Each returns 0, pass or fail, so that a strict script never counts a
# failed check twice.)
pass() { echo ok >> "$_RESULTS"; echo "ok   - $*"; }
fail() { echo FAIL >> "$_RESULTS"; echo "FAIL - $*"; }
_show() { awk '{ print "    | " $0 }' | head -20 || true; }   # indented excerpt of stdin (each line ends)

check() {
    local label=$1 rc=0
    shift
    "$@" || rc=$?
    if [ $rc -eq 0 ]; then pass "$label"; else fail "$label ($1: status $rc)"; fi
    return 0
}
check_fails() {
    local label=$1
    shift
    if "$@" 2>/dev/null; then fail "$label ($1 succeeded)"; else pass "$label"; fi
    return 0
}
check_fails_with() {
    local label=$1 re=$2 out rc=0
    shift 2
    out=$("$@" 2>&1) || rc=$?
    if [ $rc -eq 0 ]; then
        fail "$label ($1 succeeded:)"
        _show <<< "$out"
    elif grep -qE -- "$re" <<< "$out"; then
        pass "$label"
    else
        fail "$label (status $rc, no /$re/ in the output:)"
        _show <<< "$out"
    fi
    return 0
}
expect_eq() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    elif [[ "$2$3" == *$'\n'* ]]; then
        fail "$1 (differs: - want, + got)"
        diff <(echo "$3") <(echo "$2") | sed -n 's/^</-/p; s/^>/+/p' | _show
    else
        fail "$1 (got '$2', want '$3')"
    fi
    return 0
}
expect_match() {
    if grep -qE -- "$2" <<< "$3"; then
        pass "$1"
    else
        fail "$1 (no /$2/ in:)"
        _show <<< "$3"
    fi
    return 0
}
expect_no_match() {
    if grep -qE -- "$2" <<< "$3"; then
        fail "$1 (unexpected /$2/ in:)"
        grep -E -- "$2" <<< "$3" | _show
    else
        pass "$1"
    fi
    return 0
}
expect_grep() {
    if grep -qE -- "$2" "$3"; then
        pass "$1"
    else
        fail "$1 (no /$2/ in $3:)"
        _show < "$3"
    fi
    return 0
}
expect_no_grep() {
    if grep -qE -- "$2" "$3"; then
        fail "$1 (unexpected /$2/ in $3:)"
        grep -E -- "$2" "$3" | _show
    else
        pass "$1"
    fi
    return 0
}
expect_json() {
    local out
    out=$(python3 - "$2" "$3" 2>&1 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("true" if eval(sys.argv[2]) else "false")
PY
) || true
    if [ "$out" = true ]; then pass "$1"; else fail "$1 ($3 -> $out)"; fi
    return 0
}
_stop() { echo "# stopping here: the later steps need this one"; _STOPPED=1; exit 1; }
fatal() { fail "$@"; _stop; }
skip_test() { echo "skip: $*"; _SKIPPED=1; exit 77; }
require() {
    local label=$1 rc=0
    shift
    "$@" || rc=$?
    if [ $rc -eq 0 ]; then pass "$label"; else fail "$label ($1: status $rc)"; _stop; fi
}
strict() { _STRICT=1; set -o pipefail; }
at_exit() { _AT_EXIT+=("$1"); }
finish() { _FINISHED=1; exit 0; }

_on_err() { # STATUS LINE COMMAND: the ERR trap
    _LAST_ERR="line $2: $3 (status $1)"
    [ -z "$_STRICT" ] || fail "line $2: '$3' failed (status $1)"
    return 0
}
trap '_on_err $? $LINENO "$BASH_COMMAND"' ERR

_on_exit() {
    local rc=$? c m reports checks fails
    set +e
    trap - ERR
    if [ -n "$_SKIPPED" ]; then rm -rf "$TMP"; exit 77; fi
    for c in "${_AT_EXIT[@]}"; do eval "$c"; done
    for m in "${MOUNTS[@]}"; do
        if grep -q " $m fuse" /proc/self/mounts 2>/dev/null; then
            fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m"
        fi
    done
    [ ${#MOUNTS[@]} -eq 0 ] || wait_daemons # reports are written at exit
    reports=$(find "$TMP" -maxdepth 1 \( -name 'asan.*' -o -name 'ubsan.*' \))
    if [ -n "$reports" ]; then
        fail "sanitizer report:"
        cat $reports
    fi
    if [ -z "$_FINISHED" ] && [ -z "$_STOPPED" ]; then
        fail "the script ended before finish (status $rc${_LAST_ERR:+; last failed command: $_LAST_ERR})"
    fi
    checks=$(grep -c . "$_RESULTS")
    fails=$(grep -c FAIL "$_RESULTS")
    if [ "$checks" -eq 0 ]; then
        echo "FAIL - no check ran"
        fails=1
    fi
    echo "# $checks checks, $fails failed"
    rm -rf "$TMP"
    [ "$fails" -eq 0 ] && exit 0
    exit 1
}
trap _on_exit EXIT

# ------------------------------------------------------------ qemu helpers
qemu() {
    local arch=$1
    shift
    "${QDIR:?SFEMU_QEMU_DIR is not set}/qemu-$arch" "$@"
}
probe() { echo "$GDIR/probe-$1"; }
rules_dir() { mkdir -p "$TMP/$1"; echo "$TMP/$1"; }

# ----------------------------------------------------------- mount helpers
# ring_fixture RULES BINDIR: a copy of rules_examples at RULES whose
# /dev/ring0 has tests/fixtures/ring.fakeconfig.lua, and the guest
# tests/mount/ring_guest.c built for ARM and big-endian MIPS as
# BINDIR/g-arm and BINDIR/g-mips (tests/mount/ring.sh, fake_device.sh).
ring_fixture() {
    cp -a "$SRC/rules_examples" "$1" &&
    cp "$SRC/tests/fixtures/ring.fakeconfig.lua" \
       "$1/plugins/fakefile/config/ring0.fakeconfig.lua" &&
    arm-linux-gnueabi-gcc -static -O2 -o "$2/g-arm" "$SRC/tests/mount/ring_guest.c" &&
    mips-linux-gnu-gcc -static -O2 -o "$2/g-mips" "$SRC/tests/mount/ring_guest.c"
}
# httpd_root DIR: a router-style root from Debian armel BusyBox and libc6,
# with a CGI login page /www/cgi-bin/index.cgi (sfemu run's tests).
httpd_root() {
    local d=$1 a
    bash "$SRC/scripts/debian-packages.sh" armel "$d" busybox libc6 || return 1
    for a in sh ash cat echo; do ln -sf busybox "$d/bin/$a"; done
    mkdir -p "$d"/{www/cgi-bin,etc/init.d,tmp,proc,dev}
    cat > "$d/www/cgi-bin/index.cgi" <<'CGI'
#!/bin/sh
echo "Content-Type: text/html"
echo
echo "<html><head><title>Router login</title></head><body><form>"
echo "<input type=password name=p></form></body></html>"
CGI
    chmod 755 "$d/www/cgi-bin/index.cgi"
}
mk_rootfs() {
    (
        set -e
        r=$1
        mkdir -p "$r"/{bin,sbin,dev,proc,tmp/etc,tmp/var,usr/lib,usr/sbin,www/cgi,lib,mnt}
        echo "root:x:0:0:root:/root:/bin/sh" > "$r/tmp/etc/passwd.fw"
        echo "firmware-host" > "$r/tmp/etc/hostname"
        echo "<html>fw</html>" > "$r/www/index.html"
        echo "cgi" > "$r/www/cgi/a.cgi"
        echo "secret" > "$r/www/key.pem"
        chmod 600 "$r/www/key.pem"
        head -c 300000 /dev/urandom > "$r/usr/lib/libbig.so"
        ln -s /tmp/etc "$r/etc"
        ln -s /tmp/var "$r/var"
        ln -s libbig.so "$r/usr/lib/libbig.so.1"
        ln -s ../../www/index.html "$r/usr/sbin/index"
        echo '#!/bin/sh' > "$r/bin/busybox"
        chmod 755 "$r/bin/busybox"
        chown -R 1000:1000 "$r"
    ) || { fail "mk_rootfs $1"; _stop; }
}
mk_rules() {
    mkdir -p "$1" && cp -a "$SRC/rules_examples/plugins" "$1/" || { fail "mk_rules $1"; _stop; }
}
manifest() {
    (cd "$1" && find . -printf '%p %y %m %U:%G %l\n' | sort &&
     find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
mnt() { # mnt ROOTFS [OPTION...]: sfemu-mount over ROOTFS
    local r=$1
    shift
    MOUNTS+=("$(realpath "$r")")
    "${SFEMU_MOUNT:?SFEMU_MOUNT is not set}" "$@" "$r" || { fail "sfemu-mount $* $r"; _stop; }
}
mnt_on() { # mnt_on ROOTFS MOUNTPOINT [OPTION...]
    local r=$1 m=$2
    shift 2
    MOUNTS+=("$(realpath "$m")")
    "${SFEMU_MOUNT:?SFEMU_MOUNT is not set}" "$@" "$r" "$m" || { fail "sfemu-mount $* $r $m"; _stop; }
}
umnt() { "$SFEMU_MOUNT" -u "$1" || fail "sfemu-mount -u $1"; }
is_mounted() { grep -q " $(realpath "$1") fuse.sfemu " /proc/self/mounts; }
# Waits (at most 10 s) until no sfemu-mount started by this test runs (its
# environment names this test's $TMP): sanitizer reports are written at exit.
wait_daemons() {
    local exe p i busy
    exe=$(realpath "$SFEMU_MOUNT")
    for i in $(seq 100); do
        busy=0
        for p in /proc/[0-9]*; do
            [ "$p/exe" -ef "$exe" ] || continue # (-ef: no fork per process)
            if grep -qaF -- "log_path=$TMP/asan" "$p/environ" 2>/dev/null; then busy=1; break; fi
        done
        [ $busy = 0 ] && return 0
        sleep 0.1
    done
    echo "warning: an sfemu-mount daemon of this test is still running" >&2
}
