# Adversarial test of the true root (docs/true-root.md, "What is
# guaranteed"): the escape guest (tests/guest/escape.c) tries every known way
# out of the root, as root and as an unprivileged user, on ARM and MIPS, and
# races symlink swaps against reads, creates and execs.  The host must show
# no read (a canary the guest would print), no create (every file the guest
# aims at the host is named after $TAG), no exec (a host script that would
# print HOSTEXEC), nothing sent to its unix sockets, and be the same after
# as before.
#
# Env: SFEMU_RACE_TRIES (10000) tries per race.
source "$SFEMU_SRC/tests/lib.sh"

TRIES=${SFEMU_RACE_TRIES:-10000}
TAG=sfemu-esc-$$-$RANDOM
ROOT=$TMP/rootfs
X=$TMP/host            # a host directory outside the root
XR=/root/.$TAG         # and one in the host's /root
chmod 755 "$TMP"

# A host dir the guest aims at: the canary, a victim, a host script.
host_dir() {
  mkdir -p "$1"
  echo "HOSTCANARY-$TAG" > "$1/secret"
  echo victim > "$1/victim"
  printf '#!/bin/sh\necho HOSTEXEC-host\n' > "$1/hostbin"
  chmod 644 "$1/secret" "$1/victim"; chmod 755 "$1/hostbin"; chmod 777 "$1"
}
# A fresh root for each run, with its own copy of the host dirs: what a
# contained attempt reads.
# A root guest's mount inside the root (a bind of the root's own dirs is
# allowed) lands in the host's mount table: undo it.
unmount_root() {
  awk -v r="$ROOT/" 'index($2, r) == 1 {print $2}' /proc/self/mounts |
    sort -r | while read -r m; do umount -l "$m"; done
}
fresh_root() {
  unmount_root
  rm -rf "$ROOT/tmp" "$ROOT/root"
  mkdir -p "$ROOT/tmp" "$ROOT/bin"
  chmod 755 "$ROOT"; chmod 1777 "$ROOT/tmp"
  for d in "$X" "$XR"; do
    mkdir -p "$ROOT$d"
    echo ROOTCOPY > "$ROOT$d/secret"
    printf '#!/bin/sh\necho guest script\n' > "$ROOT$d/hostbin"
    chmod 755 "$ROOT$d/hostbin"; chmod 777 "$ROOT$d"
  done
  chmod 755 "$ROOT/root" "$ROOT$TMP" 2>/dev/null
  cp /bin/echo "$ROOT/hostelf.bin"      # a host ELF the guest copies and runs
}
host_dir "$X"
host_dir "$XR"
# Host unix sockets in $X (a datagram and a stream one) that log what the
# guest manages to send them.
SOCKLOG=$TMP/socket.log
: > "$SOCKLOG"
python3 - "$X" "$SOCKLOG" <<'PY' &
import os, select, socket, sys
d, log = sys.argv[1], sys.argv[2]
dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
dg.bind(d + "/dg")
st = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
st.bind(d + "/st")
st.listen(8)
os.chmod(d + "/dg", 0o777)
os.chmod(d + "/st", 0o777)
with open(log, "a", buffering=1) as f:
    while True:
        for s in select.select([dg, st], [], [])[0]:
            if s is dg:
                f.write("dgram %r\n" % s.recv(100))
            else:
                c = st.accept()[0]
                c.settimeout(2)
                try:
                    f.write("stream %r\n" % c.recv(100))
                except OSError:
                    f.write("stream connected\n")
                c.close()
PY
LISTENER=$!
for _ in $(seq 50); do [ -S "$X/st" ] && break; sleep 0.1; done
trap 'kill $LISTENER 2>/dev/null; unmount_root; rm -rf "$TMP" "$XR"; find /tmp /root -maxdepth 1 -name "*$TAG*" -exec rm -rf {} + 2>/dev/null' EXIT

# The host as the guest could change it: tag-named files anywhere it aims,
# the aimed-at dirs, /dev/null, the kernel's core pattern.
snapshot() {
  find /tmp /root /etc /var/tmp "$X" "$XR" -maxdepth 2 -name "*$TAG*" \
       \( -not -path "$TMP/*" -o -path "$X/*" \) 2>/dev/null | sort
  for d in "$X" "$XR"; do
    find "$d" -printf '%p %m %s %U %y\n' | sort
    md5sum "$d"/secret "$d"/victim "$d"/hostbin 2>&1
  done
  stat -c '%n %a %t:%T %U' /dev/null /dev/zero
  cat /proc/sys/kernel/core_pattern
}

# verdict LABEL OUT: one line per attempt, then the host's state.
verdict() {
  local label=$1 out=$2 bad=0 n=0
  while read -r _ name res; do
    n=$((n + 1))
    case $res in
      *HOSTCANARY*) fail "$label: $name read the host ($res)"; bad=1 ;;
      *) pass "$label: $name contained ($res)" ;;
    esac
  done < <(grep '^ESC ' "$out")
  if grep -q HOSTEXEC "$out"; then
    fail "$label: a host binary ran: $(grep HOSTEXEC "$out" | head -3 | tr '\n' ' ')"
  else
    pass "$label: no host binary ran ($(grep -c '^ESC e_' "$out") exec attempts)"
  fi
  [ "$n" -gt 50 ] && pass "$label: $n attempts made" || fail "$label: only $n attempts"
}

host_same() {
  if [ -s "$SOCKLOG" ]; then
    fail "$1: a host unix socket heard the guest: $(head -3 "$SOCKLOG" | tr '\n' ' ')"
    : > "$SOCKLOG"
  else
    pass "$1: the host's unix sockets heard nothing"
  fi
  snapshot > "$TMP/after"
  if diff -u "$TMP/before" "$TMP/after" > "$TMP/diff"; then
    pass "$1: host unchanged (no host file created, changed or removed)"
  else
    fail "$1: the host changed:"; sed 's/^/    | /' "$TMP/diff" | head -20
  fi
}

# expect LABEL OUT NAME RESULT: an attempt got the contained answer.
expect() { expect_grep "$1: $3 -> $4" "^ESC $3 $4\$" "$2"; }

fresh_root
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${AS_NOBODY[@]}" true 2>/dev/null || AS_NOBODY=()

snapshot > "$TMP/before"
for arch in arm mips mipsel; do
  G=$GDIR/escape-$arch
  cp "$G" "$ROOT/bin/sh"                   # /bin/sh: a guest binary
  for user in root nobody; do
    if [ $user = nobody ] && [ ${#AS_NOBODY[@]} -eq 0 ]; then
      echo "SKIP: $arch as nobody (setpriv cannot switch users here)"
      continue
    fi
    for hd in "$X" "$XR"; do
      [ $user = nobody ] && [ "$hd" = "$XR" ] && continue  # /root is 0700
      L="$arch $user $hd"
      OUT=$TMP/out.$arch.$user.$(basename "$hd")
      fresh_root
      if [ $user = root ]; then
        qemu "$arch" -L "$ROOT" -root-mode true "$G" attempts "$hd" "$TAG" > "$OUT" 2>&1
      else
        "${AS_NOBODY[@]}" "$QDIR/qemu-$arch" -L "$ROOT" -root-mode true "$G" \
          attempts "$hd" "$TAG" > "$OUT" 2>&1
      fi
      expect_grep "$L: the guest ran to the end" "^DONE$" "$OUT"
      verdict "$L" "$OUT"
      # contained attempts land in the root, as chroot would have them
      for a in abs dotdot proc_root_dotdot thread_self_root pid_root \
               proc_cwd_dotdot proc_fd_dotdot dirfd_proc dirfd_sys \
               dirfd_devpts dirfd_procself_cwd cwd_proc_rel symlink_abs \
               symlink_proc_root symlink_dir_abs; do
        expect "$L" "$OUT" "$a" "read=ROOTCOPY"
      done
      for a in init_root parent_root symlink_init_root proc_init_environ; do
        expect "$L" "$OUT" "$a" "errno=ENOENT"
      done
      expect "$L" "$OUT" proc_mem "errno=EACCES"
      expect "$L" "$OUT" readlink_proc_root "read=/"
      for a in e_binsh e_script e_script_proc e_hostelf e_proc_exe e_fexecve; do
        expect "$L" "$OUT" "$a" "errno=ENOEXEC"
      done
      if [ $user = root ]; then
        expect "$L" "$OUT" c_unlink_devnull "errno=EPERM"
        expect "$L" "$OUT" c_fchmod_devnull "errno=EPERM"
        expect "$L" "$OUT" c_mount_proc "errno=EPERM"
        expect "$L" "$OUT" c_write_core_pattern "errno=EACCES"
        expect "$L" "$OUT" open_by_handle_at "errno=EPERM"
        [ -e "$ROOT$hd/c-proc-$TAG" ] && pass "$L: /proc/self/root/.. create landed in the root" \
          || fail "$L: /proc/self/root/.. create is not in the root"
      fi
      [ "$hd" = "$X" ] && [ -e "$ROOT$X/c-sock-$TAG" ] \
        && pass "$L: the unix socket bound through /proc/self/root/.. is in the root" \
        || { [ "$hd" != "$X" ] || fail "$L: bound socket not in the root"; }
      host_same "$L"
    done
  done
done

# The races: a directory and a last name flipped to symlinks to the host.
for arch in arm mips; do
  G=$GDIR/escape-$arch
  for kind in read create exec; do
    for user in root nobody; do
      [ $user = nobody ] && [ ${#AS_NOBODY[@]} -eq 0 ] && continue
      L="$arch/$user race $kind"
      OUT=$TMP/race.$arch.$kind.$user
      fresh_root
      if [ $user = root ]; then
        qemu "$arch" -L "$ROOT" -root-mode true "$G" race "$kind" "$X" "$TRIES" "$TAG" > "$OUT" 2>&1
      else
        "${AS_NOBODY[@]}" "$QDIR/qemu-$arch" -L "$ROOT" -root-mode true "$G" \
          race "$kind" "$X" "$TRIES" "$TAG" > "$OUT" 2>&1
      fi
      line=$(grep "^RACE $kind" "$OUT")
      reached=$(sed -n 's/.* dir=\([0-9]*\) root=\([0-9]*\).*/\1 + \2/p' <<<"$line")
      if [ -z "$line" ]; then
        fail "$L: did not finish: $(tail -3 "$OUT" | tr '\n' ' ')"
      elif grep -q HOSTCANARY "$OUT" || ! grep -q " host=0$" <<<"$line"; then
        fail "$L: host read: $line"
      elif grep -q HOSTEXEC "$OUT"; then
        fail "$L: host exec: $(grep HOSTEXEC "$OUT" | head -1)"
      elif [ $((reached)) -eq 0 ]; then
        fail "$L: the race never reached a file ($line)"
      else
        pass "$L: $line: no host read, create or exec"
      fi
      host_same "$L"
    done
  done
done

# The same attempts, rules on (true root is the default with -rules).
cp -r "$SRC/rules_examples" "$TMP/rules"
OUT=$TMP/out.rules
fresh_root
qemu arm -L "$ROOT" -rules "$TMP/rules" "$GDIR/escape-arm" attempts "$X" "$TAG" > "$OUT" 2>&1
expect_grep "arm -rules rules_examples: the guest ran to the end" "^DONE$" "$OUT"
verdict "arm -rules" "$OUT"
host_same "arm -rules"

# The test can fail: stock -L lets the same (gentle) attempts through.
if [ -x "$QDIR/qemu-arm-stock" ]; then
  OUT=$TMP/out.stock
  fresh_root
  "$QDIR/qemu-arm-stock" -L "$ROOT" "$GDIR/escape-arm" attempts "$X" "$TAG" gentle > "$OUT" 2>&1
  grep -q "HOSTCANARY-$TAG" "$OUT" && pass "stock -L: the guest reads the host canary (the check can fail)" \
    || fail "stock -L: no host read seen: the check would not notice one"
  grep -q "HOSTEXEC" "$OUT" && pass "stock -L: the guest runs a host binary (the check can fail)" \
    || fail "stock -L: no host exec seen"
  grep -q HOSTSOCK "$SOCKLOG" && pass "stock -L: the guest reaches a host unix socket (the check can fail)" \
    || fail "stock -L: no host socket reached"
  snapshot > "$TMP/after"
  diff -q "$TMP/before" "$TMP/after" > /dev/null && fail "stock -L: the snapshot shows no change" \
    || pass "stock -L: the snapshot shows the host changed (the check can fail)"
fi
finish
