# The fakefs engine alone (no FUSE): state machine, ioctl, connect, sandbox,
# broken-config reload, restricted require, fakefile.init naming; runaways
# (load-time loops, loops around pcall, patterns, memory) end with -EIO,
# one stuck resource does not stop the others.  The time limit fails a hang.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
mk_rules "$TMP/rules"
check "the engine's own checks (test-fakefs)" timeout 120 "${SFEMU_TEST_FAKEFS:?}" "$TMP/rules"
finish
