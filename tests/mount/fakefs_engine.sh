# The fakefs engine alone (no FUSE): state machine, ioctl, connect, sandbox,
# broken-config reload, restricted require, fakefile.init naming.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
mk_rules "$TMP/rules"
check "the engine's own checks (test-fakefs)" "${SFEMU_TEST_FAKEFS:?}" "$TMP/rules"
finish
