# The fakefs engine alone (no FUSE): state machine, ioctl, connect, sandbox,
# broken-config reload, restricted require, fakefile.init naming.
. "$(dirname "$0")/common.sh"
mk_rules "$T/rules"
"${SFEMU_TEST_FAKEFS:?}" "$T/rules"
