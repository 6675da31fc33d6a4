# config/env: its SFEMU_* keys act as the environment (the real environment
# wins), a bad line is named file:line and skipped, and the API key in it
# reaches no file under cache/, no log line and not the tool's environment.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SRC/tests/qemu/ai_lib.sh"
KEY=sk-test-$RANDOM$RANDOM-DO-NOT-LEAK
ai_fix_open "$TMP/fix.lua"
cat > "$TMP/tool.sh" <<SH
#!/bin/sh
echo "envpath: \$3"
env | sort
cp '$TMP/fix.lua' "\$2/fix/syscall/openat.lua"
SH
chmod +x "$TMP/tool.sh"
arch=arm
R=$(ai_rules secret)
mkdir -p "$R/config"
cat > "$R/config/env" <<ENV
# the user's copy
OPENAI_API_KEY=$KEY
OPENAI_BASE_URL=http://127.0.0.1:9/v1
this line is wrong
SFEMU_AI_ENABLE=1
export SFEMU_AI_AUTO_CONTINUE="1"
SFEMU_AI_CMD=$TMP/tool.sh
SFEMU_AI_TIMEOUT_S=soon
ENV
SFEMU_LOG=$TMP/log timeout 60 "$QDIR/qemu-$arch" -rules "$R" "$(aifix $arch)" missing > "$TMP/o" 2>&1; rc=$?
expect_eq "settings from config/env: repaired" "$rc" "0"
expect_grep "bad line named" "^qemu: $R/config/env:4: expected KEY=VALUE; line skipped$" "$TMP/o"
expect_grep "bad value named" "^qemu: $R/config/env:8: SFEMU_AI_TIMEOUT_S 'soon': expected an integer from 1 to 86400; line skipped$" "$TMP/o"
v=$(verdicts "$R")
[ -n "$v" ] && expect_json "validated" "$v" "r['verdict'] == 'validated'"
[ -n "$v" ] && expect_grep "the tool is given config/env's path" "^envpath: $R/config/env$" "$(dirname "$v")/tool.log"
check_fails "the key in no file under cache/" grep -rq -- "$KEY" "$R/cache"
check_fails "the key in no log" grep -rq -- "$KEY" "$R/log" "$TMP/log" "$TMP/o"
check_fails "OPENAI_* not in the tool's environment" grep -q "^OPENAI_" "$(dirname "$v")/tool.log"
check "the snapshot exists (it was searched)" test -s "$(dirname "$v")/snapshot.json"

# no rule reads the file, whatever the way (a generated rule could try)
R3=$(ai_rules secret3)
mkdir -p "$R3/config" "$R3/syscall"
cp "$R/config/env" "$R3/config/env"
cat > "$R3/syscall/getpid.lua" <<'LUA'
function do_syscall(num)
  c_log("read rules_file: " .. tostring(c_rules_file("config/env")))
  c_log("read open_host: " .. tostring(c_open_host(sfemu.rules_dir .. "/config/env", 0)))
  c_log("read loadfile: " .. tostring(select(2, pcall(loadfile, "config/env"))))
  c_log("read dofile: " .. tostring(select(2, pcall(dofile, "config/env"))))
end
LUA
SFEMU_AI_ENABLE=0 SFEMU_OPEN_HOST_ALLOW="$R3/config/" timeout 60 "$QDIR/qemu-$arch" -rules "$R3" "$(probe $arch)" getpid > "$TMP/o" 2>&1
expect_grep "c_rules_file refuses config/env" "read rules_file: nil$" "$TMP/o"
expect_grep "c_open_host refuses it (even when allowed)" "read open_host: -13$" "$TMP/o"
expect_grep "loadfile refuses it" "read loadfile: .*outside the rules tree" "$TMP/o"
expect_grep "dofile refuses it" "read dofile: .*outside the rules tree" "$TMP/o"
check_fails "the key in no output" grep -q -- "$KEY" "$TMP/o"

# the real environment wins over the file
R2=$(ai_rules secret2)
mkdir -p "$R2/config"
cp "$R/config/env" "$R2/config/env"
SFEMU_AI_ENABLE=0 timeout 60 "$QDIR/qemu-$arch" -rules "$R2" "$(aifix $arch)" missing > "$TMP/o" 2>&1; rc=$?
expect_eq "SFEMU_AI_ENABLE=0 in the environment wins" "$rc" "1"
check "no attempt then" test -z "$(ls -A "$R2/cache/ai_runs" 2>/dev/null)"
# SFEMU_AI_ENV names another file
mv "$R2/config/env" "$TMP/other.env"
SFEMU_AI_ENV=$TMP/other.env timeout 60 "$QDIR/qemu-$arch" -rules "$R2" "$(aifix $arch)" missing > "$TMP/o" 2>&1; rc=$?
expect_eq "SFEMU_AI_ENV's file is read" "$rc" "0"
v=$(verdicts "$R2")
[ -n "$v" ] && expect_grep "the tool is given SFEMU_AI_ENV's path" "^envpath: $TMP/other.env$" "$(dirname "$v")/tool.log"
finish
