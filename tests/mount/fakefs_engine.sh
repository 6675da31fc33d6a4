# The fakefs engine alone (no FUSE): state machine, ioctl, connect, sandbox,
# broken-config reload, restricted require, fakefile.init naming; runaways
# (load-time loops, loops around pcall, patterns, memory) end with -EIO,
# one stuck resource does not stop the others, the counted pattern functions
# give Lua's own results.  The time limit fails a hang.
. "$(dirname "$0")/common.sh"
mk_rules "$T/rules"
timeout 120 "${SFEMU_TEST_FAKEFS:?}" "$T/rules"
