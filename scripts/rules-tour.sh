#!/usr/bin/env bash
# The demo: builds SFEmu (installing what is missing) and runs a
# cross-compiled ARM program under the patched qemu-arm with the seed's rules,
# showing each rule at work.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
Q=build/qemu-hooks/qemu-arm
P=build/tests/guest/probe-arm
# Runs write reports and fake-resource files into the rules tree (the seed's
# cache/ and plugins/fakefile/): the demo works on a copy, never in the checkout.
RULES=$(mktemp -d /tmp/sfemu-demo-rules.XXXXXX)
ROOT=$(mktemp -d /tmp/sfemu-demo-root.XXXXXX)
trap 'rm -rf "$ROOT" "$RULES"' EXIT
cp -r rules_examples/. "$RULES/"
BEFORE=$(git status --porcelain --ignored -- rules_examples 2>/dev/null || true)
EX=$RULES/examples_v2
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

step "stock behaviour: no -rules" "$Q $P getpid"
$Q $P getpid
step "write.lua: log before and after every write" "$Q -rules $EX $P write"
$Q -rules $EX $P write
step "getpid.lua: modify the real result (+10000)" "$Q -rules $EX $P getpid"
$Q -rules $EX $P getpid
step "getpid.lua: fake it without the real syscall" "SFEMU_GETPID_MODE=fake $Q -rules $EX $P getpid"
SFEMU_GETPID_MODE=fake $Q -rules $EX $P getpid
step "socket.lua: block network sockets, let unix sockets through" "SFEMU_SOCKET_BLOCK_ALL=1 $Q -rules $EX $P socket"
SFEMU_SOCKET_BLOCK_ALL=1 $Q -rules $EX $P socket
step "entry.lua/finish.lua record every syscall; an override dumps the ring at exit" \
  "SFEMU_RULES_OVERRIDE_DIR=demo $Q -rules \$RULES -rules-ctx-keep 8 $P hello"
SFEMU_RULES_OVERRIDE_DIR=demo $Q -rules "$RULES" -rules-ctx-keep 8 $P hello
mkdir -p "$ROOT/bin" "$ROOT/dev" "$ROOT/tmp"
cp "$P" "$ROOT/bin/probe"
step "fakefile: the guest opens a missing /dev/nvram; it becomes a fake device (true root: -L)" \
  "$Q -L \$ROOT -rules \$RULES \$ROOT/bin/probe fakeio /dev/nvram"
$Q -L "$ROOT" -rules "$RULES" "$ROOT/bin/probe" fakeio /dev/nvram
step "the three pieces" "cat \$ROOT/dev/nvram.fakefile; ls \$RULES/plugins/fakefile/{config,data}"
cat "$ROOT/dev/nvram.fakefile"
ls "$RULES"/plugins/fakefile/config "$RULES"/plugins/fakefile/data
echo
echo "Rules live in rules_examples/ (copy it before use); see docs/rules-api.md and docs/fakefile.md."
if [ "$(git status --porcelain --ignored -- rules_examples 2>/dev/null || true)" != "$BEFORE" ]; then
  echo "demo: a run wrote into the checkout's rules_examples/" >&2
  exit 1
fi
