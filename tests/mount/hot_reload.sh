# inotify hot reload: an edited fakeconfig or fakecontent takes effect on the
# next operation; a broken fakeconfig keeps the last good version and logs
# file:line.
. "$(dirname "$0")/common.sh"
R="$T/rootfs"; RULES="$T/rules"
mk_rootfs "$R"; mk_rules "$RULES"
C="$RULES/plugins/fakefile/config"; D="$RULES/plugins/fakefile/data"
cfg() { # atomic replace, as editors do
    cat > "$C/.v.tmp"
    mv "$C/.v.tmp" "$C/v.fakeconfig.lua"
}
printf 'local f = require("plugins/fakefile")\nreturn { default_state = "s", states = { s = {\n  read = function(ctx) return f.reply_read_bytes(ctx, "%s\\n") end } } }\n' v1 | cfg
mnt "$R" --rules "$RULES" --log "$T/log"
echo "type=text" > "$R/tmp/v.fakefile"
eq "$(cat "$R/tmp/v")" "v1" "initial config"
printf 'local f = require("plugins/fakefile")\nreturn { default_state = "s", states = { s = {\n  read = function(ctx) return f.reply_read_bytes(ctx, "%s\\n") end } } }\n' v2 | cfg
sleep 0.3
eq "$(cat "$R/tmp/v")" "v2" "edited config used without remount"
printf 'return { states = {\n\n  oops oops\n}\n' | cfg
sleep 0.3
eq "$(cat "$R/tmp/v")" "v2" "broken config: last good version kept"
grep -q "v.fakeconfig.lua:3:" "$T/log" || { cat "$T/log"; fail "no file:line in the log"; }
ok "broken config logged with file:line"
# in-place edit (no rename) also counts
printf 'local f = require("plugins/fakefile")\nreturn { default_state = "s", states = { s = {\n  read = function(ctx) return f.reply_read_bytes(ctx, "v3\\n") end } } }\n' > "$C/v.fakeconfig.lua"
sleep 0.3
eq "$(cat "$R/tmp/v")" "v3" "fixed config picked up"
# a config edit that changes getattr: the size shown follows at once
printf 'return { default_state = "s", states = { s = { getattr = function(ctx) return { size = 3 } end } } }\n' > "$C/g.fakeconfig.lua"
echo "type=text" > "$R/tmp/g.fakefile"
eq "$(stat -c %s "$R/tmp/g")" "3" "getattr from the config"
printf 'return { default_state = "s", states = { s = { getattr = function(ctx) return { size = 9 } end } } }\n' > "$C/g.fakeconfig.lua"
sleep 0.3
eq "$(stat -c %s "$R/tmp/g")" "9" "edited getattr shown within the attribute cache time"
# fakecontent edits: content and size (attribute cache invalidated)
cat > "$C/c.fakeconfig.lua" <<'LUA'
local f = require("plugins/fakefile")
return { default_state = "s", states = { s = { read = f.default_read_content } } }
LUA
echo "first" > "$D/c.fakecontent"
echo "type=text" > "$R/tmp/c.fakefile"
eq "$(cat "$R/tmp/c")" "first" "fakecontent served"
eq "$(stat -c %s "$R/tmp/c")" "6" "size of the fakecontent"
echo "second, longer" > "$D/c.fakecontent"
sleep 0.3
eq "$(cat "$R/tmp/c")" "second, longer" "edited fakecontent served"
eq "$(stat -c %s "$R/tmp/c")" "15" "size updated within the attribute cache time"
umnt "$R"
