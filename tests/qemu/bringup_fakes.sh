# The conservative fake policy of rules_examples (docs/fakefile.md, "Which
# paths become fake resources"), with the shipped rules tree as it is:
# a missing path that is opened or probed keeps ENOENT and leaves nothing;
# a missing device and a unix socket connect become fakes (the socket's
# record under a missing /var/run, /var -> /tmp/var dangling); an O_CREAT
# open creates a real file; paths.conf patterns ("*", "**", "!") and a
# fakeconfig of its own make a path a fake, a bad pattern line is named by
# file:line; directory-looking paths and the loader's and the libc's files
# are never faked, not even with SFEMU_FAKEFILE_ON=all; the watchdog turns
# a path the service loops on into a fake; a failing mmap of a fake (its
# fakeconfig refuses it) and
# ENXIO from one are logged once per path.  Guests of ours (arm, mips);
# tests/qemu/bringup_defaults.sh runs Debian's BusyBox against stock qemu.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1

# a frame buffer whose fakeconfig refuses mappings (a plain fake maps:
# tests/qemu/fake_mmap.sh)
cat > "$TMP/fb.fakeconfig.lua" <<'LUA'
local fakefile = require("plugins.fakefile")
return { default_state = "init", states = { init = {
  open = fakefile.default_open, mmap = function(ctx) return -19 end } } }
LUA
cat > "$TMP/nx0.fakeconfig.lua" <<'LUA'
-- a device whose driver is missing: every read is ENXIO
local fakefile = require("plugins.fakefile")
return {
  default_state = "init",
  states = { init = { open = fakefile.default_open,
                      read = function(ctx) return -6 end } },
}
LUA

for arch in arm mips; do
  R=$TMP/root-$arch RULES=$TMP/rules-$arch LOG=$TMP/log-$arch
  mkdir -p "$R/bin" "$R/etc" "$R/dev" "$R/lib"   # no /tmp: /var dangles
  ln -s /tmp/var "$R/var"
  cp -r "$SRC/rules_examples" "$RULES"
  rm -rf "$RULES"/cache/* "$RULES"/plugins/fakefile/config/* "$RULES"/plugins/fakefile/data/*
  cp "$(probe $arch)" "$R/bin/probe"
  cp "$GDIR/wd-$arch" "$R/bin/wd"
  run() { qemu $arch -L "$R" -rules "$RULES" "$R/bin/probe" "$@" > "$TMP/o" 2>>"$LOG"; }
  fakes() { (cd "$R" && find . -name '*.fakefile' | sort | tr '\n' ' '); }

  # Opens and probes of missing paths: ENOENT, as under stock qemu.
  run open /etc/app.conf
  expect_grep "$arch open of a missing file keeps ENOENT" "open /etc/app.conf -> -1 errno=2" "$TMP/o"
  run stat /etc/probe.conf
  expect_grep "$arch stat and access probes keep ENOENT" "access=-1 errno=2 stat=-1 errno=2" "$TMP/o"
  run stat /dev/probe0
  expect_grep "$arch a probe of a missing device keeps ENOENT" "access=-1 errno=2 stat=-1 errno=2" "$TMP/o"
  # Never faked, even with the aggressive switch.
  for p in /etc/ld-musl-arm.path /etc/ld.so.preload /lib/glibc-hwcaps/armv7/libz.so.1 \
           /lib/tls/libc.so.6 /etc/resolv.conf /etc/nsswitch.conf /etc/sub/ /proc/sfemu-none; do
    SFEMU_FAKEFILE_ON=all run open "$p"
    expect_grep "$arch never faked, not even with SFEMU_FAKEFILE_ON=all: $p" "open $p -> -1 errno=2" "$TMP/o"
  done
  expect_eq "$arch no fake resource left by opens, probes, loader and libc paths" "$(fakes)" ""

  # Devices and unix sockets: fakes.
  run open /dev/nvram
  expect_grep "$arch a missing device becomes a fake" "open /dev/nvram -> 3 errno=0" "$TMP/o"
  expect_grep "$arch ... with a dev record" "^type=dev$" "$R/dev/nvram.fakefile"
  expect_grep "$arch ... and the reason logged" "/dev/nvram is now a fake resource \(a missing device\)" "$LOG"
  run connect /var/run/app.sock
  expect_grep "$arch a unix connect to a missing socket is taken over" "connect /var/run/app.sock -> 0 errno=0" "$TMP/o"
  expect_grep "$arch ... its record under the missing /var/run (/var -> /tmp/var)" "^type=socket$" \
    "$R/tmp/var/run/app.sock.fakefile"
  # A create is a create: a real file, never a fake.
  run creat /var/run/svc.pid
  check "$arch an O_CREAT open makes a real file under the missing /var/run" test -f "$R/tmp/var/run/svc.pid"
  check "$arch ... not a fake" test ! -e "$R/tmp/var/run/svc.pid.fakefile"

  # paths.conf and a fakeconfig of its own.
  printf '/etc/config/*.conf\n/tmp/wl/**\n!/dev/mem*\nnot-a-pattern # bad\n' \
    >> "$RULES/plugins/fakefile/paths.conf"
  bad=$(grep -n 'not-a-pattern' "$RULES/plugins/fakefile/paths.conf" | cut -d: -f1)
  run open /etc/config/a.conf
  expect_grep "$arch a path listed in paths.conf (*) becomes a fake" "open /etc/config/a.conf -> 3 errno=0" "$TMP/o"
  expect_grep "$arch ... its reason logged" "/etc/config/a.conf is now a fake resource \(listed by plugins/fakefile/paths.conf\)" "$LOG"
  run open /etc/config/sub/b.conf
  expect_grep "$arch '*' does not cross a '/'" "open /etc/config/sub/b.conf -> -1 errno=2" "$TMP/o"
  run stat /tmp/wl/x/y.state
  expect_grep "$arch a probe of a listed path ('**') is faked" "access=0 errno=0" "$TMP/o"
  run open /dev/mem0
  expect_grep "$arch '!' never fakes, not even a device" "open /dev/mem0 -> -1 errno=2" "$TMP/o"
  expect_grep "$arch a bad pattern line is named by file:line" \
    "plugins/fakefile/paths.conf:$bad: 'not-a-pattern' is not an absolute path pattern: ignored" "$LOG"
  cp "$SRC/rules_examples/plugins/fakefile/default/text.fakeconfig.lua" \
    "$RULES/plugins/fakefile/config/board.id.fakeconfig.lua"
  run open /etc/board.id
  expect_grep "$arch a path with a fakeconfig of its own becomes a fake" "open /etc/board.id -> 3 errno=0" "$TMP/o"

  # The watchdog: a service looping on a failing open gets its fake.
  SFEMU_DEADLOOP_PERIOD_MAX=0 qemu $arch -L "$R" -rules "$RULES" "$R/bin/wd" openloop /etc/loop.conf 100 \
    > "$TMP/o" 2>>"$LOG"
  expect_grep "$arch without the watchdog's loop detection the open keeps failing" "openloop 100 failures" "$TMP/o"
  qemu $arch -L "$R" -rules "$RULES" "$R/bin/wd" openloop /etc/loop.conf 100 > "$TMP/o" 2>>"$LOG"
  n=$(sed -n 's/^openloop \([0-9]*\) failures$/\1/p' "$TMP/o")
  check "$arch with it the loop's path becomes a fake after the report (failures: ${n:-none} < 100)" \
    test "${n:-100}" -lt 100
  expect_grep "$arch ... logged with the report" \
    "/etc/loop.conf is now a fake resource \(the service loops on its failing open: watchdog report [0-9]+\)" "$LOG"
  run open /etc/loop.conf
  expect_grep "$arch ... and its record keeps it a fake in later runs" "open /etc/loop.conf -> 3 errno=0" "$TMP/o"

  # The aggressive switch and the off switch.
  SFEMU_FAKEFILE_ON=all run stat /etc/agg.conf
  expect_grep "$arch SFEMU_FAKEFILE_ON=all fakes a probed path" "access=0 errno=0" "$TMP/o"
  SFEMU_FAKEFILE_ON= run open /dev/off0
  expect_grep "$arch SFEMU_FAKEFILE_ON= turns fakes off" "open /dev/off0 -> -1 errno=2" "$TMP/o"

  # Quiet failures on fakes, logged once per path.
  cp "$TMP/fb.fakeconfig.lua" "$RULES/plugins/fakefile/config/fb0.fakeconfig.lua"
  run mmap /dev/fb0
  expect_grep "$arch mmap of a fake fails" "mmap /dev/fb0: open=0 mmap=failed errno=19" "$TMP/o"
  expect_grep "$arch ... and is logged" "mmap of the fake resource /dev/fb0 failed \(ENODEV\)" "$LOG"
  cp "$TMP/nx0.fakeconfig.lua" "$RULES/plugins/fakefile/config/nx0.fakeconfig.lua"
  run mmap /dev/nx0
  expect_grep "$arch a fake answering ENXIO" "read=-1 errno=6" "$TMP/o"
  expect_grep "$arch ... is logged" "read on the fake resource /dev/nx0 failed with ENXIO" "$LOG"
  expect_eq "$arch ... once per path" "$(grep -c 'fake resource /dev/nx0 failed with' "$LOG")" 1
done

# With sfemu-mount: the same policy; a fake's record is in the mount, the
# "see X.fakefile" line appears, and a missing path opened stays missing;
# sfemu-mount --fake-init makes the record's missing parents.
R=$TMP/mroot RULES=$TMP/mrules LOG=$TMP/log-mount
mkdir -p "$R/bin" "$R/etc" "$R/dev"
ln -s /tmp/var "$R/var"
cp -r "$SRC/rules_examples" "$RULES"
rm -rf "$RULES"/cache/* "$RULES"/plugins/fakefile/config/* "$RULES"/plugins/fakefile/data/*
cp "$(probe arm)" "$R/bin/probe"
manifest "$R" > "$TMP/before"
mnt "$R" --rules "$RULES"
run() { qemu arm -L "$R" -rules "$RULES" "$R/bin/probe" "$@" > "$TMP/o" 2>>"$LOG"; }
# fakefile.init from the shell: the record's parents are made as a create's
# would be, through the dangling /var -> /tmp/var, never over the link.
"$SFEMU_MOUNT" --rules "$RULES" --fake-init /var/run/cli.sock=socket "$R" > "$TMP/o" 2>&1 ||
  { fail "mount: sfemu-mount --fake-init /var/run/cli.sock=socket"; _show < "$TMP/o"; }
expect_grep "mount: --fake-init of a socket under the missing /var/run" "^type=socket$" "$R/var/run/cli.sock.fakefile"
check "mount: ... the record is in the upper layer under tmp/var/run" test -f "$R.sfemu/tree/tmp/var/run/cli.sock.fakefile"
check "mount: ... /var is still the firmware's symlink" test -L "$R/var"
run connect /var/run/cli.sock
expect_grep "mount: the guest connects to that fake socket" "connect /var/run/cli.sock -> 0 errno=0" "$TMP/o"
# The daemon's own fakefile.init (a fakeconfig that makes a companion
# resource) reaches /var/run through the link too.
cat > "$RULES/plugins/fakefile/config/ctl0.fakeconfig.lua" <<'LUA'
local fakefile = require("plugins.fakefile")
return { default_state = "init", states = { init = {
  open = fakefile.default_open,
  write = function(ctx)
    fakefile.init("/var/run/ctl0.state/daemon.sock", "socket")
    return ctx.count
  end } } }
LUA
"$SFEMU_MOUNT" --rules "$RULES" --fake-init /dev/ctl0=dev "$R" > "$TMP/o" 2>&1 || fail "mount: --fake-init /dev/ctl0"
echo go > "$R/dev/ctl0" 2>"$TMP/o" || { fail "mount: write to /dev/ctl0"; _show < "$TMP/o"; }
expect_grep "mount: a record the daemon's fakeconfig makes under /var/run" "^type=socket$" \
  "$R/var/run/ctl0.state/daemon.sock.fakefile"
check "mount: ... lands under tmp/var/run in the upper layer, /var stays a link" \
  test -f "$R.sfemu/tree/tmp/var/run/ctl0.state/daemon.sock.fakefile" -a -L "$R/var" -a ! -e "$R.sfemu/tree/var"
run open /etc/app.conf
expect_grep "mount: a missing file keeps ENOENT" "open /etc/app.conf -> -1 errno=2" "$TMP/o"
check "mount: ... and nothing appears" test ! -e "$R/etc/app.conf" -a ! -e "$R/etc/app.conf.fakefile"
run open /dev/nvram
expect_grep "mount: a missing device is served by the mount" "open /dev/nvram -> 3 errno=0" "$TMP/o"
expect_grep "mount: the log points at the record in the mount" \
  "/dev/nvram is now a fake resource \(a missing device; see /dev/nvram.fakefile in the mount\)" "$LOG"
run connect /var/run/m.sock
expect_grep "mount: a unix connect under the missing /var/run" "connect /var/run/m.sock -> 0 errno=0" "$TMP/o"
expect_grep "mount: ... its record readable from the shell" "^type=socket$" "$R/var/run/m.sock.fakefile"
cp "$TMP/fb.fakeconfig.lua" "$RULES/plugins/fakefile/config/fb1.fakeconfig.lua"
run mmap /dev/fb1
expect_grep "mount: mmap of a fake fails" "mmap=failed" "$TMP/o"
expect_grep "mount: ... and is logged" "mmap of the fake resource /dev/fb1 failed" "$LOG"
umnt "$R"
manifest "$R" > "$TMP/after"
check "mount: the firmware tree is unchanged" cmp -s "$TMP/before" "$TMP/after"
expect_no_grep "the fake's record says nothing about a mount when there is none" "see /dev/nvram.fakefile" "$TMP/log-arm"
finish
