# Guest exec and the start directory (docs/emulator.md): real Debian armel
# and mipsel BusyBox (scripts/debian-packages.sh) in a root.  BusyBox httpd
# serves a CGI shell script (httpd execs the script, its #! line /bin/sh,
# sh execs uname and cat: all guest programs in the root); system() and
# popen() from tests/guest/exectest.c; the kernel's errnos for a foreign
# ELF, a missing interpreter, a missing file and a directory; argv[0], the
# environment, the settings and the CPU model choice reach the child; rules
# see execve; -root-mode prefix execs too; a guest started from a host-only
# directory starts in the root's /.  The exec'd program sees its own
# identity: /proc/self/exe the file in the root, AT_EXECFN the name execve
# gave, sfemu.exec_path the guest path, and its -sfanalysis record is its own.
source "$SFEMU_SRC/tests/lib.sh"
R=$(rules_dir rules)
cat > "$R/execve.lua" <<'LUA'
function do_syscall(num, path, argv, envp)
  local p = c_read_string(path, 4096)
  c_log("execve rule: " .. p .. " cpu=" .. tostring(sfemu.cpu)
        .. " guest_exec=" .. tostring(sfemu.guest_exec)
        .. " ctx_keep=" .. tostring(sfemu.ctx_keep)
        .. " max_insns=" .. tostring(sfemu.options.SFEMU_RULE_MAX_INSNS)
        .. " exec_path=" .. tostring(sfemu.exec_path))
  if p:find("refused", 1, true) then
    return -1 -- EPERM
  end
end
LUA

mkroot() {  # mkroot DEBARCH QEMUARCH DIR
  local d=$3 n
  bash "$SRC/scripts/debian-packages.sh" "$1" "$d" busybox libc6 > "$TMP/deb-$1.log" 2>&1 ||
    { cat "$TMP/deb-$1.log"; return 1; }
  for n in sh uname cat httpd pwd; do ln -sf busybox "$d/bin/$n"; done
  cp "$GDIR/exectest-$2" "$d/bin/exectest"
  ln -sf exectest "$d/bin/et"
  mkdir -p "$d/usr/lib/cgi-bin-with-a-long-name"  # longer than /proc/self/fd/N
  ln -sf /bin/exectest "$d/usr/lib/cgi-bin-with-a-long-name/prog"
  printf '#!/bin/exectest self\n' > "$d/bin/selfscr"
  cp /bin/true "$d/bin/foreign"                     # the host's x86-64 ELF
  printf '#!/bin/nothere\necho never\n' > "$d/bin/noint"
  printf '#!/bin/sh -e\necho "script $0 $*"\n' > "$d/bin/scr"
  chmod 755 "$d/bin/noint" "$d/bin/scr" "$d/bin/selfscr"
  mkdir -p "$d/dir" "$d/www/cgi-bin" "$d/tmp/var/run"
  echo "secret only the root has" > "$d/etc/sfemu-secret"
  echo "pid 42" > "$d/tmp/var/run/x.pid"
  ln -sfn /tmp/var "$d/var"
  cat > "$d/www/cgi-bin/arch.cgi" <<'CGI'
#!/bin/sh
echo "Content-Type: text/plain"
echo
echo "arch=$(uname -m)"
cat /etc/sfemu-secret
CGI
  chmod 755 "$d/www/cgi-bin/arch.cgi"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for pair in armel:arm mipsel:mipsel; do
  deb=${pair%%:*} a=${pair##*:}
  ROOT=$TMP/root-$a
  require "$a: Debian busybox and libc6 ($deb) unpacked" mkroot "$deb" "$a" "$ROOT"
  case $a in arm) arch_re='^armv[0-9]+l$' ;; mipsel) arch_re='^mips$' ;; esac
  run() { qemu "$a" -L "$ROOT" -rules "$R" "$ROOT/bin/exectest" "$@" 2>>"$TMP/log-$a"; }

  # BusyBox httpd and a CGI script on loopback.
  port=$((20000 + RANDOM % 20000))
  while port_open $port; do port=$((port + 1)); done
  "$QDIR/qemu-$a" -L "$ROOT" -rules "$R" "$ROOT/bin/busybox" httpd -f \
    -p "127.0.0.1:$port" -h /www 2>"$TMP/httpd-$a" &
  hpid=$!
  for _ in $(seq 100); do port_open $port && break; sleep 0.1; done
  curl -s -m 20 "http://127.0.0.1:$port/cgi-bin/arch.cgi" > "$TMP/cgi-$a"
  kill "$hpid" 2>/dev/null; wait "$hpid" 2>/dev/null || true
  expect_grep "$a: httpd CGI: uname -m prints the guest arch" "arch=${arch_re#^}" "$TMP/cgi-$a"
  expect_grep "$a: httpd CGI: reads a file only the root has" "^secret only the root has$" "$TMP/cgi-$a"

  out=$(run system 'uname -m; exit 3')
  expect_match "$a: system(): the guest's uname" "$arch_re" "$out"
  expect_match "$a: system(): the exit status" "^system=3$" "$out"
  out=$(run popen 'cat /etc/sfemu-secret; uname -m')
  expect_match "$a: popen(): the root's file" "^popen: secret only the root has$" "$out"
  expect_match "$a: popen(): the guest's arch" "^popen: ${arch_re#^}" "$out"

  expect_eq "$a: a foreign (x86-64) ELF: ENOEXEC" "$(run exec /bin/foreign x)" "errno=ENOEXEC"
  expect_eq "$a: a missing interpreter: ENOENT" "$(run exec /bin/noint x)" "errno=ENOENT"
  expect_eq "$a: a missing file: ENOENT" "$(run exec /bin/missing x)" "errno=ENOENT"
  expect_eq "$a: a directory: EACCES" "$(run exec /dir x)" "errno=EACCES"
  expect_eq "$a: a rule refuses the exec" "$(run exec /bin/refused x)" "errno=EPERM"
  expect_eq "$a: #! script: argv as the kernel makes it" \
    "$(run exec /bin/scr x a b)" "script /bin/scr a b"
  out=$(GE_VAR=hello run exec /bin/exectest my-argv0 show)
  expect_match "$a: argv[0] as the guest passed it" "^argv0=my-argv0$" "$out"
  expect_match "$a: the guest's environment" "^GE_VAR=hello$" "$out"
  expect_grep "$a: rules see execve (and the child runs with -rules)" \
    "execve rule: /bin/refused cpu=.* guest_exec=true" "$TMP/log-$a"
  n=$(grep -c "execve rule: /bin/uname" "$TMP/log-$a" || true)
  expect_eq "$a: sh's execs in the child qemu reach the rules too" "$n" 2

  # The exec'd program's identity, as the kernel gives it in a chroot.
  out=$(run exec /bin/et my0 self)
  expect_match "$a: exec'd: /proc/self/exe is the file in the root" "^exe=/bin/exectest$" "$out"
  expect_match "$a: exec'd: /proc/PID/exe too" "^pidexe=/bin/exectest$" "$out"
  expect_match "$a: exec'd: open(/proc/self/exe) is that file" "^exe_open=same$" "$out"
  expect_match "$a: exec'd: AT_EXECFN is the name execve gave" "^execfn=/bin/et$" "$out"
  expect_match "$a: exec'd: argv[0] as given" "^argv0=my0$" "$out"
  out=$(run exec /usr/lib/cgi-bin-with-a-long-name/prog p0 self)
  expect_match "$a: exec'd: a long AT_EXECFN" "^execfn=/usr/lib/cgi-bin-with-a-long-name/prog$" "$out"
  out=$(run exec /bin/selfscr s0)
  expect_match "$a: #! script: AT_EXECFN is the script's name" "^execfn=/bin/selfscr$" "$out"
  expect_match "$a: #! script: /proc/self/exe is the interpreter" "^exe=/bin/exectest$" "$out"
  out=$(GE_VAR=hello run exec /bin/busybox busybox env)
  expect_match "$a: exec'd: the guest's environment" "^GE_VAR=hello$" "$out"
  expect_no_match "$a: exec'd: our SFEMU_EXEC* variables are not in it" "SFEMU_EXEC" "$out"
  out=$(run self)
  expect_match "$a: started by hand: /proc/self/exe is the guest path" "^exe=/bin/exectest$" "$out"
  expect_match "$a: started by hand: AT_EXECFN is the guest path" "^execfn=/bin/exectest$" "$out"
  rm -rf "$TMP/an-$a"
  qemu "$a" -L "$ROOT" -rules "$R" -sfanalysis "$TMP/an-$a" "$ROOT/bin/exectest" \
    exec /bin/sh sh -c 'exec /bin/nothere' 2>>"$TMP/log-$a" >/dev/null
  expect_grep "$a: sfemu.exec_path: the started program's guest path" \
    "execve rule: /bin/sh .* exec_path=/bin/exectest$" "$TMP/log-$a"
  expect_grep "$a: sfemu.exec_path: the exec'd program's (sh -> busybox)" \
    "execve rule: /bin/nothere .* exec_path=/bin/busybox$" "$TMP/log-$a"
  expect_json "$a: -sfanalysis: the program that exec'd keeps its record" \
    "$TMP/an-$a/analysis.json" "r['program'] == '/bin/exectest' and r['why'] == 'execve' and r['execs'] == 0"
  f=$(ls "$TMP/an-$a"/analysis-*-exec1.json 2>/dev/null | head -1)
  expect_json "$a: -sfanalysis: the exec'd program writes its own" \
    "${f:-missing}" "r['program'] == '/bin/busybox' and r['why'] == 'exit_group' and r['execs'] == 1"
  # An exec that fails after the record was written (E2BIG: a 512 KiB stack
  # limit gives 128 KiB of arguments): the program goes on, its record is
  # written again at its end.
  rm -rf "$TMP/an-$a"
  st=0
  (ulimit -s 512; qemu "$a" -L "$ROOT" -rules "$R" -sfanalysis "$TMP/an-$a" \
    "$ROOT/bin/busybox" sh -c 'A=$(printf %0100000d 0); exec /bin/exectest self "$A" "$A"') \
    >/dev/null 2>&1 || st=$?
  expect_eq "$a: an exec the host refuses (E2BIG): sh goes on to exit 126" "$st" 126
  expect_json "$a: ... and its record is written again at its end" "$TMP/an-$a/analysis.json" \
    "r['why'] == 'exit_group' and [x['errors'] for x in r['syscalls']['by_name'] if x['name'] == 'execve'] == [1]"
  check_fails "$a: ... and no exec'd record" compgen -G "$TMP/an-$a/analysis-*-exec*.json"

  # The start directory and chdir in the root.
  mkdir -p "$TMP/hostonly-$a"
  echo "host file" > "$TMP/hostonly-$a/x.pid"
  out=$(cd "$TMP/hostonly-$a" && run cwd)
  expect_eq "$a: started in a host-only directory: getcwd is /" "$out" "cwd=/"
  out=$(cd "$TMP/hostonly-$a" && run chdir . x.pid)
  expect_match "$a: relative names do not reach the host directory" "^open x.pid: ENOENT$" "$out"
  out=$(run chdir /var run/x.pid)
  expect_match "$a: chdir through /var -> /tmp/var" "^cwd=/tmp/var$" "$out"
  expect_match "$a: then a relative open" "^line=pid 42$" "$out"
  out=$(cd "$TMP/hostonly-$a" && run system 'cd /var/run && cat x.pid && cd /bin && ./exectest cwd')
  expect_match "$a: relative exec after chdir" "^cwd=/bin$" "$out"
  expect_match "$a: sh's cd and relative cat" "^pid 42$" "$out"
  # A relative -L: the child qemu starts in the guest's cwd, so it gets -L
  # made absolute.
  out=$(cd "$(dirname "$ROOT")" && qemu "$a" -L "$(basename "$ROOT")" -rules "$R" \
        "$(basename "$ROOT")/bin/exectest" system 'uname -m' 2>&1)
  expect_match "$a: relative -L: the exec'd shell runs" "$arch_re" "$out"
  # The static build re-runs itself the same way (/proc/self/exe).
  out=$("$QDIR/qemu-$a-static" -L "$ROOT" -rules "$R" "$ROOT/bin/exectest" system 'uname -m' 2>&1)
  expect_match "$a: qemu-$a-static: system() runs the guest's shell" "$arch_re" "$out"

  # Without the true root: -root-mode prefix, and plain -L without -rules.
  out=$(qemu "$a" -L "$ROOT" -root-mode prefix -rules "$R" "$ROOT/bin/exectest" exec /bin/exectest p0 show 2>/dev/null)
  expect_match "$a: -root-mode prefix: the guest program runs" "^argv0=p0$" "$out"
  out=$(qemu "$a" -L "$ROOT" -guest-exec on "$ROOT/bin/exectest" system 'uname -m' 2>/dev/null)
  expect_match "$a: plain -L -guest-exec on: system()" "$arch_re" "$out"
  out=$(qemu "$a" -L "$ROOT" -guest-exec on "$ROOT/bin/exectest" exec /bin/foreign x 2>/dev/null)
  expect_eq "$a: plain -L: a foreign ELF in -L: ENOEXEC" "$out" "errno=ENOEXEC"
done

# The settings reach the child from the table: an option (-rules-ctx-keep),
# an SFEMU_* variable even when the guest execs with an empty environment
# (and the guest does not see it), a relative -sfanalysis as qemu started.
ROOT=$TMP/root-arm
mkdir -p "$TMP/cwd"
out=$(cd "$TMP/cwd" && SFEMU_RULE_MAX_INSNS=7654321 qemu arm -L "$ROOT" -rules "$R" \
  -rules-ctx-keep 17 -sfanalysis rel-out "$ROOT/bin/exectest" execnoenv /bin/exectest a0 \
  exec /bin/exectest a1 show 2>"$TMP/log-set")
expect_grep "the child's rules see -rules-ctx-keep and SFEMU_RULE_MAX_INSNS" \
  "execve rule: /bin/exectest .*ctx_keep=17 max_insns=7654321" "$TMP/log-set"
n=$(grep -c "execve rule: /bin/exectest .*ctx_keep=17 max_insns=7654321" "$TMP/log-set")
expect_eq "... in the parent and in the child" "$n" 2
expect_match "the guest's empty environment stays empty" "^SFEMU_RULE_MAX_INSNS=\(unset\)$" "$out"
expect_match "argv[0] through two execs" "^argv0=a1$" "$out"
check "relative -sfanalysis: written where qemu started" test -f "$TMP/cwd/rel-out/analysis.json"
check_fails "relative -sfanalysis: nothing written into the root" test -e "$ROOT/rel-out"

# The child chooses its CPU model again from its own ELF unless -cpu was
# given: the DSPr2 program runs from a plain MIPS32 parent, and dies of
# SIGILL under -cpu 24Kf (given to the parent, so to the child too).
ROOT=$TMP/root-mipsel
cp "$GDIR/dspr2-mipsel" "$ROOT/bin/dspr2"
out=$(qemu mipsel -L "$ROOT" -rules "$R" "$ROOT/bin/exectest" system /bin/dspr2 2>/dev/null)
expect_match "child without -cpu: chooses 74Kf from its ELF (DSPr2 runs)" "^mul.ph=0x000f0008$" "$out"
out=$(qemu mipsel -L "$ROOT" -rules "$R" -cpu 24Kf "$ROOT/bin/exectest" system /bin/dspr2 2>/dev/null)
expect_no_match "child of -cpu 24Kf: 24Kf too (SIGILL)" "mul.ph" "$out"
expect_match "child of -cpu 24Kf: the parent runs" "^system=-1$|^system=132$" "$out"
finish
