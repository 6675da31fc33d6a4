# Fake file life cycle from the shell: a record makes a path fake, ordinary
# tools see the state machine, deleting removes it; lookups never create one.
. "$(dirname "$0")/common.sh"
R="$T/rootfs"; U="$T/rootfs.sfemu/tree"; RULES="$T/rules"
mk_rootfs "$R"; mk_rules "$RULES"
out=$("$SFEMU_MOUNT" --rules "$RULES" --fake-init /tmp/x "$R" 2>&1) && fail "--fake-init on an unmounted tree"
echo "$out" | grep -q "not an sfemu-mount mount" || fail "$out"; ok "--fake-init refuses to write the firmware tree"
mnt "$R" --rules "$RULES"
# probing a missing path creates nothing
must_fail "missing path is missing" cat "$R/tmp/etc/app.conf"
must_fail "stat of a missing path fails" stat "$R/dev/nvram"
eq "$(find "$U" -name '*.fakefile' | wc -l)" "0" "lookups never create a fake resource"
# create: a record beside the path
echo "type=text" > "$R/tmp/etc/app.conf.fakefile"
eq "$(stat -c %F:%s "$R/tmp/etc/app.conf")" "regular empty file:0" "record makes the path appear"
ls "$R/tmp/etc" | grep -qx app.conf || fail "not listed"; ok "listed by readdir"
eq "$(getfattr --absolute-names --only-values -n security.sfemu.layer "$R/tmp/etc/app.conf")" "fake" "served by the engine"
eq "$(cat "$R/tmp/etc/app.conf")" "" "default text: read is EOF"
echo "some data" > "$R/tmp/etc/app.conf" || fail "write failed"; ok "default text: write succeeds"
eq "$(cat "$R/tmp/etc/app.conf")" "" "default text: write discarded"
grep -q "^state=init$" "$R/tmp/etc/app.conf.fakefile" || fail "state missing"; ok "record shows the state"
grep -q "^last_pid=[1-9]" "$R/tmp/etc/app.conf.fakefile" || fail "last_pid missing"; ok "record shows the last opener"
grep -q "^path=/tmp/etc/app.conf$" "$R/tmp/etc/app.conf.fakefile" || fail "path missing"; ok "record shows the real path"
# the three pieces through the plugin's fakefile.init (C host functions)
"$SFEMU_MOUNT" --rules "$RULES" --fake-init /tmp/test.config=text "$R"
[ -f "$R/tmp/test.config.fakefile" ] || fail "record"; ok "fakefile.init: <path>.fakefile in the mount"
[ -f "$RULES/plugins/fakefile/config/test.config.fakeconfig.lua" ] || fail "config"; ok "fakefile.init: config/test.config.fakeconfig.lua"
[ -f "$RULES/plugins/fakefile/data/test.config.fakecontent" ] || fail "content"; ok "fakefile.init: data/test.config.fakecontent"
grep -q "^fakeconfig=plugins/fakefile/config/test.config.fakeconfig.lua$" "$R/tmp/test.config.fakefile" || fail "record fields"
eq "$(stat -c %F "$R/tmp/test.config")" "regular empty file" "fakefile.init: path served"
"$SFEMU_MOUNT" --rules "$RULES" --fake-init /etc/test.config "$R"   # same basename, other path
grep -q "fakeconfig=plugins/fakefile/config/test.config-[0-9a-f]\{8\}.fakeconfig.lua" "$R/tmp/etc/test.config.fakefile" \
    || fail "no hash suffix"; ok "fakefile.init: hash suffix for a second path with the same basename"
# survives remount
umnt "$R"; mnt "$R" --rules "$RULES"
eq "$(getfattr --absolute-names --only-values -n security.sfemu.layer "$R/tmp/etc/app.conf")" "fake" "fake resource persists across remount"
# names appear and vanish at once although negative entries are cached
must_fail "probe caches a negative entry" cat "$R/tmp/etc/probe"
echo "type=text" > "$R/tmp/etc/probe.fakefile"
eq "$(stat -c %F "$R/tmp/etc/probe")" "regular empty file" "record created after a failed probe: path appears at once"
rm "$R/tmp/etc/probe.fakefile"
must_fail "record removed: path vanishes at once" stat "$R/tmp/etc/probe"
# delete
rm "$R/tmp/etc/app.conf"
[ ! -e "$R/tmp/etc/app.conf" ] && [ ! -e "$R/tmp/etc/app.conf.fakefile" ] || fail "still there"
ok "rm removes the resource and its record"
# without --rules, records are inert but devices are still never host devices
umnt "$R"; mnt "$R"
eq "$(cat "$R/tmp/test.config")" "" "without --rules: served empty"
