# The tool's failures: a tool that hangs is killed after SFEMU_AI_TIMEOUT_S
# (with its children) and the guest goes on as without AI; a failing tool's
# last stderr line is the reason; no tool at all is said so.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SRC/tests/qemu/ai_lib.sh"
arch=arm
timeout 60 "$QDIR/qemu-$arch-stock" "$(aifix $arch)" missing > "$TMP/stock" 2>&1; stock_rc=$?

R=$(ai_rules hang)
TOOL="echo about to hang >&2; sleep 297 & wait; :"
start=$(date +%s)
SFEMU_AI_TIMEOUT_S=2 ai_run "$R" $arch missing > "$TMP/o" 2>&1; rc=$?
took=$(( $(date +%s) - start ))
expect_eq "hang: the guest ends as stock qemu's" "$rc" "$stock_rc"
check "hang: killed after the timeout ($took s)" test "$took" -ge 2 -a "$took" -le 15
v=$(verdicts "$R")
[ -n "$v" ] && expect_json "hang: verdict no_fix, timeout" "$v" \
  "r['verdict'] == 'no_fix' and r['tool']['status'] == 'timeout' and r['tool']['reason'] == 'killed after 2 s (SFEMU_AI_TIMEOUT_S)'"
[ -n "$v" ] && expect_grep "hang: stderr in tool.log" "^about to hang$" "$(dirname "$v")/tool.log"
check_fails "hang: its child was killed too" pgrep -f "sleep 297"
expect_grep "hang: logged" "ai: tool timeout" "$TMP/o"

R=$(ai_rules fail)
TOOL="echo first >&2; echo 'no rule: the model refused' >&2; exit 3"
ai_run "$R" $arch missing > "$TMP/o" 2>&1; rc=$?
expect_eq "failing tool: the guest ends as without AI" "$rc" "$stock_rc"
v=$(verdicts "$R")
[ -n "$v" ] && expect_json "failing tool: code and last stderr line" "$v" \
  "r['verdict'] == 'no_fix' and r['tool'] == {'status': 'failed', 'code': 3, 'reason': 'no rule: the model refused', 'seconds': r['tool']['seconds']} and r['why'] == 'tool failed: no rule: the model refused'"

R=$(ai_rules none)
SFEMU_AI_ENABLE=1 SFEMU_AI_AUTO_CONTINUE=1 timeout 60 "$QDIR/qemu-$arch" -rules "$R" "$(aifix $arch)" missing > "$TMP/o" 2>&1; rc=$?
expect_eq "no tool: the guest ends as without AI" "$rc" "$stock_rc"
v=$(verdicts "$R")
[ -n "$v" ] && expect_json "no tool: said so" "$v" \
  "r['verdict'] == 'no_fix' and r['tool']['status'] == 'no_tool' and 'SFEMU_AI_CMD' in r['why']"

R=$(ai_rules mcp)
SFEMU_AI_ENABLE=1 SFEMU_AI_MCP_ENABLE=1 SFEMU_AI_AUTO_CONTINUE=1 timeout 60 "$QDIR/qemu-$arch" -rules "$R" "$(aifix $arch)" missing > "$TMP/o" 2>&1; rc=$?
v=$(verdicts "$R")
[ -n "$v" ] && expect_json "built-in tool missing from the tree: said so" "$v" \
  "r['tool']['status'] == 'no_tool' and 'plugins/ai/ai_mcp_openai' in r['why']"
mkdir -p "$R/plugins/ai"
printf 'echo "builtin: $# $1" ; exit 4\n' > "$R/plugins/ai/ai_mcp_openai"
rm -rf "$R/cache"
SFEMU_AI_ENABLE=1 SFEMU_AI_MCP_ENABLE=1 SFEMU_AI_AUTO_CONTINUE=1 timeout 60 "$QDIR/qemu-$arch" -rules "$R" "$(aifix $arch)" missing > "$TMP/o" 2>&1; rc=$?
v=$(verdicts "$R")
[ -n "$v" ] && expect_json "SFEMU_AI_MCP_ENABLE=1: /bin/sh plugins/ai/ai_mcp_openai runs" "$v" \
  "r['tool']['status'] == 'failed' and r['tool']['code'] == 4"
[ -n "$v" ] && expect_grep "the built-in tool got the 3 arguments" "^builtin: 3 .*/snapshot.json$" "$(dirname "$v")/tool.log"
finish
