# The installed tree (docs/install.md): scripts/install.sh --destdir stages
# `meson install`; the installed sfemu, with no build-tree variable set,
# finds sfemu-qemu-arm, sfemu-mount and share/sfemu/rules_examples beside
# itself and brings up BusyBox httpd with a CGI on a root built from Debian
# armel packages (as run_httpd); the man pages render without warnings; the
# bash completion sources and completes subcommands and options; every
# command has --help.  Loopback only.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
BUILD=${SFEMU_BUILD_DIR:?SFEMU_BUILD_DIR is not set}
D=$TMP/d
require "scripts/install.sh --destdir" \
  bash "$SRC/scripts/install.sh" --builddir "$BUILD" --destdir "$D" --no-rebuild
SFEMU=$(find "$D" -path '*/bin/sfemu' -type f)
P=$(dirname "$(dirname "$SFEMU")")
for f in sfemu sfemu-mount sfemu-binfmt sfemu-ai sfemu-qemu-arm sfemu-qemu-armeb sfemu-qemu-mips \
         sfemu-qemu-mipsel sfemu-qemu-aarch64 sfemu-qemu-arm-static sfemu-qemu-mipsel-static; do
  check "installed: bin/$f" test -x "$P/bin/$f"
done
check_fails "the -stock builds are not installed" compgen -G "$P/bin/*stock*"
check_fails "no bin/qemu-* clashing with Debian's qemu-user" compgen -G "$P/bin/qemu-*"
check "installed: share/sfemu/rules_examples" test -f "$P/share/sfemu/rules_examples/entry.lua"
check "installed: share/doc/sfemu" test -f "$P/share/doc/sfemu/run.md"
check "installed: the completion" test -f "$P/share/bash-completion/completions/sfemu"

# --help of every command
check "sfemu --help" "$P/bin/sfemu" --help
check "sfemu run --help" "$P/bin/sfemu" run --help
check "sfemu-mount --help" "$P/bin/sfemu-mount" --help
check "sfemu-binfmt --help" "$P/bin/sfemu-binfmt" --help
check "sfemu-ai --help" "$P/bin/sfemu-ai" --help
check "sfemu-qemu-arm -h" "$P/bin/sfemu-qemu-arm" -h
# sfemu-binfmt finds the installed static qemu beside itself (refusing
# an architecture only because there is no static build of it)
# (SFEMU_BINFMT_DIR: an empty stand-in; the refusal comes before any write)
mkdir -p "$TMP/binfmt" && : > "$TMP/binfmt/register"
out=$(SFEMU_BINFMT_DIR=$TMP/binfmt "$P/bin/sfemu-binfmt" register --name sfemu-inst-test armeb 2>&1 || true)
expect_grep "sfemu-binfmt: the installed dir is searched" "no static qemu for armeb: $P/bin/qemu-armeb-static" <(echo "$out")

# the installed AI tool: the wrapper finds it beside sfemu-qemu-arm
# (SFEMU_BINDIR, as the runtime sets it), and it finds the installed
# prompt.md (nobody listens on port 1: exit 4 once the request is made)
AIW=$P/share/sfemu/rules_examples/plugins/ai/ai_mcp_openai
expect_match "the installed ai_mcp_openai runs the installed sfemu-ai" '^sfemu-ai [0-9]' \
  "$(env -u SFEMU_AI_TOOL SFEMU_BINDIR="$P/bin" PATH=/usr/bin:/bin /bin/sh "$AIW" --version 2>&1)"
printf 'OPENAI_API_KEY=install-test-key\nOPENAI_BASE_URL=http://127.0.0.1:1/v1\nOPENAI_MODEL=m\nOPENAI_MAX_RETRIES=0\n' > "$TMP/ai.env"
RC=0
env -u SFEMU_AI_PROMPT "$P/bin/sfemu-ai" "$SRC/tests/fixtures/ai/snapshot-exit.json" "$TMP/aip" "$TMP/ai.env" \
  > /dev/null 2>&1 || RC=$?
expect_eq "the installed sfemu-ai finds its prompt and sends the request (exit 4: nobody on port 1)" "$RC" 4
expect_json "the installed sfemu-ai's system prompt is the installed prompt.md" "$TMP/aip/request.json" \
  "r['messages'][0]['content'] == open('$P/share/sfemu/rules_examples/plugins/ai/prompt.md').read()"

# the man pages: present and rendered by man without a warning
for m in man1/sfemu.1 man1/sfemu-mount.1 man1/sfemu-qemu.1 man1/sfemu-ai.1 man7/sfemu-qemu-options.7; do
  f=$P/share/man/$m
  out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
  expect_eq "man $m renders without warnings" "$out" ""
done
MANWIDTH=100 man -l "$P/share/man/man1/sfemu.1" > "$TMP/sfemu.txt" 2>/dev/null
expect_grep "man sfemu names --check" '--check SECONDS' "$TMP/sfemu.txt"
MANWIDTH=200 man -l "$P/share/man/man7/sfemu-qemu-options.7" > "$TMP/opt.txt" 2>/dev/null
expect_grep "the options page is the settings table" 'QEMU_BIND_FALLBACK' "$TMP/opt.txt"

# bash completion
comp() { # comp WORD...: what the completion offers for the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _sfemu; echo "${COMPREPLY[*]}"' \
    sh "$P/share/bash-completion/completions/sfemu" "$@"
}
expect_eq "completion: the subcommand" "$(comp sfemu r)" "run"
expect_eq "completion: options of run" "$(comp sfemu run --n)" "--netns"
expect_grep "completion: every option of run" '--keep-mount' <(comp sfemu run --)
expect_eq "completion: complete -p registers _sfemu" \
  "$(bash -c 'source "$1"; complete -p sfemu' sh "$P/share/bash-completion/completions/sfemu")" \
  "complete -F _sfemu sfemu"

# the installed sfemu run, no build-tree variable
ROOT=$TMP/root
require "Debian armel busybox and libc6, a CGI login page" httpd_root "$ROOT"
MOUNTS+=("$(realpath "$ROOT")")
RC=0
timeout 120 env -u SFEMU_QEMU_DIR -u SFEMU_MOUNT -u SFEMU_MOUNT_BIN -u SFEMU_GUEST_DIR \
  -u SFEMU_RING_FORGE PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  "$P/bin/sfemu" run --out "$TMP/o" --check 40 --netns "$ROOT" -- \
  /bin/busybox httpd -f -p 127.0.0.1:80 -h /www > "$TMP/o.log" 2>&1 || RC=$?
expect_eq "installed sfemu run --check --netns: exit 0" "$RC" 0
expect_grep "the installed patched qemu" "qemu: $P/bin/sfemu-qemu-arm\$" "$TMP/o.log"
expect_grep "the installed rules_examples copied" \
  "rules: a copy of $P/bin/../share/sfemu/rules_examples in" "$TMP/o.log"
expect_json "answered 200, well-formed, the CGI exec'd" "$TMP/o/run.json" \
  "r['reached'] == 'well_formed' and r['ports'][0]['http_code'] == 200 and any(p['execs'] >= 1 for p in r['programs'])"
check_fails "unmounted at the end" is_mounted "$ROOT"

# --init with the installed tree: sfemu-mount's shell engine takes the
# installed rules_examples/init beside itself, not the source tree's
cat > "$ROOT/etc/init.d/rcS" <<'RC'
#!/bin/sh
mkdir -p /tmp/prepared
echo '<html><head><title>Prepared at boot</title></head></html>' > /tmp/prepared/index.html
RC
RC=0
timeout 120 env -u SFEMU_QEMU_DIR -u SFEMU_MOUNT -u SFEMU_MOUNT_BIN -u SFEMU_GUEST_DIR \
  -u SFEMU_RING_FORGE -u SFEMU_INIT_RULES PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  "$P/bin/sfemu" run --init --out "$TMP/o2" --check 40 --netns "$ROOT" -- \
  /bin/busybox httpd -f -p 127.0.0.1:80 -h /tmp/prepared > "$TMP/o2.log" 2>&1 || RC=$?
expect_eq "installed sfemu run --init: exit 0" "$RC" 0
expect_grep "the installed init rules are used" \
  "shell engine: $P/bin/sfemu-qemu-arm, rules $P/bin/../share/sfemu/rules_examples/init\$" \
  "$(realpath "$ROOT").sfemu/init-report.txt"
expect_json "the page rcS wrote is served" "$TMP/o2/run.json" \
  "r['ports'][0]['http_code'] == 200 and r['ports'][0]['title'] == 'Prepared at boot'"
finish
