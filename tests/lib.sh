# Shared helpers for the shell tests.  Each test script sources this file,
# calls check/expect_* as it goes, and ends with `finish`.
set -u
SRC=${SFEMU_SRC:?run through meson test}
QDIR=${SFEMU_QEMU_DIR:?}
GDIR=${SFEMU_GUEST_DIR:?}
ARCHES=${SFEMU_TEST_ARCHES:-arm mipsel mips aarch64}
TMP=$(mktemp -d /tmp/sfemu-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
CHECKS=0

pass() { CHECKS=$((CHECKS + 1)); echo "ok   - $*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL - $*"; }

# expect_grep LABEL PATTERN FILE
expect_grep() {
  if grep -qE -- "$2" "$3"; then pass "$1"; else fail "$1 (no /$2/ in $3:)"; sed 's/^/    | /' "$3" | head -20; fi
}
expect_no_grep() {
  if grep -qE -- "$2" "$3"; then fail "$1 (unexpected /$2/ in $3:)"; grep -E -- "$2" "$3" | head -5 | sed 's/^/    | /'; else pass "$1"; fi
}
expect_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (got '$2', want '$3')"; fi
}

qemu() { local arch=$1; shift; "$QDIR/qemu-$arch" "$@"; }
probe() { echo "$GDIR/probe-$1"; }

# A rules dir from heredocs: rules_dir NAME, then write files into it.
rules_dir() { mkdir -p "$TMP/$1"; echo "$TMP/$1"; }

finish() {
  echo "# $CHECKS checks, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}
