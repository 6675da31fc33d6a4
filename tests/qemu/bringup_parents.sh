# Missing parents of a create under the true root (docs/true-root.md,
# "Missing parents"): router-style roots made here from Debian armel and
# mipsel BusyBox, with /var -> /tmp/var (absolute) or /var -> tmp (relative)
# and no /tmp.  BusyBox's shell writes /var/run/x.pid and /var/log/y; the
# files are read back in the rootfs directory.  Symlinks pointing out of the
# root (/../../HOST/x, the host's absolute path) create inside the root only;
# a stat, an open without O_CREAT and ls of a missing path keep ENOENT and
# make nothing; -make-parents off keeps ENOENT; a unix socket bind, mkdir,
# mkfifo, ln -s and mv into missing parents; c_readlink, c_realpath and
# c_mkdir_p from a rule; dirs_made in the -sfanalysis record.  Against stock
# qemu: the same results for creates that succeed, and only the create with
# a missing parent differs.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
R0=$(rules_dir rules0)   # no rule: the runtime and the true root only
R=$(rules_dir rules)
mkdir -p "$R/syscall"
# A rule on uname (busybox uname) reports what c_readlink/c_realpath see.
cat > "$R/syscall/uname.lua" <<'LUA'
function do_syscall(num)
  local t, e = c_readlink("/var")
  c_log("READLINK /var " .. tostring(t) .. " " .. tostring(e))
  t, e = c_readlink("/etc/passwd")
  c_log("READLINK /etc/passwd " .. tostring(t) .. " " .. tostring(e))
  t, e = c_realpath("/var/run/x.pid")
  c_log("REALPATH /var/run/x.pid " .. tostring(t) .. " " .. tostring(e))
  t, e = c_realpath("/var/run/../log/./y")
  c_log("REALPATH dotdot " .. tostring(t) .. " " .. tostring(e))
  t, e = c_realpath("/nothere/z")
  c_log("REALPATH missing " .. tostring(t) .. " " .. tostring(e))
  t, e = c_realpath("/../../../etc")
  c_log("REALPATH above " .. tostring(t) .. " " .. tostring(e))
  c_log("MKDIR_P " .. c_mkdir_p("/var/lock/sub"))
end
LUA
HOST=$TMP/host       # a host directory the root's symlinks point at
mkdir -p "$HOST"

mkroot() {  # mkroot DEBARCH DIR VARLINK
  local d=$2
  bash "$SRC/scripts/debian-packages.sh" "$1" "$d" busybox libc6 > "$TMP/deb-$1.log" 2>&1 ||
    { cat "$TMP/deb-$1.log"; return 1; }
  for n in sh cat ls stat mkdir mkfifo ln mv uname; do ln -sf busybox "$d/bin/$n"; done
  mkdir -p "$d/etc"
  echo "root:x:0:0::/:/bin/sh" > "$d/etc/passwd"
  rm -rf "$d/tmp" "$d/var"
  ln -s "$3" "$d/var"
  ln -s "/../../..$HOST/x" "$d/evil"   # climbs above the root
  ln -s "$HOST/y" "$d/evil2"           # the host's absolute path
}

for pair in armel:arm mipsel:mipsel; do
  deb=${pair%%:*} a=${pair##*:}
  for link in /tmp/var tmp; do
    ROOT=$TMP/root-$a-${link//\//_}
    require "$a: router root (/var -> $link, no /tmp) from Debian busybox" mkroot "$deb" "$ROOT" "$link"
    case $link in /tmp/var) V=$ROOT/tmp/var ;; tmp) V=$ROOT/tmp ;; esac
    G=${V#$ROOT}     # the guest path /var leads to
    LOG=$TMP/log-$a-${link//\//_}
    OUT=$TMP/an-$a-${link//\//_}
    qemu "$a" -L "$ROOT" -rules "$R0" -sfanalysis "$OUT" "$ROOT/bin/sh" -c \
      'echo $$ > /var/run/x.pid && echo log line > /var/log/y && cat /var/run/x.pid; exit 0' \
      > "$TMP/o" 2>"$LOG"; rc=$?
    expect_eq "$a /var -> $link: the service's creates succeed" "$rc" 0
    pid=$(cat "$V/run/x.pid" 2>/dev/null)
    expect_match "$a /var -> $link: the pid file reads back from the host ($G/run/x.pid)" '^[0-9]+$' "$pid"
    expect_eq "$a /var -> $link: the guest read the same pid" "$(cat "$TMP/o")" "$pid"
    expect_eq "$a /var -> $link: /var/log/y reads back" "$(cat "$V/log/y" 2>/dev/null)" "log line"
    expect_grep "$a /var -> $link: the directory made is logged" "made directory $G/run \(missing parent for /var/run/x.pid\)" "$LOG"
    expect_eq "$a /var -> $link: each directory logged once" \
      "$(grep -c "made directory $G/run " "$LOG")" 1
    [ -f "$OUT/analysis.json" ] &&
      expect_json "$a /var -> $link: dirs_made in the analysis record" "$OUT/analysis.json" \
        "'$G/run' in r['dirs_made'] and '$G/log' in r['dirs_made'] and r['why'] == 'exit_group'" ||
      fail "$a /var -> $link: no analysis record"
    expect_grep "$a /var -> $link: dirs_made in the summary" "^  $G/run$" "$OUT/summary.txt"

    # Probes and opens without O_CREAT keep ENOENT and make nothing.
    qemu "$a" -L "$ROOT" -rules "$R0" "$ROOT/bin/sh" -c \
      'stat /missing/q; ls /missing2/r; cat /missing3/f; test -e /missing4/x || echo absent' \
      > "$TMP/o" 2>&1
    expect_grep "$a stat of a missing path: ENOENT" "can't stat '/missing/q': No such file or directory" "$TMP/o"
    expect_grep "$a cat of a missing path: ENOENT" "can't open '/missing3/f': No such file or directory" "$TMP/o"
    expect_grep "$a test -e: absent" "^absent$" "$TMP/o"
    expect_eq "$a no directory made for probes" "$(ls -d "$ROOT"/missing* 2>/dev/null)" ""

    # rules: c_readlink, c_realpath, c_mkdir_p (through the dangling link
    # part of /var is made by the run above; /var/lock is not there yet)
    qemu "$a" -L "$ROOT" -rules "$R" "$ROOT/bin/uname" > /dev/null 2>"$LOG.rule"
    expect_grep "$a c_readlink: the link's target" "READLINK /var $link nil" "$LOG.rule"
    expect_grep "$a c_readlink of a file: nil, -EINVAL" "READLINK /etc/passwd nil -22" "$LOG.rule"
    expect_grep "$a c_realpath: the guest path" "REALPATH /var/run/x.pid $G/run/x.pid nil" "$LOG.rule"
    expect_grep "$a c_realpath: .. and . through the link" "REALPATH dotdot $G/log/y nil" "$LOG.rule"
    expect_grep "$a c_realpath of a missing path: nil, -ENOENT" "REALPATH missing nil -2" "$LOG.rule"
    expect_grep "$a c_realpath above the root: the root's /etc" "REALPATH above /etc nil" "$LOG.rule"
    expect_grep "$a c_mkdir_p: 0" "MKDIR_P 0" "$LOG.rule"
    check "$a c_mkdir_p follows /var into the root ($G/lock/sub)" test -d "$V/lock/sub"
  done

  ROOT=$TMP/root-$a-_tmp_var
  # Other creates: mkdir, mkfifo, ln -s, mv into missing parents; a unix
  # socket bound under a missing /var/sock (bindtest's probe: the guest of ours).
  qemu "$a" -L "$ROOT" -rules "$R0" "$ROOT/bin/sh" -c \
    'mkdir /var/d1/d2; mkfifo /var/f/fifo; ln -s target /var/l/link; echo m > /var/mvsrc; mv /var/mvsrc /var/mv/dst; mv /var/nosuch /var/mv2/dst; ln /var/nosuch /var/ln2/dst' \
    > "$TMP/o" 2>&1
  check "$a mkdir into a missing parent" test -d "$ROOT/tmp/var/d1/d2"
  check "$a mkfifo into a missing parent" test -p "$ROOT/tmp/var/f/fifo"
  expect_eq "$a ln -s into a missing parent" "$(readlink "$ROOT/tmp/var/l/link")" "target"
  expect_eq "$a mv into a missing parent" "$(cat "$ROOT/tmp/var/mv/dst" 2>/dev/null)" "m"
  expect_grep "$a mv of a missing file: ENOENT" "can't rename '/var/nosuch': No such file or directory" "$TMP/o"
  check "$a mv or ln of a missing file: no directory made for the new name" \
    test ! -e "$ROOT/tmp/var/mv2" -a ! -e "$ROOT/tmp/var/ln2"
  cp "$(probe $a)" "$ROOT/bin/probe"
  qemu "$a" -L "$ROOT" -rules "$R0" "$ROOT/bin/probe" unixsock /var/sock/ctl.sock > "$TMP/o" 2>&1
  expect_grep "$a bind of a unix socket into a missing parent" "bind /var/sock/ctl.sock -> 0 errno=0" "$TMP/o"
  check "$a the socket is in the root" test -S "$ROOT/tmp/var/sock/ctl.sock"

  # Out-of-root symlinks: the creates land inside the root, never on the host.
  qemu "$a" -L "$ROOT" -rules "$R0" "$ROOT/bin/sh" -c \
    'echo a > /evil/run/a.pid; mkdir /evil2/m; ln -s t /evil2/s/l; echo b > /evil2/b' > "$TMP/o" 2>&1
  expect_eq "$a escape: nothing created on the host" "$(find "$HOST" -mindepth 1 | head -3)" ""
  expect_eq "$a escape: /evil (/../../..HOST/x) resolves in the root" \
    "$(cat "$ROOT$HOST/x/run/a.pid" 2>/dev/null)" "a"
  check "$a escape: /evil2 (the host's absolute path) resolves in the root" test -d "$ROOT$HOST/y/m"
  expect_eq "$a escape: ln -s and a file through /evil2 in the root" \
    "$(readlink "$ROOT$HOST/y/s/l")$(cat "$ROOT$HOST/y/b" 2>/dev/null)" "tb"

  # -make-parents off: ENOENT as before.
  ROOT=$TMP/root-$a-off
  require "$a: a root for -make-parents off" mkroot "$deb" "$ROOT" /tmp/var
  qemu "$a" -make-parents off -L "$ROOT" -rules "$R0" "$ROOT/bin/sh" -c \
    'echo 1 > /var/run/x.pid' > "$TMP/o" 2>&1; rc=$?
  check "$a -make-parents off: the create fails" test "$rc" -ne 0
  expect_grep "$a -make-parents off: ENOENT" "can't create /var/run/x.pid: nonexistent directory" "$TMP/o"
  check "$a -make-parents off: no /tmp made" test ! -e "$ROOT/tmp"
done

# Against stock qemu -L (no rules): with cwd inside the root, relative paths
# name the same files for both.  Creates that succeed, failures other than a
# missing parent, probes: the same output; a create under a missing parent
# fails under stock and succeeds here.
for a in arm mipsel; do
  [ -x "$QDIR/qemu-$a-stock" ] || { fail "$a: no stock qemu built"; continue; }
  for who in stock ours; do
    ROOT=$TMP/cmp-$who-$a
    mkdir -p "$ROOT/work/dir" "$ROOT/bin"
    echo old > "$ROOT/work/dir/exist.txt"
    cp "$(probe $a)" "$ROOT/bin/probe"
    : > "$TMP/cmp-$who-$a.out"
    for args in "creat new.txt" "creat dir/exist.txt" "open dir/exist.txt" \
                "stat nothere" "stat nodir/x" "open nodir/x" "unixsock dir/s.sock" \
                "creat dir/exist.txt/sub" "open new.txt w"; do
      if [ $who = stock ]; then
        (cd "$ROOT/work" && "$QDIR/qemu-$a-stock" -L "$ROOT" "$ROOT/bin/probe" $args) >> "$TMP/cmp-$who-$a.out" 2>&1
      else
        (cd "$ROOT/work" && qemu "$a" -L "$ROOT" -rules "$R0" "$ROOT/bin/probe" $args) >> "$TMP/cmp-$who-$a.out" 2>/dev/null
      fi
      echo "exit $?" >> "$TMP/cmp-$who-$a.out"
    done
    (cd "$ROOT" && find work -printf '%p %y %s\n' | sort) > "$TMP/tree-$who-$a"
    (cd "$ROOT/work" && "$QDIR/qemu-$a-stock" -L "$ROOT" "$ROOT/bin/probe" creat nodir/y) > "$TMP/miss-stock-$a" 2>&1
    (cd "$ROOT/work" && qemu "$a" -L "$ROOT" -rules "$R0" "$ROOT/bin/probe" creat nodir/y) > "$TMP/miss-ours-$a" 2>/dev/null
  done
  if cmp -s "$TMP/cmp-stock-$a.out" "$TMP/cmp-ours-$a.out"; then
    pass "$a: the same results as stock for creates that succeed and for probes"
  else
    fail "$a: results differ from stock"; diff "$TMP/cmp-stock-$a.out" "$TMP/cmp-ours-$a.out" | _show
  fi
  if cmp -s "$TMP/tree-stock-$a" "$TMP/tree-ours-$a"; then
    pass "$a: the same files as stock afterwards"
  else
    fail "$a: files differ from stock"; diff "$TMP/tree-stock-$a" "$TMP/tree-ours-$a" | _show
  fi
  expect_grep "$a stock: a create under a missing parent fails (ENOENT)" "creat nodir/y failed errno=2" "$TMP/miss-stock-$a"
  expect_grep "$a ours: the same create succeeds" "creat nodir/y ok" "$TMP/miss-ours-$a"
done
finish
