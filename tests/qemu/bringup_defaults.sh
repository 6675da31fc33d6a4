# rules_examples/ as shipped, against stock qemu, on router-style roots made
# from Debian's armel and mipsel BusyBox and glibc (/var -> /tmp/var, no
# /tmp): a dynamically linked program loads its libraries with the defaults
# on (and with SFEMU_FAKEFILE_ON=all) and the loader's probes leave no fake
# behind; opens and probes of missing paths and of paths that exist give the
# same output as stock qemu; a real service (BusyBox syslogd) writes its pid
# file and log under the missing /var, read back from the host, without a
# mount (true root) and on an sfemu-mount (the firmware tree unchanged).
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1

mkroot() {  # mkroot DEBARCH DIR
  local d=$2 n
  bash "$SRC/scripts/debian-packages.sh" "$1" "$d" busybox libc6 > "$TMP/deb-$1.log" 2>&1 ||
    { cat "$TMP/deb-$1.log"; return 1; }
  for n in sh cat ls stat syslogd logger; do ln -sf busybox "$d/bin/$n"; done
  mkdir -p "$d/etc"
  echo "firmware config" > "$d/etc/fw.conf"
  rm -rf "$d/tmp" "$d/var"
  ln -s /tmp/var "$d/var"
}
mkrules() {  # mkrules DIR: the shipped tree, without earlier runs' pieces
  cp -r "$SRC/rules_examples" "$1" &&
    rm -rf "$1"/cache/* "$1"/plugins/fakefile/config/* "$1"/plugins/fakefile/data/*
}
fakes() { (cd "$1" && find . -name '*.fakefile' | sort | tr '\n' ' '); }
# Waits (at most 20 s) for a file to have content.
wait_file() { local i; for i in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.2; done; return 1; }

# syslogd_run LABEL ARCH ROOT VARDIR: BusyBox syslogd in ROOT writes its pid
# file and, from logger, a message; VARDIR is where the host sees /var.
syslogd_run() {
  local label=$1 a=$2 root=$3 var=$4 spid i
  SFEMU_LOG="$TMP/syslogd.log" "$QDIR/qemu-$a" -L "$root" -rules "$RULES" "$root/bin/syslogd" -n \
    -O /var/log/messages > /dev/null 2>&1 &
  spid=$!
  if wait_file "$var/run/syslogd.pid"; then
    pass "$label: syslogd wrote /var/run/syslogd.pid under the missing /var"
  else
    fail "$label: no pid file"; _show < "$TMP/syslogd.log"
  fi
  expect_match "$label: ... it holds a pid" '^[0-9]+$' "$(cat "$var/run/syslogd.pid" 2>/dev/null)"
  SFEMU_LOG="$TMP/logger.log" qemu "$a" -L "$root" -rules "$RULES" "$root/bin/logger" "hello-$label" \
    > /dev/null 2>&1
  for i in $(seq 50); do grep -q "hello-$label" "$var/log/messages" 2>/dev/null && break; sleep 0.2; done
  expect_grep "$label: logger's message reached /var/log/messages" "hello-$label" "$var/log/messages"
  kill $spid 2>/dev/null; wait $spid 2>/dev/null
}

# Missing paths here are missing on the host too: stock qemu -L falls back
# to the host's file when the root has none.  Each applet is its own qemu
# run: stock qemu's execve would run the host's programs.
# (Stock qemu's statx does not look in -L: "stat" and "ls" of a file only
# the root has fail there, so existing paths are compared with cat.)
PROBES=("cat /etc/sfemu-app.conf" "stat -c %n /etc/sfemu-probe.conf" "ls /sfemu-nodir"
        "test -e /etc/sfemu-x.pid" "cat /etc/fw.conf" "cat /sfemu-nodir/x.conf"
        "test -d /sfemu-nolib" "cat /dev/null")
compare_run() {  # compare_run stock|ours ARCH ROOT RULES OUT
  local cmd
  : > "$5"
  for cmd in "${PROBES[@]}"; do
    if [ "$1" = stock ]; then
      LD_LIBRARY_PATH=/sfemu-nolib:/sfemu-nolib2/sub "$QDIR/qemu-$2-stock" -L "$3" "$3/bin/busybox" $cmd >> "$5" 2>&1
    else
      LD_LIBRARY_PATH=/sfemu-nolib:/sfemu-nolib2/sub SFEMU_LOG="$5.log" \
        qemu "$2" -L "$3" -rules "$4" "$3/bin/busybox" $cmd >> "$5" 2>&1
    fi
    echo "exit $?" >> "$5"
  done
}

for pair in armel:arm mipsel:mipsel; do
  deb=${pair%%:*} a=${pair##*:}
  ROOT=$TMP/root-$a RULES=$TMP/rules-$a
  require "$a: a router root from Debian busybox and libc6 ($deb)" mkroot "$deb" "$ROOT"
  require "$a: a copy of rules_examples" mkrules "$RULES"
  [ -x "$QDIR/qemu-$a-stock" ] || fatal "$a: no stock qemu built"
  manifest "$ROOT" > "$TMP/before-$a"

  # The same output as stock qemu, with the loader probing a missing
  # library directory first (LD_LIBRARY_PATH).
  compare_run stock "$a" "$ROOT" "$RULES" "$TMP/stock-$a"
  compare_run ours "$a" "$ROOT" "$RULES" "$TMP/ours-$a"
  expect_grep "$a: the dynamically linked BusyBox ran" "^firmware config$" "$TMP/ours-$a"
  if cmp -s "$TMP/stock-$a" "$TMP/ours-$a"; then
    pass "$a: the same output and status as stock qemu for missing and existing paths"
  else
    fail "$a: output differs from stock"; diff "$TMP/stock-$a" "$TMP/ours-$a" | _show
  fi
  expect_grep "$a: ... a stat probe keeps ENOENT" "can't stat '/etc/sfemu-probe.conf': No such file or directory" "$TMP/ours-$a"
  qemu "$a" -L "$ROOT" -rules "$RULES" "$ROOT/bin/busybox" stat -c %n:%s /etc/fw.conf > "$TMP/o" 2>/dev/null
  expect_grep "$a: ... and a stat of a file the root has works" "^/etc/fw.conf:16$" "$TMP/o"
  expect_eq "$a: no fake resource left by the loader's probes or the opens" "$(fakes "$ROOT")" ""
  manifest "$ROOT" > "$TMP/after-$a"
  check "$a: the runs changed nothing in the root" cmp -s "$TMP/before-$a" "$TMP/after-$a"
  # The aggressive switch fakes probed paths, but never what the loader asks.
  LD_LIBRARY_PATH=/sfemu-nolib SFEMU_FAKEFILE_ON=all SFEMU_LOG="$TMP/log-all-$a" \
    qemu "$a" -L "$ROOT" -rules "$RULES" "$ROOT/bin/busybox" echo loaded > "$TMP/o" 2>&1
  expect_grep "$a: SFEMU_FAKEFILE_ON=all: the libraries still load" "^loaded$" "$TMP/o"
  expect_eq "$a: SFEMU_FAKEFILE_ON=all: the loader's probes leave no fake" "$(fakes "$ROOT")" ""
  rm -rf "$RULES"/plugins/fakefile/config/* "$RULES"/plugins/fakefile/data/*

  # A real service under the true root: its pid file and log file land
  # under the missing /var (made inside the root), the host reads them.
  syslogd_run "$a: true root" "$a" "$ROOT" "$ROOT/tmp/var"
  expect_eq "$a: true root: syslogd made no fake resource" "$(fakes "$ROOT")" ""

  # The same on an sfemu-mount of a fresh root: the files are in the mount
  # (and the upper layer), the firmware tree is never written.
  MROOT=$TMP/mroot-$a
  require "$a: a second router root" mkroot "$deb" "$MROOT"
  manifest "$MROOT" > "$TMP/mbefore-$a"
  mnt "$MROOT" --rules "$RULES"
  syslogd_run "$a: mount" "$a" "$MROOT" "$MROOT/var"
  check "$a: mount: the files live in the upper layer" test -f "$MROOT.sfemu/tree/tmp/var/log/messages"
  umnt "$MROOT"
  manifest "$MROOT" > "$TMP/mafter-$a"
  check "$a: mount: the firmware tree is unchanged" cmp -s "$TMP/mbefore-$a" "$TMP/mafter-$a"
done
finish
