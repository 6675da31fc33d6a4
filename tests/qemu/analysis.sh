# -sfanalysis OUTDIR and c_resolve_addr / c_resolve_host_addr: symbols of a
# dynamically linked guest (main program + libc at their load addresses,
# true root against a small rootfs), static guests of every arch, and the
# run's record (syscall counts, paths with outcomes, missing paths, bound
# sockets, forked children) as JSON and a summary.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
ROOT="$TMP/rootfs"
mkdir -p "$ROOT/bin" "$ROOT/lib" "$ROOT/etc" "$ROOT/tmp" "$ROOT/dev"
cp "$GDIR/probe-arm-dyn" "$ROOT/bin/probe"
cp -L /usr/arm-linux-gnueabi/lib/ld-linux.so.3 /usr/arm-linux-gnueabi/lib/libc.so.6 "$ROOT/lib/"
echo "firmware banner" > "$ROOT/etc/banner"
R=$(rules_dir an)
mkdir -p "$R/syscall"
# During getppid, pc is inside libc's getppid and (ARM) lr inside main.
cat > "$R/syscall/getppid.lua" <<'LUA'
function do_syscall(num)
  local pc = c_get_reg("pc")
  local s, rc = c_resolve_addr(pc)
  c_log("PC " .. s .. " rc=" .. rc)
  s, rc = c_resolve_addr(pc, 0)
  c_log("PC0 " .. s .. " rc=" .. rc)
  if sfemu.arch == "arm" then
    s, rc = c_resolve_addr(c_get_reg("lr"), 0x10000)
    c_log("LR " .. s .. " rc=" .. rc)
  end
  s, rc = c_resolve_addr(0x10)
  c_log("LOW " .. s .. " rc=" .. rc)
  s, rc = c_resolve_host_addr(c_g2h(pc))
  c_log("HOSTG " .. s .. " rc=" .. rc)
  s, rc = c_resolve_host_addr(0x10)
  c_log("HOSTLOW " .. s .. " rc=" .. rc)
end
LUA
json_ok() { python3 -m json.tool "$1" > /dev/null 2>&1; }
# jq-free JSON queries: jget FILE PYTHON-EXPR (d = the document)
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>&1; }

OUT="$TMP/out"
run() { qemu arm -L "$ROOT" -rules "$R" -sfanalysis "$OUT" "$ROOT/bin/probe" "$@"; }

# 1. Symbols in a dynamically linked guest.
run getpid > "$TMP/o" 2>&1
expect_grep "pc resolves to libc's getppid (shared library at its load address)" \
  "PC libc\.so\.6!(__)?getppid(\+0x[0-9a-f]+)? rc=0" "$TMP/o"
expect_grep "lr resolves into the main program's main" "LR probe!main\+0x[0-9a-f]+ rc=0" "$TMP/o"
expect_grep "max_bytes=0 beyond the symbol start gives lib+offset" "PC0 libc\.so\.6\+0x[0-9a-f]+ rc=-2" "$TMP/o"
expect_grep "an address in no module comes back bare, -ENOENT" "LOW 0x10 rc=-2" "$TMP/o"
expect_grep "host address of guest code: the host mapping of libc" "HOSTG libc\.so\.6!(__)?getppid" "$TMP/o"
expect_grep "host address in no mapping: host+0x" "HOSTLOW host\+0x10 rc=-2" "$TMP/o"

# 2. The record.
[ -f "$OUT/analysis.json" ] && json_ok "$OUT/analysis.json" && pass "analysis.json written, valid JSON" \
  || fail "analysis.json missing or invalid"
[ -s "$OUT/summary.txt" ] && pass "summary.txt written" || fail "summary.txt missing"
expect_eq "getppid counted once" \
  "$(jget "$OUT/analysis.json" "[s['count'] for s in d['syscalls']['by_name'] if s['name']=='getppid']")" "[1]"
expect_eq "why = exit_group" "$(jget "$OUT/analysis.json" "d['why']")" "exit_group"
expect_eq "modules: probe, ld-linux.so.3, libc.so.6 with symbols" \
  "$(jget "$OUT/analysis.json" "sorted(m['name'] for m in d['modules'] if m['symbols'] > 0)")" \
  "['ld-linux.so.3', 'libc.so.6', 'probe']"
expect_grep "summary lists the syscall table" "^ +1 +0 +getppid$" "$OUT/summary.txt"
expect_no_grep "no environment values in the record" "PATH=|HOME=" "$OUT/analysis.json"

U=sfemu-an-$$-$RANDOM
# Paths are recorded as the guest gave them, in both root modes (under the
# true root the runtime rewrites path arguments for the real syscall).
for mode in prefix true; do
  run() { qemu arm -L "$ROOT" -root-mode $mode -rules "$R" -sfanalysis "$OUT" "$ROOT/bin/probe" "$@"; }
  rm -rf "$OUT"
  run open /etc/missing-$U > "$TMP/o" 2>&1
  expect_eq "$mode root: missing path recorded" \
    "$(jget "$OUT/analysis.json" "'/etc/missing-$U' in d['missing']")" "True"
  expect_eq "$mode root: its open failed once with ENOENT" \
    "$(jget "$OUT/analysis.json" "[(f['open'], f['errnos'][0]['name']) for f in d['files'] if f['path']=='/etc/missing-$U']")" \
    "[({'ok': 0, 'failed': 1}, 'ENOENT')]"
  expect_grep "$mode root: summary shows the missing path" "/etc/missing-$U" "$OUT/summary.txt"

  rm -rf "$OUT"
  run open /etc/banner > "$TMP/o" 2>&1
  expect_eq "$mode root: a successful open is recorded under the guest's path" \
    "$(jget "$OUT/analysis.json" "[f['open'] for f in d['files'] if f['path']=='/etc/banner']")" \
    "[{'ok': 1, 'failed': 0}]"

  rm -rf "$OUT"
  run open /dev/null > "$TMP/o" 2>&1
  expect_eq "$mode root: devices are listed" "$(jget "$OUT/analysis.json" "'/dev/null' in d['devices']")" "True"

  # prefix mode creates the socket on the host: put it in $TMP.
  sock=/tmp/sock-$U
  [ $mode = prefix ] && sock=$TMP/sock-$U
  rm -rf "$OUT"
  run unixsock $sock > "$TMP/o" 2>&1
  expect_eq "$mode root: bound AF_UNIX socket with its path and outcome" \
    "$(jget "$OUT/analysis.json" "[(b['family'], b['address'], b['ok']) for b in d['sockets_bound']]")" \
    "[('AF_UNIX', '$sock', True)]"
done
run() { qemu arm -L "$ROOT" -rules "$R" -sfanalysis "$OUT" "$ROOT/bin/probe" "$@"; }

rm -rf "$OUT"
run fork > "$TMP/o" 2>&1
n=$(ls "$OUT"/analysis-*.json 2>/dev/null | wc -l)
[ -f "$OUT/analysis.json" ] && [ "$n" = 1 ] && pass "a forked child writes its own analysis-PID.json" \
  || fail "fork records: $(ls "$OUT")"
expect_eq "the child's record says so" \
  "$(jget "$(ls "$OUT"/analysis-*.json | head -1)" "d['forked_child']")" "True"

# 3. Static guests of every arch, without -sfanalysis (resolution works anyway).
for a in $ARCHES; do
  qemu "$a" -rules "$R" "$(probe "$a")" getpid > "$TMP/o" 2>&1
  expect_grep "$a: static guest pc resolves to getppid" "PC probe-$a!(__)?getppid(\+0x[0-9a-f]+)? rc=0" "$TMP/o"
done
"$QDIR/qemu-arm-static" -rules "$R" "$(probe arm)" getpid > "$TMP/o" 2>&1
expect_grep "static qemu-arm-static resolves too" "PC probe-arm!(__)?getppid" "$TMP/o"

# 4. A relative OUTDIR is fixed at start, whatever the guest's cwd does.
mkdir -p "$TMP/cwd"
( cd "$TMP/cwd" && qemu arm -L "$ROOT" -rules "$R" -sfanalysis rel-out "$ROOT/bin/probe" cwd /etc banner > "$TMP/o" 2>&1 )
[ -f "$TMP/cwd/rel-out/analysis.json" ] && pass "relative OUTDIR resolved at start" || fail "relative OUTDIR: $(cat "$TMP/o")"

# 5. A service stopped from outside (SIGTERM, SIGHUP, with the guest's default
#    action) still writes its record, dies of the same signal as under stock
#    qemu, and is not a watchdog report (that is how services are stopped).
W=$(rules_dir wd-tree)
cp -r "$SFEMU_SRC/rules_examples/." "$W/"
free_port() {
  local p=$((20000 + RANDOM % 20000))
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo $p
}
stop_with() { # stop_with SIG QEMU-BINARY ARCH [QEMU-ARGS...]: exit status
  local sig=$1 bin=$2 a=$3 port pid st; shift 3
  port=$(free_port)
  # (the signal's default action: a test run under nohup or in the
  # background would otherwise inherit SIGHUP or SIGINT ignored)
  env --default-signal="$sig" "$bin" "$@" "$GDIR/wd-$a" serve "$port" 5 > "$TMP/o" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$TMP/o" && break; sleep 0.1; done
  kill -"$sig" $pid
  for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  kill -KILL $pid 2>/dev/null # (never left running: the status then says so)
  wait $pid; st=$?
  echo $st
}
for a in arm mips; do
  for sig in TERM HUP; do
    rm -rf "$OUT"
    st=$(stop_with $sig "$QDIR/qemu-$a" $a -rules "$W" -sfanalysis "$OUT")
    if [ -x "$QDIR/qemu-$a-stock" ]; then
      expect_eq "$a SIG$sig: same exit status as stock" "$st" \
        "$(stop_with $sig "$QDIR/qemu-$a-stock" $a)"
    fi
    expect_eq "$a SIG$sig: record written, why killed, with the signal" \
      "$(jget "$OUT/analysis.json" "(d['why'], d['signal'])")" \
      "('killed', $(kill -l $sig))"
  done
done
expect_eq "no watchdog report for a kill from outside" \
  "$(find "$W/cache" -name '*.json' | wc -l)" 0
finish
