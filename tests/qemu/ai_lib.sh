# Helpers shared by the ai_*.sh tests (sourced after tests/lib.sh): AI
# repair (docs/ai-repair.md) with shell-script tools, on the guest
# tests/guest/aifix.c.
aifix() { echo "$GDIR/aifix-$1"; }
AI_ARCHES="arm mipsel"
# ai_rules NAME: a rules dir with the examples' entry.lua, finish.lua and
# base/ai.lua (and nothing else: the tests watch what AI adds)
ai_rules() {
  local r; r=$(rules_dir "$1")
  mkdir -p "$r/base" "$r/syscall_override"
  cp "$SRC/rules_examples/entry.lua" "$SRC/rules_examples/finish.lua" "$r/"
  cp "$SRC/rules_examples/base/ai.lua" "$r/base/"
  echo "$r"
}
# ai_tool FILE RULE [NAME]: a tool script that records its arguments and
# SFEMU_BINDIR on stdout (tool.log) and copies RULE to
# PATCH_DIR/fix/syscall/NAME.lua (NAME: openat)
ai_tool() {
  cat > "$1" <<SH
#!/bin/sh
echo "tool args: \$# \$1 \$2 \$3"
echo "tool bindir: \$SFEMU_BINDIR"
cp '$2' "\$2/fix/syscall/${3:-openat}.lua"
SH
  chmod +x "$1"
}
# The fix of /dev/sfemu_missing and /dev/sfemu_loop: a descriptor of /dev/zero.
ai_fix_open() {
  cat > "$1" <<'LUA'
function do_syscall(num, dirfd, path, flags)
  local p = c_read_string(path, 64)
  if p == "/dev/sfemu_missing" or p == "/dev/sfemu_loop" then
    return 1, c_open_host("/dev/zero", 0)
  end
  return 0, 0
end
LUA
}
# ai_open_tool: TOOL=$TMP/tool.sh, a tool whose fix is ai_fix_open's
# ($TMP/fix.lua)
ai_open_tool() {
  ai_fix_open "$TMP/fix.lua"
  TOOL=$TMP/tool.sh
  ai_tool "$TOOL" "$TMP/fix.lua"
}
# ai_run R ARCH MODE: the guest under AI with the tool $TOOL, unattended
ai_run() {
  local r=$1 arch=$2 mode=$3
  SFEMU_AI_ENABLE=1 SFEMU_AI_AUTO_CONTINUE=1 SFEMU_AI_CMD="$TOOL" \
    timeout 120 "$QDIR/qemu-$arch" -rules "$r" "$(aifix "$arch")" "$mode"
}
# verdicts R: the run directories' verdict.json files, oldest first
verdicts() { ls "$1"/cache/ai_runs/*/verdict.json 2>/dev/null; }
# snapshot_valid FILE: against docs/ai-snapshot.schema.json (Draft 2020-12)
snapshot_valid() {
  python3 - "$SRC/docs/ai-snapshot.schema.json" "$1" <<'PY'
import json, sys, jsonschema
s = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(s)
try:
    jsonschema.Draft202012Validator(s).validate(json.load(open(sys.argv[2])))
except jsonschema.ValidationError as e:
    sys.exit("invalid: %s at %s" % (e.message[:200], list(e.absolute_path)))
PY
}
