# Custom fakeconfigs: the seed's example (require(rules_dir ..
# "plugins/fakefile"), read_fakecontent_lines) and a state machine whose
# state persists in the record.
. "$(dirname "$0")/common.sh"
R="$T/rootfs"; RULES="$T/rules"
mk_rootfs "$R"; mk_rules "$RULES"
C="$RULES/plugins/fakefile/config"; D="$RULES/plugins/fakefile/data"
cp "$SRC/tests/fixtures/seed-custom.fakeconfig.lua" "$C/board.txt.fakeconfig.lua"
for i in $(seq 0 19); do echo "line$i"; done > "$D/board.txt.fakecontent"
cat > "$C/door.fakeconfig.lua" <<'LUA'
local fakefile = require("plugins.fakefile")   -- dotted name, rules-relative
return {
  default_state = "closed",
  states = {
    closed = {
      read = function(ctx) return fakefile.reply_read_bytes(ctx, "closed\n") end,
      write = function(ctx)
        if ctx.data:match("^open") then fakefile.set_state(ctx, "open") end
        return #ctx.data
      end,
      getattr = function(ctx) return { size = 7 } end,
    },
    open = {
      read = function(ctx) return fakefile.reply_read_bytes(ctx, "welcome\n") end,
      write = function(ctx)
        if ctx.data:match("^close") then fakefile.set_state(ctx, "closed") end
        return #ctx.data
      end,
      truncate = function(ctx) return 0 end,
      getattr = function(ctx) return { size = 8 } end,
    },
  },
}
LUA
mnt "$R" --rules "$RULES"
echo "type=text" > "$R/etc/board.txt.fakefile"
eq "$(wc -l < "$R/etc/board.txt")" "10" "seed example: lines 0..9 of the fakecontent"
eq "$(head -1 "$R/etc/board.txt")" "line0" "seed example: first line"
eq "$(stat -c %s "$R/etc/board.txt")" "$(stat -c %s "$D/board.txt.fakecontent")" "no getattr handler: size of the fakecontent"
echo "type=text" > "$R/tmp/door.fakefile"
eq "$(cat "$R/tmp/door")" "closed" "state machine: initial state"
grep -q "^state=closed$" "$R/tmp/door.fakefile" || fail "record state"; ok "record shows default_state"
echo open > "$R/tmp/door"
eq "$(cat "$R/tmp/door")" "welcome" "state machine: write moves to 'open'"
grep -q "^state=open$" "$R/tmp/door.fakefile" || fail "record state"; ok "record shows the new state"
eq "$(stat -c %s "$R/tmp/door")" "8" "getattr handler of the new state (cache invalidated)"
umnt "$R"; mnt "$R" --rules "$RULES"
eq "$(cat "$R/tmp/door")" "welcome" "state persists across remount"
echo close > "$R/tmp/door"
eq "$(cat "$R/tmp/door")" "closed" "and moves back"
umnt "$R"
