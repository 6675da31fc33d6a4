# AI repair end to end through the built-in tool (issue 18): the guest under
# the patched qemu -> base/ai.lua -> SFEMU_AI_MCP_ENABLE=1 (no SFEMU_AI_CMD)
# -> RULES/plugins/ai/ai_mcp_openai -> build/tools/sfemu-ai/sfemu-ai (found
# from SFEMU_BINDIR, qemu's directory) -> tests/ai/chat_server.py on
# 127.0.0.1, replaying recorded model answers (tests/fixtures/ai/answers/:
# each file is an assistant message's content).  The settings, the key
# included, are in RULES/config/env, as a user writes them.
# Cases: an exit on a missing device (fixed, re-exec, exit 0, validated,
# exported; the request has the model, the snapshot and the bearer key), an
# ioctl error retried in place, a dead loop, a malformed answer, a rule that
# does not compile, a rule that makes things worse, a server that hangs
# (twice: OPENAI_TIMEOUT_S under and over SFEMU_AI_TIMEOUT_S),
# SFEMU_REEXEC_MAX, a server quoting the key back (401), and the key in no
# file under cache/ and on no log line (yet sent to every server).
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SRC/tests/qemu/ai_lib.sh"
unset SFEMU_AI_CMD SFEMU_AI_TOOL SFEMU_AI_PROMPT SFEMU_AI_ENV OPENAI_API_KEY \
      OPENAI_BASE_URL OPENAI_MODEL OPENAI_TIMEOUT_S OPENAI_MAX_RETRIES
KEY=sk-test-$$-$RANDOM$RANDOM-e2e-do-not-leak
MODEL=e2e-model-3
printf %s "$KEY" > "$TMP/key"   # (checks read it here: no key in the test's output)
ANS=$SRC/tests/fixtures/ai/answers
PIDS=()
at_exit 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done'
# The wrapper must find the tool by itself, in the build tree beside qemu.
require "sfemu-ai is built where ai_mcp_openai looks (SFEMU_BINDIR/../tools/sfemu-ai/)" \
  test -x "$QDIR/../tools/sfemu-ai/sfemu-ai"

# serve NAME ENTRY...: a chat server on 127.0.0.1 answering, in order, ENTRY
# (a fixture's name: its text is the assistant's content; fenced:NAME: the
# same inside a ```json block with prose around it; {JSON}: a raw
# chat_server entry such as {"hang": true}).  Logs to $TMP/NAME.log; PORT.
serve() {
  local n=$1 i
  shift
  /usr/bin/python3 - "$TMP/$n.answers" "$ANS" "$@" <<'PY' || fatal "answers for $n"
import json, sys
out, ans, entries = sys.argv[1], sys.argv[2], sys.argv[3:]
def text(name):
    return open("%s/%s" % (ans, name)).read()
a = []
for e in entries:
    if e.startswith("{"):
        a.append(json.loads(e))
    elif e.startswith("fenced:"):
        a.append("Here is the rule.\n\n```json\n" + text(e[7:]) + "```\n\nIt fakes the device.")
    else:
        a.append(text(e))
json.dump(a, open(out, "w"))
PY
  /usr/bin/python3 "$SRC/tests/ai/chat_server.py" --answers "$TMP/$n.answers" \
    --log "$TMP/$n.log" --port-file "$TMP/$n.port" 2> "$TMP/$n.server.err" &
  PIDS+=($!)
  for i in $(seq 200); do
    [ -s "$TMP/$n.port" ] && break
    sleep 0.05
  done
  PORT=$(cat "$TMP/$n.port" 2>/dev/null) || fatal "chat server $n did not start"
  touch "$TMP/$n.log"
}
# e2e_rules NAME [LINE...]: ai_rules plus plugins/ai/ and config/env for the
# server on $PORT (OTO: OPENAI_TIMEOUT_S, ATO: SFEMU_AI_TIMEOUT_S), then LINEs
e2e_rules() {
  local r
  r=$(ai_rules "$1")
  shift
  mkdir -p "$r/plugins" "$r/config"
  cp -r "$SRC/rules_examples/plugins/ai" "$r/plugins/"
  cat > "$r/config/env" <<ENV
# the test's settings (config/env.example)
OPENAI_BASE_URL=http://127.0.0.1:$PORT/v1
OPENAI_API_KEY=$KEY
OPENAI_MODEL=$MODEL
OPENAI_TIMEOUT_S=${OTO:-30}
OPENAI_MAX_RETRIES=0
SFEMU_AI_ENABLE=1
SFEMU_AI_AUTO_CONTINUE=1
SFEMU_AI_MCP_ENABLE=1
SFEMU_AI_TIMEOUT_S=${ATO:-90}
ENV
  printf '%s\n' "$@" >> "$r/config/env"
  echo "$r"
}
# run R ARCH MODE OUT [VAR=VALUE...]: the guest; RC its status, OUT its
# stdout and stderr (qemu's log lines included)
OUTS=()
run() {
  local r=$1 arch=$2 mode=$3 out=$4
  shift 4
  OUTS+=("$out")
  RC=0
  env "$@" timeout 150 "$QDIR/qemu-$arch" -rules "$r" "$(aifix "$arch")" "$mode" > "$out" 2>&1 || RC=$?
}
# content FIXTURE SYSCALL: the fixture's rule for SYSCALL, as the model wrote it
content() {
  /usr/bin/python3 -c 'import json, sys
for f in json.load(open(sys.argv[1]))["files"]:
    if f["kind"] == "fix" and f["syscall"] == sys.argv[2]:
        sys.stdout.write(f["content"])' "$ANS/$1" "$2"
}
RULES_ALL=()

# ------------------------------------ 1. exit on a missing device (re-exec)
content open-missing.json openat > "$TMP/open-missing.lua"
for arch in $AI_ARCHES; do
  serve missing-$arch open-missing.json
  R=$(e2e_rules missing-$arch)
  RULES_ALL+=("$R")
  run "$R" $arch missing "$TMP/missing-$arch.out"
  O=$TMP/missing-$arch.out
  expect_eq "$arch missing device: the guest exits 0 after the fix and the re-exec" "$RC" 0
  expect_grep "$arch missing device: the first run failed" "^cannot open /dev/sfemu_missing" "$O"
  expect_grep "$arch missing device: the re-exec'd run opened it" "^opened /dev/sfemu_missing" "$O"
  expect_grep "$arch missing device: re-exec 1" "ai: re-exec 1 of 3: " "$O"
  v=$(verdicts "$R")
  expect_eq "$arch missing device: one attempt" "$(echo "$v" | grep -c json)" 1
  [ -n "$v" ] || continue
  d=$(dirname "$v")
  id=$(basename "$d")
  expect_json "$arch missing device: verdict validated, tool ok, openat installed, read observed, exported" "$v" \
    "r['verdict'] == 'validated' and r['trigger']['kind'] == 'exit' and r['reexec'] == 1 and r['tool']['status'] == 'ok' and r['files'] == [{'file': 'patch/fix/syscall/openat.lua', 'installed': 'syscall_override/openat.lua', 'status': 'installed'}] and r['observe'] == ['patch/observe/syscall/read.lua'] and r['exported'] == 'cache/stable_rules/$id/syscall'"
  check "$arch missing device: the model's rule exported to stable_rules" \
    cmp "$TMP/open-missing.lua" "$R/cache/stable_rules/$id/syscall/openat.lua"
  check "$arch missing device: and installed in syscall_override/" \
    cmp "$TMP/open-missing.lua" "$R/syscall_override/openat.lua"
  check "$arch missing device: the observe rule is not installed" test ! -e "$R/syscall_override/read.lua"
  check "$arch missing device: snapshot valid against the schema" snapshot_valid "$d/snapshot.json"
  expect_grep "$arch missing device: tool.log has the tool's own line" \
    "^sfemu-ai: wrote $d/patch/fix/syscall/openat.lua$" "$d/tool.log"
  expect_grep "$arch missing device: the model's explanation kept" \
    '^openat\("/dev/sfemu_missing"\) fails with ENOENT just before exit_group\(1\)' "$d/patch/explanation.txt"
  L=$TMP/missing-$arch.log
  expect_eq "$arch missing device: the server got one request" "$(wc -l < "$L")" 1
  expect_json "$arch missing device: the request names OPENAI_MODEL, on /v1/chat/completions" "$L" \
    "r['body']['model'] == '$MODEL' and r['path'] == '/v1/chat/completions'"
  expect_json "$arch missing device: the request has the snapshot (the path, exit_group, the arch)" "$L" \
    "all(s in r['body']['messages'][1]['content'] for s in ['/dev/sfemu_missing', 'exit_group', '$id']) and __import__('re').search(r'\"arch\":\\s*\"$arch\"', r['body']['messages'][1]['content'])"
  expect_json "$arch missing device: the system message is the tree's plugins/ai/prompt.md" "$L" \
    "r['body']['messages'][0]['content'] == open('$R/plugins/ai/prompt.md').read()"
  expect_json "$arch missing device: the key sent as the bearer token" "$L" \
    "r['headers']['Authorization'] == 'Bearer ' + open('$TMP/key').read()"
  expect_json "$arch missing device: request.json is the body the server got" "$d/patch/request.json" \
    "r == json.loads(open('$L').readline())['body']"
done

# ----------------------------- 2. an ioctl error retried in place (no restart)
arch=arm
serve ioctl ioctl-tcgets.json
R=$(e2e_rules ioctl SFEMU_AI_REPAIR_ON_ERROR=1)
RULES_ALL+=("$R")
run "$R" $arch ioctl "$TMP/ioctl.out"
O=$TMP/ioctl.out
expect_eq "on-error: the guest exits 0" "$RC" 0
expect_grep "on-error: the retried call's result reached the guest" "^ioctl=4242$" "$O"
expect_no_grep "on-error: the failure never reached the guest" "^ioctl failed" "$O"
expect_no_grep "on-error: no re-exec" "re-exec" "$O"
expect_eq "on-error: one request" "$(wc -l < "$TMP/ioctl.log")" 1
v=$(verdicts "$R")
expect_eq "on-error: one attempt" "$(echo "$v" | grep -c json)" 1
[ -n "$v" ] && expect_json "on-error: verdict validated, ioctl:ENOTTY, retried" "$v" \
  "r['verdict'] == 'validated' and r['trigger']['site'] == 'ioctl:ENOTTY' and r['retry'] == {'ret': 4242} and r['tool']['status'] == 'ok'"
expect_json "on-error: the request has the failing ioctl" "$TMP/ioctl.log" \
  "all(s in r['body']['messages'][1]['content'] for s in ['syscall_error', 'ioctl', 'ENOTTY'])"

# ------------------------------------------------------------ 3. dead loop
# (the answer in a fenced block with prose around it, as models write)
serve loop fenced:open-loop.json
R=$(e2e_rules loop)
RULES_ALL+=("$R")
run "$R" $arch loop "$TMP/loop.out"
O=$TMP/loop.out
expect_eq "deadloop: the guest exits 0" "$RC" 0
n=$(sed -n 's/^loop ended after \([0-9]*\) tries$/\1/p' "$O")
check "deadloop: the loop ended soon after the report (${n:-no} tries)" test "${n:-999}" -le 40
expect_grep "deadloop: the watchdog's report" "watchdog: deadloop \(tid [0-9]+\)" "$O"
expect_no_grep "deadloop: no re-exec" "re-exec" "$O"
v=$(verdicts "$R")
expect_eq "deadloop: one attempt" "$(echo "$v" | grep -c json)" 1
[ -n "$v" ] && expect_json "deadloop: verdict validated, exported" "$v" \
  "r['verdict'] == 'validated' and r['trigger']['kind'] == 'deadloop' and 'exported' in r"
expect_json "deadloop: the request has the loop's path" "$TMP/loop.log" \
  "'/dev/sfemu_loop' in r['body']['messages'][1]['content'] and 'deadloop' in r['body']['messages'][1]['content']"

# The exit status of the guest without AI: the same tree with AI off (the
# environment wins over config/env).
R=$(e2e_rules off)
RULES_ALL+=("$R")
run "$R" $arch missing "$TMP/off.out" SFEMU_AI_ENABLE=0
off_rc=$RC
expect_eq "AI off: the guest exits 1" "$off_rc" 1
check "AI off: no attempt" test -z "$(ls -A "$R/cache/ai_runs" 2>/dev/null)"

# ------------------------------------------------------ 4. malformed answer
serve malformed malformed.txt
R=$(e2e_rules malformed)
RULES_ALL+=("$R")
run "$R" $arch missing "$TMP/malformed.out"
expect_eq "malformed answer: the guest ends as with AI off" "$RC" "$off_rc"
expect_no_grep "malformed answer: no re-exec" "re-exec" "$TMP/malformed.out"
expect_grep "malformed answer: logged, the guest goes on" "ai: .*tool failed: .*not one JSON object.*the guest goes on without AI" "$TMP/malformed.out"
v=$(verdicts "$R")
[ -n "$v" ] && expect_json "malformed answer: verdict no_fix, the tool's reason" "$v" \
  "r['verdict'] == 'no_fix' and r['tool']['status'] == 'failed' and r['tool']['code'] == 3 and 'not one JSON object' in r['tool']['reason'] and r['why'] == 'tool failed: ' + r['tool']['reason']"
[ -n "$v" ] && expect_grep "malformed answer: tool.log says why" "^sfemu-ai: no rule: .*not one JSON object" "$(dirname "$v")/tool.log"
check "malformed answer: nothing installed" test -z "$(ls -A "$R/syscall_override")"
[ -n "$v" ] && check "malformed answer: response.json kept" test -s "$(dirname "$v")/patch/response.json"

# ---------------------------------------------- 5. a rule that does not compile
serve syntax open-syntax.json
R=$(e2e_rules syntax)
RULES_ALL+=("$R")
run "$R" $arch missing "$TMP/syntax.out"
expect_eq "syntax error: the guest ends as with AI off" "$RC" "$off_rc"
v=$(verdicts "$R")
[ -n "$v" ] && expect_json "syntax error: verdict rejected, says why" "$v" \
  "r['verdict'] == 'rejected' and r['tool']['status'] == 'ok' and r['why'].startswith('openat.lua: syntax: openat.lua:') and r['files'][0]['status'] == 'rejected'"
check "syntax error: nothing installed" test -z "$(ls -A "$R/syscall_override")"
expect_grep "syntax error: logged as never loaded" "ai: .*openat.lua rejected: syntax: .*\(never loaded\)" "$TMP/syntax.out"
expect_no_grep "syntax error: no re-exec" "re-exec" "$TMP/syntax.out"
check "syntax error: nothing under stable_rules" test -z "$(ls -A "$R/cache/stable_rules" 2>/dev/null)"

# ----------------------------------------- 6. a rule that makes it worse
serve worse open-worse.json
R=$(e2e_rules worse)
RULES_ALL+=("$R")
run "$R" $arch missing "$TMP/worse.out"
expect_eq "worse: the re-exec'd guest died of SIGABRT" "$RC" 134
expect_grep "worse: rolled back" "ai: .*the guest died of signal 6 during the validation window: worse, rolled back \(1 file\)" "$TMP/worse.out"
v=$(verdicts "$R")
[ -n "$v" ] && expect_json "worse: verdict rejected, rolled back, not exported" "$v" \
  "r['verdict'] == 'rejected' and 'signal 6' in r['why'] and 'exported' not in r"
check "worse: nothing left in syscall_override/" test -z "$(ls -A "$R/syscall_override")"
check "worse: nothing under stable_rules" test -z "$(ls -A "$R/cache/stable_rules" 2>/dev/null)"

# ------------------------------------------------- 7. a server that hangs
# SFEMU_AI_TIMEOUT_S=6: the tool gives up 2 s before (OPENAI_TIMEOUT_S=3,
# no retry), and the runtime would kill it at 6 s.
serve hang '{"hang": true}'
R=$(OTO=3 ATO=6 e2e_rules hang)
RULES_ALL+=("$R")
t0=$(date +%s)
run "$R" $arch missing "$TMP/hang.out"
took=$(($(date +%s) - t0))
expect_eq "hang: the guest ends as with AI off" "$RC" "$off_rc"
check "hang: within SFEMU_AI_TIMEOUT_S (took $took s)" test "$took" -le 12
expect_eq "hang: the server got the request" "$(wc -l < "$TMP/hang.log")" 1
v=$(verdicts "$R")
[ -n "$v" ] && expect_json "hang: verdict no_fix, the tool's own timeout (exit 4) before the runtime's" "$v" \
  "r['verdict'] == 'no_fix' and r['tool']['status'] == 'failed' and r['tool']['code'] == 4 and 'timed out' in r['tool']['reason'] and r['tool']['seconds'] < 6"
expect_grep "hang: logged, the guest goes on" "ai: .*timed out.*the guest goes on without AI" "$TMP/hang.out"
# OPENAI_TIMEOUT_S over SFEMU_AI_TIMEOUT_S: the tool cuts its attempt to the
# time the runtime gives it (5 - 2 s) and still says why itself.
serve hang2 '{"hang": true}'
R=$(OTO=60 ATO=5 e2e_rules hang2)
RULES_ALL+=("$R")
t0=$(date +%s)
run "$R" $arch missing "$TMP/hang2.out"
took=$(($(date +%s) - t0))
expect_eq "hang, OPENAI_TIMEOUT_S=60 > SFEMU_AI_TIMEOUT_S=5: the guest ends as with AI off" "$RC" "$off_rc"
check "hang, OPENAI_TIMEOUT_S=60 > SFEMU_AI_TIMEOUT_S=5: within SFEMU_AI_TIMEOUT_S (took $took s)" test "$took" -le 10
v=$(verdicts "$R")
[ -n "$v" ] && expect_json "hang, OPENAI_TIMEOUT_S=60 > SFEMU_AI_TIMEOUT_S=5: the tool gave up by itself, before the kill" "$v" \
  "r['verdict'] == 'no_fix' and r['tool']['status'] == 'failed' and r['tool']['code'] == 4 and 'timed out' in r['tool']['reason'] and r['tool']['seconds'] < 5"

# --------------------------------------------------- 8. SFEMU_REEXEC_MAX
serve max open-noop.json
R=$(e2e_rules max SFEMU_REEXEC_MAX=2)
RULES_ALL+=("$R")
run "$R" $arch missing "$TMP/max.out"
O=$TMP/max.out
expect_eq "SFEMU_REEXEC_MAX=2: the guest ends with its own status" "$RC" "$off_rc"
expect_eq "SFEMU_REEXEC_MAX=2: the guest ran 3 times" "$(grep -c '^cannot open /dev/sfemu_missing' "$O")" 3
expect_grep "SFEMU_REEXEC_MAX=2: re-exec 2 of 2" "ai: re-exec 2 of 2: " "$O"
expect_no_grep "SFEMU_REEXEC_MAX=2: no third re-exec" "ai: re-exec 3" "$O"
expect_grep "SFEMU_REEXEC_MAX=2: the refusal" "no attempt: re-exec refused: 2 re-execs already \(SFEMU_REEXEC_MAX=2\)" "$O"
expect_eq "SFEMU_REEXEC_MAX=2: two requests to the model" "$(wc -l < "$TMP/max.log")" 2
v=$(verdicts "$R")
expect_eq "SFEMU_REEXEC_MAX=2: two attempts" "$(echo "$v" | grep -c json)" 2
for f in $v; do
  expect_json "SFEMU_REEXEC_MAX=2: $(basename "$(dirname "$f")") rejected, the trigger recurred" "$f" \
    "r['verdict'] == 'rejected' and 'the trigger recurred' in r['why']"
done
check "SFEMU_REEXEC_MAX=2: nothing left in syscall_override/" test -z "$(ls -A "$R/syscall_override")"

# ------------------------------ a server that quotes the key back (HTTP 401)
serve echo '{"echo_auth": true}'
R=$(e2e_rules echo)
RULES_ALL+=("$R")
run "$R" $arch missing "$TMP/echo.out"
expect_eq "401 quoting the key: the guest ends as with AI off" "$RC" "$off_rc"
v=$(verdicts "$R")
[ -n "$v" ] && expect_json "401 quoting the key: verdict no_fix, the reason with the key redacted" "$v" \
  "r['verdict'] == 'no_fix' and r['tool']['code'] == 4 and 'HTTP 401: Incorrect API key provided: Bearer [redacted]' in r['tool']['reason']"
[ -n "$v" ] && expect_grep "401 quoting the key: response.json kept, redacted" \
  "Bearer \[redacted\]" "$(dirname "$v")/patch/response.json"

# ------------------------------------------------------------- 9. the key
# In no file under any RULES/cache/, on no log line (qemu's stdout and
# stderr; tool.log is under cache/), yet every server got it.
leaks=$(for r in "${RULES_ALL[@]}"; do grep -rlF -- "$KEY" "$r/cache"; done 2>/dev/null)
expect_eq "the key is in no file under cache/ (every case)" "$leaks" ""
leaks=$(grep -lF -- "$KEY" "${OUTS[@]}" 2>/dev/null)
expect_eq "the key is on no log line (every case)" "$leaks" ""
n=$(ls "$TMP"/*/cache/ai_runs/*/tool.log 2>/dev/null | wc -l)
expect_eq "the runs' tool.log files were searched (one a tool run)" "$n" 12
sent=$(grep -lF -- "Bearer $KEY" "$TMP"/*.log | wc -l)
expect_eq "the key reached every server (the checks above can fail)" "$sent" 11
finish
