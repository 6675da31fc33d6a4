# A mount that never hangs: fakeconfigs that loop at load time, loop around
# pcall, spend their time in Lua patterns or grow without bound are stopped
# (the reader gets EIO, the log names file:line); one stuck resource never
# stops the rest of the mount.  The whole test has a time limit.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
( sleep 150 </dev/null >/dev/null 2>&1; echo "FAIL: the test hung" >&2; kill -TERM $$ ) &
WATCHDOG=$!
at_exit 'kill $WATCHDOG 2>/dev/null' 
R="$TMP/rootfs"; RULES="$TMP/rules"
mk_rootfs "$R"; mk_rules "$RULES"
C="$RULES/plugins/fakefile/config"
handler() { # handler NAME LUA: a config whose read runs LUA first
    printf 'local f = require("plugins.fakefile")\nreturn { default_state = "s", states = { s = {\n  read = function(ctx)\n%s\n    return f.reply_read_bytes(ctx, "ok\\n") end } } }\n' "$2" > "$C/$1.fakeconfig.lua"
}
printf 'local n = 0\nwhile true do n = n + 1 end\n' > "$C/loadloop.fakeconfig.lua"
handler pcallloop 'while true do pcall(function() while true do end end) end'
handler pattern 'local s = ("a"):rep(30000)
if s:find(".-.-.-.-b") then end'
handler grow 'local t = {} while true do t[#t + 1] = ("x"):rep(4096) .. #t end'
handler slow 'while true do FAKEFILE_HOST.tree_exists("/nope") end'
handler fast ''
mnt "$R" --rules "$RULES" --log "$TMP/log"
for n in loadloop pcallloop pattern grow slow fast; do echo "type=text" > "$R/tmp/$n.fakefile"; done
eio() { # eio NAME: reading the resource fails with EIO
    local out
    out=$(cat "$R/tmp/$1" 2>&1) && fatal "$1: read succeeded: $out"
    echo "$out" | grep -q "Input/output error" || fatal "$1: not EIO: $out"
}
eio loadloop
grep -q "loadloop.fakeconfig.lua:2: fakeconfig exceeded its" "$TMP/log" \
    || fatal "no file:line for the load-time loop: $(grep loadloop "$TMP/log" | tail -2)"
pass "a config that loops at load time: EIO, logged with file:line"
eio pcallloop; pass "a loop around pcall: EIO"
eio pattern
grep -q "pattern.fakeconfig.lua:5: fakeconfig exceeded its" "$TMP/log" \
    || fatal "no file:line for the pattern: $(grep pattern.fakeconfig "$TMP/log" | tail -2)"
pass "a runaway in Lua patterns: EIO, logged with file:line"
eio grow
grep -q "grow.fakeconfig.lua:4: .*memory limit" "$TMP/log" \
    || fatal "memory cap not logged: $(grep grow "$TMP/log" | tail -2)"
pass "a config that grows without bound: EIO (memory cap), the daemon lives on"
expect_eq "the other resources still work" "$(cat "$R/tmp/fast")" "ok"

# One stuck resource (host calls in a loop: few instructions, ended by the
# run's deadline) while the rest of the mount keeps being served.
cat "$R/tmp/slow" > "$TMP/slow.out" 2>&1 & slow=$!
sleep 0.5
kill -0 $slow 2>/dev/null || fatal "the slow resource returned at once: $(cat "$TMP/slow.out")"
for i in $(seq 10); do
    [ "$(cat "$R/tmp/fast")" = ok ] || fatal "fast resource while another is stuck"
done
expect_eq "real files while a resource is stuck" "$(cat "$R/www/index.html")" "<html>fw</html>"
ls "$R/tmp" | grep -qx fast || fatal "readdir while a resource is stuck"
echo new > "$R/tmp/new" || fatal "create while a resource is stuck"
kill -0 $slow 2>/dev/null || fatal "the slow resource finished before the others were served"
pass "10 reads of another resource, real files, readdir and a create while one resource is stuck"
wait $slow && fatal "the stuck resource read succeeded"
grep -q "Input/output error" "$TMP/slow.out" || fatal "stuck resource: $(cat "$TMP/slow.out")"
pass "the stuck resource ends at its deadline with EIO"
umnt "$R"
finish
