# The guest side of fakefile (rules_examples/syscall/*.lua + the engine):
# missing paths the guest opens, probes or connects to become fake resources
# with the seed's three pieces; without a mount the engine runs inside qemu,
# with sfemu-mount the mount serves them and the shell sees the same thing.
# These run with the aggressive switch (every missing path opened or probed
# becomes a fake): the engine on every call.  The conservative default is
# tests/qemu/bringup_fakes.sh.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
export SFEMU_FAKEFILE_ON=all
for arch in arm mips; do
  R="$TMP/root-$arch"; RULES="$TMP/rules-$arch"
  mkdir -p "$R/bin" "$R/etc" "$R/dev" "$R/tmp"
  cp -r "$SRC/rules_examples" "$RULES"
  rm -rf "$RULES"/plugins/fakefile/config/*.lua "$RULES"/plugins/fakefile/data/* "$RULES"/cache/*
  cp "$(probe $arch)" "$R/bin/probe"
  run() { qemu $arch -L "$R" -rules "$RULES" "$R/bin/probe" "$@"; }

  run fakeio /tmp/app.conf > "$TMP/o" 2>&1
  expect_grep "$arch text: open/write/read/lseek/ioctl as the text default" \
    "fakeio write=10 lseek=0 read=0 read2=0 ioctl=-1 errno=25 data=\[\]" "$TMP/o"
  expect_grep "$arch says once that nothing is inspectable without a mount" "not an sfemu-mount" "$TMP/o"
  expect_eq "$arch ... exactly once" "$(grep -c 'not an sfemu-mount' "$TMP/o")" "1"
  expect_grep "$arch record beside the path" "^path=/tmp/app.conf$" "$R/tmp/app.conf.fakefile"
  expect_grep "$arch record type" "^type=text$" "$R/tmp/app.conf.fakefile"
  [ -f "$RULES/plugins/fakefile/config/app.conf.fakeconfig.lua" ] && [ -f "$RULES/plugins/fakefile/data/app.conf.fakecontent" ] \
    && pass "$arch fakeconfig and fakecontent in the rules tree" || fail "$arch three pieces"

  run fakeio /dev/nvram > "$TMP/o" 2>&1
  expect_grep "$arch dev: ioctl returns 0" "ioctl=0 errno=0" "$TMP/o"
  expect_grep "$arch dev record" "^type=dev$" "$R/dev/nvram.fakefile"

  # the seed's custom fakeconfig: read serves fakecontent lines 0..10
  seq -f "line %g" 1 20 > "$RULES/plugins/fakefile/data/app.conf.fakecontent"
  cp "$SRC/tests/fixtures/seed-custom.fakeconfig.lua" "$RULES/plugins/fakefile/config/app.conf.fakeconfig.lua"
  run fakeio /tmp/app.conf > "$TMP/o" 2>&1
  expect_grep "$arch custom fakeconfig serves fakecontent lines (seed example)" "read=8 read2=63 .*data=\[line 1" "$TMP/o"
  run open /tmp/app.conf > "$TMP/o" 2>&1
  expect_grep "$arch ... and stops after line 10" "^line 10$" "$TMP/o"
  expect_no_grep "$arch ... not line 11" "line 11" "$TMP/o"

  mkdir -p "$R/etc/sub"
  run openat /etc/sub cfg.txt > "$TMP/o" 2>&1
  expect_grep "$arch openat relative to a real dirfd" "openat /etc/sub/cfg.txt -> ok" "$TMP/o"
  [ -f "$R/etc/sub/cfg.txt.fakefile" ] && pass "$arch dirfd-relative path resolved" || fail "$arch dirfd-relative record"
  run stat /etc/probe.conf > "$TMP/o" 2>&1
  expect_grep "$arch access of a missing path: fake, succeeds" "access=0 errno=0" "$TMP/o"
  run connect /var/run/app.sock > "$TMP/o" 2>&1
  expect_grep "$arch unix connect to a missing socket is taken over" "connect /var/run/app.sock -> 0 errno=0 write=4 read=0" "$TMP/o"
  expect_grep "$arch socket record" "^type=socket$" "$R/var/run/app.sock.fakefile"
  [ ! -e "$R/var/run/app.sock" ] && pass "$arch no real socket file created" || fail "$arch socket file exists"
  run open /proc/sfemu-nonexistent > "$TMP/o" 2>&1
  expect_grep "$arch /proc is never faked" "errno=2" "$TMP/o"
  run open /lib/libmissing.so.1 > "$TMP/o" 2>&1
  expect_grep "$arch shared objects are never faked" "errno=2" "$TMP/o"
  # the watchdog's exit report names the fake resources this run created
  SFEMU_WATCHDOG=1 run fakeio /tmp/rep.conf 3 > "$TMP/o" 2>&1
  f=$(ls "$RULES"/cache/ctx/exit-*.json 2>/dev/null | head -1)
  expect_json "$arch exit report lists the fake resources created" "$f" \
    "'/tmp/rep.conf' in r['fake_resources']['created']"
  SFEMU_FAKEFILE_ON= run open /tmp/off.conf > "$TMP/o" 2>&1
  expect_grep "$arch SFEMU_FAKEFILE_ON= turns it off" "errno=2" "$TMP/o"
done

# With sfemu-mount on the rootfs: the mount serves the resource, stat works
# after creation, and the shell sees what the guest saw.
R="$TMP/mroot"; RULES="$TMP/mrules"
mkdir -p "$R/bin" "$R/etc" "$R/tmp"
cp -r "$SRC/rules_examples" "$RULES"
rm -rf "$RULES"/cache/*
cp "$(probe arm)" "$R/bin/probe"
mnt "$R" --rules "$RULES"
qemu arm -L "$R" -rules "$RULES" "$R/bin/probe" stat /etc/m.conf > "$TMP/o" 2>&1
expect_grep "mount: stat of a missing path succeeds after creation" "access=0 errno=0 stat=0 errno=0" "$TMP/o"
qemu arm -L "$R" -rules "$RULES" "$R/bin/probe" fakeio /tmp/w.conf > "$TMP/o" 2>&1
expect_grep "mount: the guest's I/O goes through the mount" "fakeio write=10 lseek=0 read=0" "$TMP/o"
expect_grep "mount: the record is visible in the mount" "^path=/tmp/w.conf$" "$R/tmp/w.conf.fakefile"
[ -f "$R.sfemu/tree/tmp/w.conf.fakefile" ] && pass "mount: the record lives in the upper tree" || fail "upper tree record"
if [ -e "$R/tmp/w.conf" ] && [ -z "$(cat "$R/tmp/w.conf")" ]; then pass "mount: the shell reads what the guest read (EOF)"; else fail "mount: shell view of /tmp/w.conf"; fi
umnt "$R"
[ ! -e "$R/tmp/w.conf.fakefile" ] && pass "mount: the firmware tree itself is untouched" || fail "record leaked into the lower tree"
finish
