# sfemu-ai (docs/sfemu-ai.md) against tests/ai/chat_server.py on loopback,
# with the hand-written snapshot tests/fixtures/ai/snapshot-exit.json: a good
# answer and a fenced one write the rules, request.json and response.json
# (the request carries the model, the snapshot and the bearer key); strict
# parsing refuses malformed answers, unknown or path-like syscall names,
# oversize files, refusals and empty answers (exit 3, no rule written);
# HTTP 500 is retried, always-500 and a hanging server end with exit 4
# within the bounds; env file errors name FILE:LINE (exit 2); the key is in
# no file under PATCH_DIR and on no output; the snapshot is cut to
# SFEMU_AI_PROMPT_MAX; plugins/ai/ai_mcp_openai finds the tool.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
TOOL=${SFEMU_AI:?SFEMU_AI (the sfemu-ai binary) is not set}
BUILD=${SFEMU_BUILD_DIR:?SFEMU_BUILD_DIR is not set}
SNAP=$SRC/tests/fixtures/ai/snapshot-exit.json
WRAPPER=$SRC/rules_examples/plugins/ai/ai_mcp_openai
KEY="sk-sfemu-test-$$-$RANDOM$RANDOM-do-not-leak"
unset OPENAI_API_KEY OPENAI_BASE_URL OPENAI_MODEL OPENAI_TIMEOUT_S \
      OPENAI_MAX_RETRIES SFEMU_AI_PROMPT SFEMU_AI_TOOL SFEMU_BINDIR
PIDS=()
at_exit 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done'

# serve NAME: a chat server answering from $TMP/NAME.answers; sets PORT.
serve() {
    local n=$1 i
    python3 "$SRC/tests/ai/chat_server.py" --answers "$TMP/$n.answers" \
        --log "$TMP/$n.log" --port-file "$TMP/$n.port" 2> "$TMP/$n.server.err" &
    PIDS+=($!)
    for i in $(seq 100); do
        [ -s "$TMP/$n.port" ] && break
        sleep 0.05
    done
    PORT=$(cat "$TMP/$n.port" 2>/dev/null) || fatal "chat server $n did not start"
}
# mkenv NAME [LINE...]: NAME.env for the server on $PORT, then the lines.
mkenv() {
    local n=$1
    shift
    {
        echo "OPENAI_API_KEY=$KEY"
        echo "OPENAI_BASE_URL=http://127.0.0.1:$PORT/v1"
        echo "OPENAI_MODEL=test-model-7"
        echo "OPENAI_TIMEOUT_S=10"
        printf '%s\n' "$@"
    } > "$TMP/$n.env"
}
# tool NAME [SNAPSHOT]: runs sfemu-ai; RC, $TMP/NAME.{out,err}, NAME.patch/
tool() {
    RC=0
    "$TOOL" "${2:-$SNAP}" "$TMP/$1.patch" "$TMP/$1.env" \
        > "$TMP/$1.out" 2> "$TMP/$1.err" || RC=$?
}
last_err() { tail -n 1 "$TMP/$1.err"; }
nreq() { wc -l < "$TMP/$1.log" 2>/dev/null || echo 0; }
no_rules() { ! find "$TMP/$1.patch" -name '*.lua' 2>/dev/null | grep -q .; }

FIX='-- fix: /dev/wlctl
function do_syscall(num, path, flags)
  return 3
end
'
OBS='function do_syscall(num, fd, req) c_log("ioctl " .. req) end
'
# Every server's answers (TMP/NAME.answers), and a big snapshot, at once
# (python starts slowly on a loaded machine).
python3 - "$TMP" "$FIX" "$OBS" "$SNAP" <<'PY'
import json, sys
tmp, fix, obs, snap = sys.argv[1:]
def one(kind, name, content, why="a test answer"):
    return json.dumps({"explanation": why, "files": [
        {"kind": kind, "syscall": name, "content": content}]})
def files(*f):
    return json.dumps({"files": [{"kind": k, "syscall": n, "content": c} for k, n, c in f]})
good = json.dumps({"explanation": "open of /dev/wlctl fails; fake it", "files": [
    {"kind": "fix", "syscall": "open", "content": fix},
    {"kind": "observe", "syscall": "ioctl", "content": obs}]})
nop = "function do_syscall() end"
answers = {
    "good": [good], "retry": [{"status": 500}, good], "big": [good], "wrap": [good],
    "fenced": ["Here is the fix.\n```json\n" + one("fix", "openat", nop) + "\n```\n"],
    "malformed": ['{"explanation": "x", "files": ['],
    "prose": ["I think you should fake /dev/wlctl."],
    "unknown": [one("fix", "frobnicate", nop)],
    "traversal": [one("fix", "../x", nop)],
    "slash": [one("fix", "open/../../y", nop)],
    "upper": [one("fix", "Open", nop)],
    "kind": [one("patch", "open", nop)],
    "oversize": [one("fix", "open", "-- " + "x" * 70000)],
    "empty": [one("fix", "open", "")],
    "nofiles": ['{"explanation": "nothing to do here", "files": []}'],
    "nine": [files(*[("fix", n, "x = 1") for n in ["read", "write", "open", "close",
              "ioctl", "stat", "lstat", "access", "mkdir"]])],
    "twice": [files(("fix", "open", "x = 1"), ("fix", "open", "x = 1"))],
    "mixed": [files(("fix", "open", "x = 1"), ("fix", "../../etc/x", "x = 1"))],
    "twofence": ["```json\n{}\n```\n```json\n{}\n```\n"],
    "refusal": [{"refusal": "I cannot help with that."}],
    "raw": [{"raw": "<html>not json</html>"}],
    "always": [{"status": 503}], "four": [{"status": 400}],
    "hang": [{"hang": True}], "gone": ["x"], "echo": [{"echo_auth": True}],
}
for name, a in answers.items():
    json.dump(a, open("%s/%s.answers" % (tmp, name), "w"))
s = json.load(open(snap))
ring = s["ctx"]
s["ctx"] = [dict(ring[i % 5], seq=i) for i in range(3000)] + [dict(ring[-1], seq="newest")]
s["exec_maps"] = [{"start": hex(i * 4096), "path": "/lib/libx.so"} for i in range(2000)]
s["trigger"]["detail"] = "long " + "y" * 20000
json.dump(s, open(tmp + "/big.json", "w"))
PY

# ------------------------------------------------------------ good answer
serve good
# The env file's syntax: comments, blank lines, export, quotes.
{
    echo "# the test's settings"
    echo
    echo "export OPENAI_API_KEY='$KEY'"
    echo "OPENAI_BASE_URL=\"http://127.0.0.1:$PORT/v1/\"   # trailing slash"
    echo "  OPENAI_MODEL=test-model-7 # a comment"
    echo "OPENAI_MAX_RETRIES=0"
} > "$TMP/good.env"
tool good
expect_eq "good answer: exit 0" "$RC" 0
expect_eq "good answer: the fix rule, as the model wrote it" \
    "$(cat "$TMP/good.patch/fix/syscall/open.lua"; echo .)" "$(printf '%s.' "$FIX")"
expect_eq "good answer: the observe rule" \
    "$(cat "$TMP/good.patch/observe/syscall/ioctl.lua"; echo .)" "$(printf '%s.' "$OBS")"
expect_eq "good answer: explanation.txt" "$(cat "$TMP/good.patch/explanation.txt")" \
    "open of /dev/wlctl fails; fake it"
expect_grep "good answer: stdout names the rules written" "wrote .*/fix/syscall/open.lua" "$TMP/good.out"
expect_eq "good answer: one request" "$(nreq good)" 1
L=$TMP/good.log
expect_json "the request goes to /v1/chat/completions (trailing / of the base dropped)" "$L" \
    "r['path'] == '/v1/chat/completions'"
expect_json "the request names OPENAI_MODEL" "$L" "r['body']['model'] == 'test-model-7'"
expect_json "the key goes in the Authorization header as a bearer token" "$L" \
    "r['headers']['Authorization'] == 'Bearer $KEY'"
expect_json "the system message is plugins/ai/prompt.md" "$L" \
    "r['body']['messages'][0] == {'role': 'system', 'content': open('$SRC/rules_examples/plugins/ai/prompt.md').read()}"
expect_json "the user message has the trigger, the failing path and the backtrace" "$L" \
    "r['body']['messages'][1]['role'] == 'user' and all(s in r['body']['messages'][1]['content'] for s in ['exit_group(1) after open', '/dev/wlctl', 'httpd!wl_init+0x44', 'openat'])"
expect_json "the user message has the whole context ring (8 entries, none cut)" "$L" \
    "r['body']['messages'][1]['content'].count('\"dur_us\"') == 7 and 'entries cut' not in r['body']['messages'][1]['content']"
python3 - "$L" "$TMP/good.patch/request.json" > "$TMP/same" 2>&1 <<'PY'
import json, sys
sent = json.loads(open(sys.argv[1]).readline())["body"]
print(sent == json.load(open(sys.argv[2])))
PY
expect_eq "request.json is the body the server got" "$(cat "$TMP/same")" True
expect_json "response.json is the server's answer" "$TMP/good.patch/response.json" \
    "r['choices'][0]['message']['content'].startswith('{\"explanation\"')"

# A placeholder key for a server that needs none ("x") is sent, and not
# blotted out of the texts (every "x" of the prompt would go).
mkenv short
sed -i 's/^OPENAI_API_KEY=.*/OPENAI_API_KEY=x/' "$TMP/short.env"
tool short
expect_eq "a placeholder key x: exit 0" "$RC" 0
expect_json "a placeholder key x: the prompt is sent whole" "$TMP/short.patch/request.json" \
    "r['messages'][0]['content'] == open('$SRC/rules_examples/plugins/ai/prompt.md').read()"
expect_eq "a placeholder key x: sent as the bearer token" \
    "$(tail -n 1 "$TMP/good.log" | python3 -c 'import json, sys; print(json.load(sys.stdin)["headers"]["Authorization"])')" "Bearer x"

# ------------------------------------------------------------ fenced answer
serve fenced
mkenv fenced
tool fenced
expect_eq "fenced answer: exit 0" "$RC" 0
check "fenced answer: fix/syscall/openat.lua written" test -s "$TMP/fenced.patch/fix/syscall/openat.lua"

# ------------------------------------------------- answers with no usable rule
# bad NAME ERE LABEL: exit 3, no rule written, last stderr line ERE
bad() {
    serve "$1"
    mkenv "$1"
    tool "$1"
    expect_eq "$3: exit 3" "$RC" 3
    check "$3: no rule written" no_rules "$1"
    expect_match "$3: the reason is the last stderr line" "^sfemu-ai: no rule: .*$2" "$(last_err "$1")"
}
bad malformed "not one JSON object" "malformed JSON"
bad prose "not one JSON object" "prose, no JSON"
bad unknown "'frobnicate' is no syscall of this guest" "unknown syscall name"
bad traversal "syscall '../x' is not a name" "path traversal name ../x"
check "path traversal: nothing written beside PATCH_DIR" test ! -e "$TMP/x.lua" -a ! -e "$TMP/traversal.patch/fix/x.lua"
bad slash "is not a name" "name with a slash"
bad upper "is not a name" "name not lower case"
bad kind 'kind must be "fix" or "observe"' "unknown kind"
bad oversize "content is 70003 bytes, over 65536" "oversize file"
bad empty "content must be a non-empty string" "empty content"
bad nofiles "no files" "no files"
expect_eq "no files: the explanation is still kept" \
    "$(cat "$TMP/nofiles.patch/explanation.txt" 2>/dev/null)" "nothing to do here"
bad nine "9 files, over 8" "more than 8 files"
bad twice "twice" "the same rule twice"
# One bad file rejects the whole answer: the good one is not written either.
bad mixed "is not a name" "a good file and a bad one"
bad twofence "more than one" "two fenced blocks"
serve refusal
mkenv refusal
tool refusal
expect_eq "refusal: exit 3" "$RC" 3
expect_match "refusal: the reason says so" "no rule: the model refused: I cannot help with that" "$(last_err refusal)"
check "refusal: no rule written" no_rules refusal
serve raw
mkenv raw
tool raw
expect_eq "a server answer that is not JSON: exit 3" "$RC" 3
expect_match "a server answer that is not JSON: the reason" "not JSON" "$(last_err raw)"

# ------------------------------------------------------- HTTP and retries
serve retry
mkenv retry
tool retry
expect_eq "HTTP 500 then an answer: exit 0" "$RC" 0
expect_eq "HTTP 500 then an answer: two requests" "$(nreq retry)" 2
expect_grep "HTTP 500 then an answer: the retry is said" "attempt 1 of 3: HTTP 500" "$TMP/retry.err"
check "HTTP 500 then an answer: the rule written" test -s "$TMP/retry.patch/fix/syscall/open.lua"

serve always
mkenv always "OPENAI_MAX_RETRIES=2"
tool always
expect_eq "always 503: exit 4" "$RC" 4
expect_eq "always 503: 1 + OPENAI_MAX_RETRIES requests" "$(nreq always)" 3
expect_match "always 503: the reason" "no rule: POST http://127.0.0.1:[0-9]+/v1/chat/completions: HTTP 503: test server error 503 \(3 attempts\)" "$(last_err always)"
check "always 503: no rule written" no_rules always

serve four
mkenv four
tool four
expect_eq "HTTP 400: exit 4" "$RC" 4
expect_eq "HTTP 400: not retried" "$(nreq four)" 1

serve hang
mkenv hang "OPENAI_TIMEOUT_S=2" "OPENAI_MAX_RETRIES=1"
t0=$(date +%s)
tool hang
t1=$(date +%s)
expect_eq "hanging server: exit 4" "$RC" 4
expect_eq "hanging server: tried twice (OPENAI_MAX_RETRIES=1)" "$(nreq hang)" 2
check "hanging server: given up within the timeouts (2 x 2 s + back-off; took $((t1 - t0)) s)" \
    test $((t1 - t0)) -le 8
expect_match "hanging server: the reason is a timeout" "no rule: .*[Tt]ime.*out" "$(last_err hang)"

# SFEMU_AI_TIMEOUT_S (the runtime kills the tool then) bounds the whole
# run: 5 s leaves 3 s, one attempt, and the last line says why.
mkenv budget "OPENAI_TIMEOUT_S=30" "OPENAI_MAX_RETRIES=3" "SFEMU_AI_TIMEOUT_S=5"
t0=$(date +%s)
tool budget
t1=$(date +%s)
expect_eq "SFEMU_AI_TIMEOUT_S=5 and a hanging server: exit 4" "$RC" 4
check "SFEMU_AI_TIMEOUT_S=5: done before the runtime would kill it (took $((t1 - t0)) s)" \
    test $((t1 - t0)) -lt 5
expect_match "SFEMU_AI_TIMEOUT_S=5: the reason" \
    "no rule: POST .*[Tt]ime.*out.*no time left for a retry \(SFEMU_AI_TIMEOUT_S\) \(1 attempt\)" "$(last_err budget)"

serve gone
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null
mkenv gone "OPENAI_MAX_RETRIES=1"
tool gone
expect_eq "nobody listening: exit 4" "$RC" 4
expect_match "nobody listening: the reason" "no rule: POST .*(onnect|refused).*\(2 attempts\)" "$(last_err gone)"

# A server that quotes the key back: it is blotted out of response.json.
serve echo
mkenv echo
tool echo
expect_eq "401 quoting the key: exit 4" "$RC" 4
expect_grep "401 quoting the key: response.json kept, key redacted" \
    "Incorrect API key provided: Bearer \[redacted\]" "$TMP/echo.patch/response.json"
expect_grep "401 quoting the key: the reason, key redacted" "HTTP 401: .*\[redacted\]" "$TMP/echo.err"

# --------------------------------------------------- env file and arguments
PORT=1
mkenv nokey
sed -i '/^OPENAI_API_KEY=/d' "$TMP/nokey.env"
tool nokey
expect_eq "missing OPENAI_API_KEY: exit 2" "$RC" 2
expect_match "missing OPENAI_API_KEY: the message names the file" \
    "no rule: $TMP/nokey.env: OPENAI_API_KEY is not set" "$(last_err nokey)"
RC=0
OPENAI_API_KEY=$KEY "$TOOL" "$SNAP" "$TMP/envkey.patch" "$TMP/nokey.env" > "$TMP/envkey.out" 2> "$TMP/envkey.err" || RC=$?
expect_eq "OPENAI_API_KEY from the environment when the file has none: past the settings (exit 4, nobody on port 1)" "$RC" 4
mkenv nomodel
sed -i '/^OPENAI_MODEL=/d' "$TMP/nomodel.env"
tool nomodel
expect_match "missing OPENAI_MODEL: exit 2, named" "no rule: $TMP/nomodel.env: OPENAI_MODEL is not set" "$RC $(last_err nomodel)"
expect_eq "missing OPENAI_MODEL: exit 2" "$RC" 2
mkenv nourl
sed -i '/^OPENAI_BASE_URL=/d' "$TMP/nourl.env"
tool nourl
expect_eq "missing OPENAI_BASE_URL: exit 2 (no default host)" "$RC" 2
expect_match "missing OPENAI_BASE_URL: named" "OPENAI_BASE_URL is not set" "$(last_err nourl)"
mkenv badline "this line is $KEY"
tool badline
expect_eq "a line that is no KEY=VALUE: exit 2" "$RC" 2
expect_match "a line that is no KEY=VALUE: FILE:LINE" "no rule: $TMP/badline.env:5: expected KEY=VALUE" "$(last_err badline)"
printf 'OPENAI_API_KEY=%s\nOPENAI_MODEL="unclosed\n' "$KEY" > "$TMP/quote.env"
tool quote
expect_match "an unclosed quote: exit 2, FILE:LINE and the key's name" \
    "^2 sfemu-ai: no rule: $TMP/quote.env:2: OPENAI_MODEL: no closing double quote" "$RC $(last_err quote)"
mkenv badnum "OPENAI_TIMEOUT_S=soon"
tool badnum
expect_match "a bad number: exit 2, FILE:LINE" \
    "^2 sfemu-ai: no rule: $TMP/badnum.env:5: OPENAI_TIMEOUT_S 'soon': expected an integer" "$RC $(last_err badnum)"
RC=0
"$TOOL" "$SNAP" "$TMP/noenv.patch" "$TMP/missing.env" 2> "$TMP/noenv.err" || RC=$?
expect_match "a missing env file: exit 2, named" \
    "^2 sfemu-ai: no rule: $TMP/missing.env: OPENAI_API_KEY is not set \(no such file, nor in the environment\)" "$RC $(last_err noenv)"
# The runtime passes RULES/config/env even when there is none: the keys may
# come from the environment then.
PORT=$(cat "$TMP/good.port")
RC=0
OPENAI_API_KEY=$KEY OPENAI_BASE_URL=http://127.0.0.1:$PORT/v1 OPENAI_MODEL=env-model \
    "$TOOL" "$SNAP" "$TMP/envonly.patch" "$TMP/missing.env" > "$TMP/envonly.out" 2> "$TMP/envonly.err" || RC=$?
expect_eq "no env file, every key in the environment: exit 0" "$RC" 0
expect_json "no env file: the model from the environment" "$TMP/envonly.patch/request.json" "r['model'] == 'env-model'"
mkdir -p "$TMP/envdir.env"
RC=0
"$TOOL" "$SNAP" "$TMP/envdir.patch" "$TMP/envdir.env" 2> "$TMP/envdir.err" || RC=$?
expect_match "an env path that is a directory: exit 2, named" "^2 sfemu-ai: no rule: $TMP/envdir.env: cannot read the env file" "$RC $(last_err envdir)"
mkenv snap
echo '{"schema": "sfemu-ai-snapshot", "version": 1' > "$TMP/broken.json"
tool snap "$TMP/broken.json"
expect_match "a snapshot that is not JSON: exit 2" "^2 sfemu-ai: no rule: $TMP/broken.json: not a JSON object" "$RC $(last_err snap)"
echo '{"schema": "sfemu-ai-snapshot", "version": 2, "syscalls_known": ["read"]}' > "$TMP/v2.json"
tool snap "$TMP/v2.json"
expect_match "a snapshot of another version: exit 2" "^2 .*unsupported version" "$RC $(last_err snap)"
RC=0
"$TOOL" "$SNAP" "$TMP/x" > /dev/null 2> "$TMP/args.err" || RC=$?
expect_match "two arguments: exit 2 with the usage" "^2 sfemu-ai: expected 3 arguments" "$RC $(last_err args)"
check "sfemu-ai --help" "$TOOL" --help
expect_match "sfemu-ai --help names the exit codes" "4 HTTP or network" "$("$TOOL" --help)"

# -------------------------------------------------------- the snapshot cut
serve big
mkenv big "SFEMU_AI_PROMPT_MAX=16384"
tool big "$TMP/big.json"
expect_eq "a big snapshot: exit 0" "$RC" 0
U="r['body']['messages'][1]['content']"
expect_json "a big snapshot: the user message is cut to SFEMU_AI_PROMPT_MAX" "$TMP/big.log" \
    "len($U.encode()) <= 16384"
expect_json "a big snapshot: the newest ctx entry and the backtrace are kept" "$TMP/big.log" \
    "'\"newest\"' in $U and 'httpd!wl_init+0x44' in $U and 'older entries cut' in $U"

# ------------------------------------------------------------------ the key
# Every file under each PATCH_DIR, every stdout/stderr of the tool.
leaks=$(grep -rlF -- "$KEY" "$TMP"/*.patch "$TMP"/*.out "$TMP"/*.err 2>/dev/null)
expect_eq "the key is in no file under PATCH_DIR and on no output" "$leaks" ""
check "the key did reach the server (the check above can fail)" grep -qF -- "$KEY" "$TMP/good.log"

# ---------------------------------------- plugins/ai/ai_mcp_openai finds it
serve wrap
mkenv wrap
QH=$BUILD/qemu-hooks
require "the build tree has qemu-hooks/" test -d "$QH"
RC=0
env -u SFEMU_AI_TOOL SFEMU_BINDIR="$QH" PATH=/usr/bin:/bin \
    /bin/sh "$WRAPPER" "$SNAP" "$TMP/wrap.patch" "$TMP/wrap.env" > "$TMP/wrap.out" 2>&1 || RC=$?
expect_eq "wrapper, build layout (SFEMU_BINDIR=build/qemu-hooks): exit 0" "$RC" 0
check "wrapper, build layout: the rule written" test -s "$TMP/wrap.patch/fix/syscall/open.lua"
expect_json "wrapper: the system prompt is the one beside it" "$TMP/wrap.log" \
    "r['body']['messages'][0]['content'] == open('$SRC/rules_examples/plugins/ai/prompt.md').read()"
mkdir -p "$TMP/inst/bin"
ln -s "$(realpath "$TOOL")" "$TMP/inst/bin/sfemu-ai"
RC=0
env SFEMU_BINDIR="$TMP/inst/bin" PATH=/usr/bin:/bin \
    /bin/sh "$WRAPPER" "$SNAP" "$TMP/inst.patch" "$TMP/wrap.env" > "$TMP/inst.out" 2>&1 || RC=$?
expect_eq "wrapper, installed layout (sfemu-ai beside qemu): exit 0" "$RC" 0
check "wrapper, installed layout: the rule written" test -s "$TMP/inst.patch/fix/syscall/open.lua"
RC=0
env SFEMU_BINDIR="$TMP/nowhere" PATH=/usr/bin:/bin \
    /bin/sh "$WRAPPER" "$SNAP" "$TMP/none.patch" "$TMP/wrap.env" > "$TMP/none.out" 2>&1 || RC=$?
expect_match "wrapper, no tool anywhere: exit 2 and says so" \
    "^2 ai_mcp_openai: sfemu-ai not found" "$RC $(tail -n 1 "$TMP/none.out")"
RC=0
env SFEMU_AI_TOOL="$TMP/nowhere/sfemu-ai" /bin/sh "$WRAPPER" "$SNAP" "$TMP/none.patch" \
    "$TMP/wrap.env" > "$TMP/none.out" 2>&1 || RC=$?
expect_match "wrapper, SFEMU_AI_TOOL not executable: exit 2 and says so" \
    "^2 ai_mcp_openai: SFEMU_AI_TOOL=.* is not an executable" "$RC $(tail -n 1 "$TMP/none.out")"
finish
