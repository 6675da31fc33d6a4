# The firmware demo end to end (docs/firmware-pack.md, "The demo"), on arm,
# mipsel (Debian BusyBox and libc) and big-endian mips (static): the
# vendor-style httpd of demo/vendor/ on an sfemu-mount under the patched
# qemu with a copy of rules_examples/ comes up, double-forks, writes its pid
# under /var/run and answers 200 with NVRAM values from /dev/nvram, WLCSM
# and SIOCGIFADDR br0; a CGI sets a key with the firmware's nvram command;
# the key persists across a remount and is readable from the shell and with
# nvram get; the unknown key the httpd asks for is in the run record's
# notes; the firmware tree is never modified.  Without rules_examples/ the
# httpd fails, and each intervention alone is necessary: with it disabled
# the httpd fails the documented way ("httpd: STEP: ...").
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
DEMO_ARCHES=
for a in $ARCHES; do case $a in arm|mipsel|mips) DEMO_ARCHES+=" $a" ;; esac; done

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p=$((20000 + RANDOM % 20000))
  while port_open $p; do p=$((p + 1)); done
  echo $p
}
# rules_copy NAME PORT: a copy of rules_examples/ with http_lanport=PORT.
rules_copy() {
  local r=$TMP/$1
  rm -rf "$r"
  cp -a "$SRC/rules_examples" "$r"
  if grep -q '^http_lanport=' "$r/config/nvram.defaults" 2>/dev/null; then
    sed -i "s/^http_lanport=.*/http_lanport=$2/" "$r/config/nvram.defaults"
  else
    echo "http_lanport=$2" >> "$r/config/nvram.defaults"
  fi
  echo "$r"
}
# launch ARCH ROOT RULES UPPER MNT LOG [QEMU OPTION...]: mounts ROOT on MNT
# (upper layer UPPER) and starts the httpd there; its status is the
# launcher's (0: the daemon is up), its stderr goes to LOG.
launch() {
  local a=$1 root=$2 rules=$3 upper=$4 m=$5 log=$6
  shift 6
  mkdir -p "$m"
  mnt_on "$root" "$m" --rules "$rules" --upper "$upper"
  qemu "$a" -L "$m" -rules "$rules" "$@" "$m/usr/sbin/httpd" 2> "$log" || return
  cat "$m/var/run/httpd.pid" >> "$TMP/daemons" 2>/dev/null
}
# A daemon a failed step left running ends with the test.
at_exit 'for p in $(cat "$TMP/daemons" 2>/dev/null); do kill "$p" 2>/dev/null; done'

# stop MNT: ends the httpd whose pid is in MNT/var/run/httpd.pid, unmounts.
stop() {
  local pid
  pid=$(cat "$1/var/run/httpd.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
  for _ in $(seq 50); do
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  umnt "$1"
}
wait_200() { # URL: at most 20 s
  for _ in $(seq 200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$1" || true)" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

for a in $DEMO_ARCHES; do
  ROOT=$TMP/fw-$a
  require "$a: demo/build-rootfs.sh builds the firmware root" \
    bash -c 'bash "$1" "$2" "$3" > "$4" 2>&1 || { cat "$4"; exit 1; }' _ \
    "$SRC/demo/build-rootfs.sh" "$a" "$ROOT" "$TMP/build-$a.log"
  manifest "$ROOT" > "$TMP/manifest-$a"

  # --- the demo comes up
  PORT=$(free_port)
  R=$(rules_copy rules-$a "$PORT")
  U=$TMP/upper-$a M=$TMP/mnt-$a OUT=$TMP/analysis-$a
  launch "$a" "$ROOT" "$R" "$U" "$M" "$TMP/httpd-$a.log" -sfanalysis "$OUT"; rc=$?
  expect_eq "$a: the launcher exits 0 once the daemon is up" "$rc" 0
  [ $rc = 0 ] || cat "$TMP/httpd-$a.log"
  URL=http://127.0.0.1:$PORT
  check "$a: the httpd answers 200 on lan_ipaddr:http_lanport" wait_200 "$URL/"
  curl -s -m 10 "$URL/" > "$TMP/page-$a"
  expect_grep "$a: the page shows lan_ipaddr from /dev/nvram" '<td>lan_ipaddr</td><td>127\.0\.0\.1</td>' "$TMP/page-$a"
  expect_grep "$a: the page shows br0's address from SIOCGIFADDR" '<td>br0 \(SIOCGIFADDR\)</td><td>127\.0\.0\.1</td>' "$TMP/page-$a"
  expect_grep "$a: the page shows the firmware's default model_name" '<h1>SFEmu demo router</h1>' "$TMP/page-$a"
  expect_grep "$a: the page shows wl0_ssid read over WLCSM" '<td>wl0_ssid \(WLCSM\)</td><td>SFEmu-demo</td>' "$TMP/page-$a"
  pid=$(cat "$M/var/run/httpd.pid" 2>/dev/null)
  check "$a: the pid in /var/run/httpd.pid (-> /tmp/var/run) is the running daemon" kill -0 "${pid:-0}"
  check "$a: the pid file is in the upper layer under tmp/var/run" test -f "$U/tree/tmp/var/run/httpd.pid"

  # --- a CGI request sets a key through the nvram command
  V=cgi-$a-$RANDOM
  curl -s -m 30 "$URL/cgi-bin/nvram.cgi?key=demo_note&value=$V" > "$TMP/cgi-$a"
  expect_grep "$a: the CGI prints the key read back with nvram get" "^demo_note=$V\$" "$TMP/cgi-$a"
  expect_grep "$a: the store holds the key" "^demo_note=$V\$" "$M/sfemu/nvram.txt"
  curl -s -m 10 "$URL/" > "$TMP/page2-$a"
  expect_grep "$a: the page reads the new key over WLCSM" "<td>demo_note \(WLCSM\)</td><td>$V</td>" "$TMP/page2-$a"
  stop "$M"
  expect_json "$a: the run record notes the unknown key http_debug" "$OUT/analysis.json" \
    "any('http_debug' in n.get('text', '') for n in r.get('notes', []))"

  # --- persistence: remount the same upper layer
  flock -w 10 "$U/lock" true # the first daemon is gone (its lock goes last)
  mnt_on "$ROOT" "$M" --rules "$R" --upper "$U"
  expect_grep "$a: after a remount the store still has the key (shell)" "^demo_note=$V\$" "$M/sfemu/nvram.txt"
  out=$(qemu "$a" -L "$M" -rules "$R" "$M/usr/sbin/nvram" get demo_note 2> "$TMP/nvget-$a.log")
  expect_eq "$a: after a remount nvram get reads it" "$out" "$V"
  umnt "$M"
  expect_eq "$a: the firmware tree is unchanged" "$(manifest "$ROOT")" "$(cat "$TMP/manifest-$a")"

  # --- without rules_examples/: stock-like
  check_fails_with "$a: without rules_examples/ the httpd fails at NVRAM" '^httpd: NVRAM: ' \
    qemu "$a" -L "$ROOT" "$ROOT/usr/sbin/httpd"
  if [ -x "$QDIR/qemu-$a-stock" ]; then
    check_fails_with "$a: under stock qemu-$a the httpd fails at NVRAM" '^httpd: NVRAM: ' \
      "$QDIR/qemu-$a-stock" -L "$ROOT" "$ROOT/usr/sbin/httpd"
  fi

  # --- each intervention alone is necessary: a fresh upper layer, the rules
  # copy without that intervention (or its option off), the message.
  while IFS='|' read -r name remove opts re; do
    [ -n "$name" ] || continue
    PORT=$(free_port)
    R2=$(rules_copy "rules-$a-no-$name" "$PORT")
    for f in $remove; do rm -rf "${R2:?}/$f"; done
    M2=$TMP/mnt-$a-no-$name
    # shellcheck disable=SC2086 # opts: several words
    launch "$a" "$ROOT" "$R2" "$TMP/upper-$a-no-$name" "$M2" "$TMP/no-$name-$a.log" $opts; rc=$?
    expect_eq "$a: without $name the launcher fails" "$rc" 1
    expect_grep "$a: without $name the httpd says what it lacked" "$re" "$TMP/no-$name-$a.log"
    if [ $rc = 0 ]; then stop "$M2"; else umnt "$M2"; fi
  done <<'TABLE'
nvram|plugins/fakefile/config/nvram.fakeconfig.lua||^httpd: NVRAM: /dev/nvram gave no lan_ipaddr
nvram-defaults|config/nvram.defaults||^httpd: NVRAM: /dev/nvram gave no lan_ipaddr
wlcsm|syscall_override_user/socket.lua syscall_override_user/sendmsg.lua syscall_override_user/recvmsg.lua||^httpd: WLCSM: netlink protocol 31 gave no wl0_ssid
certificate|config/ssl||^httpd: certificate: /etc/server.pem
interfaces|config/netif.conf||^httpd: interface: SIOCGIFADDR br0
parents||-make-parents off|^httpd: pid file: /var/run/httpd.pid: No such file or directory
TABLE
done

# The README's command itself, on the first architecture.
demo_mounts() { grep -o '/tmp/sfemu-demo-fw[^ ]*' /proc/self/mounts | sort; }
for a in $DEMO_ARCHES; do
  demo_mounts > "$TMP/mounts-before"
  SFEMU_DEMO_DIR=$TMP/demo-cache bash "$SRC/scripts/demo.sh" --no-build "$a" \
    > "$TMP/demo-$a.out" 2>&1; rc=$?
  expect_eq "$a: scripts/demo.sh exits 0" "$rc" 0
  expect_grep "$a: it starts with sfemu run's stages" '^sfemu run: \[[0-9.]*s\] answered: 127.0.0.1:[0-9]* HTTP 200' "$TMP/demo-$a.out"
  expect_grep "$a: and its verdict" '^sfemu run: OK: answered HTTP' "$TMP/demo-$a.out"
  expect_grep "$a: and the rules that ran most" '^  (entry\.lua|syscall[a-z_]*/[a-z0-9_]*\.lua) +ran [0-9]+ times' "$TMP/demo-$a.out"
  expect_grep "$a: it prints the page's HTTP 200" '^HTTP/1.0 200 OK' "$TMP/demo-$a.out"
  expect_grep "$a: it prints the key grep found in the store" '^demo_note=demo-' "$TMP/demo-$a.out"
  expect_grep "$a: it shows the run without the rules failing" '^httpd: NVRAM: ' "$TMP/demo-$a.out"
  demo_mounts > "$TMP/mounts-after"
  expect_eq "$a: it leaves no mount behind" "$(comm -13 "$TMP/mounts-before" "$TMP/mounts-after")" ""
  break
done
finish
