# sfemu run (docs/run.md) on a router-style root built from Debian armel
# packages: BusyBox httpd serving a CGI login page (index.cgi, a shell
# script the httpd execs).  Named on the command line and found by the
# search (with the arguments of the firmware's /etc/init.d/rcS), --check
# exits 0 once it answers and the record names the port, the answer and the
# CGI's exec; a service that exits, and one that listens but never answers,
# exit with the stage they reached and why; SIGINT leaves no process and no
# mount; without --netns it uses the host's loopback and reuses an
# existing SFEmu mount; every record validates against docs/run-record.schema.json; the
# firmware tree is never modified; --init replays the boot-time file
# preparation of rcS first.  Loopback only.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
RUN=${SFEMU_RUN:?SFEMU_RUN is not set}
ROOT=$TMP/root
require "Debian armel busybox and libc6, a CGI login page" httpd_root "$ROOT"
cat > "$ROOT/etc/init.d/rcS" <<'RC'
#!/bin/sh
mount -t proc proc /proc
httpd -f -p 127.0.0.1:80 -h /www &
mkdir -p /tmp/prepared
echo '<html><head><title>Prepared at boot</title></head></html>' > /tmp/prepared/index.html
RC
cp "$GDIR/aifix-arm" "$ROOT/bin/aifix" # the AI repair case (7.)
MOUNTS+=("$(realpath "$ROOT")")
BEFORE=$(manifest "$ROOT")

valid() { # valid RECORD: against the schema (jsonschema, Draft 2020-12)
  python3 - "$SRC/docs/run-record.schema.json" "$1" <<'PY'
import json, sys, jsonschema
s = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(s)
jsonschema.Draft202012Validator(s).validate(json.load(open(sys.argv[2])))
PY
}
run() { # run OUT ARG...: sfemu run, its output in OUT.log, status in $RC
  local o=$1
  shift
  RC=0
  timeout 120 "$RUN" run --out "$TMP/$o" "$@" > "$TMP/$o.log" 2>&1 || RC=$?
}

# 1. named on the command line
run o1 --check 40 --netns "$ROOT" -- /bin/busybox httpd -f -p 127.0.0.1:80 -h /www
expect_eq "named httpd: --check exits 0" "$RC" 0
J=$TMP/o1/run.json
expect_json "the record names the port, answered 200" "$J" \
  "any(p['port'] == 80 and p['address'] == '127.0.0.1' and p['http_code'] == 200 for p in r['ports'])"
expect_json "well-formed: the CGI's page has a title" "$J" \
  "r['reached'] == 'well_formed' and r['ports'][0]['title'] == 'Router login'"
expect_json "the CGI ran: a program started by a guest exec" "$J" \
  "any(p['execs'] >= 1 for p in r['programs'])"
expect_json "the record names the CGI's exec: the script, run by BusyBox's sh" "$J" \
  "any(p['execs'] >= 1 and p['exec_name'].endswith('index.cgi') and p['program'] == '/bin/busybox' for p in r['programs'])"
expect_grep "so does the summary" '^exec: .*index\.cgi \(/bin/busybox\)' "$TMP/o1/run.txt"
expect_json "the record counts the run's syscalls" "$J" "r['syscalls'] > 100"
expect_json "the rules that fired and how often: entry.lua ran on every syscall" "$J" \
  "r['rules_fired'][0]['file'] == 'entry.lua' and r['rules_fired'][0]['calls'] >= r['syscalls'] * 0.9"
expect_json "a syscall rule ran and gave results (most calls first)" "$J" \
  "any(f['file'].startswith('syscall') and f['calls'] > 0 for f in r['rules_fired']) and [f['calls'] for f in r['rules_fired']] == sorted([f['calls'] for f in r['rules_fired']], reverse=True)"
expect_grep "the summary names the rules that ran" '^rule: .*entry.lua ran [0-9]* times' "$TMP/o1/run.txt"
expect_no_grep "no status line off a terminal" 'syscalls/s' "$TMP/o1.log"
# On a terminal (script(1) gives it one) the status line is drawn in place.
RC=0
timeout 120 script -qefc "$RUN run --check 40 --netns --out $TMP/o1t $ROOT -- /bin/busybox httpd -f -p 127.0.0.1:80 -h /www" /dev/null > "$TMP/o1t.log" 2>&1 || RC=$?
expect_eq "on a terminal: --check exits 0" "$RC" 0
expect_grep "the status line: elapsed, processes, syscalls/s, ports, last event" \
  $'\r\e\\[K\\[[0-9]*s\\] [0-9]* process(es)?, [0-9]* syscalls/s, ports: 127.0.0.1:80 \\| ' "$TMP/o1t.log"
expect_grep "the stage lines clear it first" $'\r\e\\[Ksfemu run: \\[' "$TMP/o1t.log"
expect_json "arch detected from the ELF" "$J" \
  "r['arch']['qemu'] == 'arm' and r['arch']['endian'] == 'little' and r['arch']['abi'].startswith('EABI5')"
expect_json "stages in order with times" "$J" \
  "all(r['stages'][s]['reached'] for s in ('started', 'listening', 'answered', 'well_formed')) and r['stages']['started']['t'] <= r['stages']['listening']['t'] <= r['stages']['answered']['t']"
expect_json "the port asked and bound, from the -sfanalysis record" "$J" \
  "any(l['asked'] == '127.0.0.1:80' and l['got'] == '127.0.0.1:80' for l in r['listens'])"
check "the record validates against the schema" valid "$J"
expect_grep "the summary names the port and answer" '127\.0\.0\.1:80 -> HTTP 200' "$TMP/o1/run.txt"
expect_grep "the stages are printed" 'answered: 127\.0\.0\.1:80 HTTP 200' "$TMP/o1.log"
check_fails "unmounted at the end" is_mounted "$ROOT"
expect_eq "the rules copy is in ROOTFS.sfemu/rules" "$(jq -r .rules "$J" 2>/dev/null || python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['rules'])" "$J")" "$(realpath "$ROOT").sfemu/rules"

# 2. found by the search: BusyBox's httpd applet, arguments from rcS
run o2 --check 40 --netns "$ROOT"
expect_eq "auto-detected httpd: --check exits 0" "$RC" 0
expect_json "chosen by the search, arguments from the init script" "$TMP/o2/run.json" \
  "r['binary']['chosen_by'] == 'search' and r['binary']['path'] == '/bin/busybox' and r['binary']['args'] == ['httpd', '-f', '-p', '127.0.0.1:80', '-h', '/www'] and 'rcS:3' in r['binary']['why']"
expect_grep "says what it chose and why" 'BusyBox has the httpd applet; arguments from /etc/init.d/rcS:3' "$TMP/o2.log"
check "the auto-detected record validates" valid "$TMP/o2/run.json"

# 3. a service that cannot come up: the stage and why
run o3 --check 20 --netns "$ROOT" -- /bin/busybox sh -c ': < /dev/sfemu_led0; echo cannot open /dev/nvram >&2; exit 3'
expect_eq "an exiting service: exit 11 (stage started)" "$RC" 11
expect_json "the fake resource its open of a missing device made" "$TMP/o3/run.json" \
  "[(f['path'], f['program']) for f in r['fakes_made']] == [('/dev/sfemu_led0', '/bin/busybox')]"
expect_grep "the summary names it" '^fake: +/dev/sfemu_led0 made by /bin/busybox' "$TMP/o3/run.txt"
expect_grep "names the stage, the status and the last words" \
  'FAILED: stage started: .*exited with status 3.*cannot open /dev/nvram' "$TMP/o3.log"
expect_json "its record: reached started, result 11" "$TMP/o3/run.json" \
  "r['reached'] == 'started' and r['result']['exit_code'] == 11 and r['ports'] == []"
check "the failed run's record validates" valid "$TMP/o3/run.json"
# listens but never answers HTTP (nc accepts and says nothing)
run o4 --check 6 --netns "$ROOT" -- /bin/busybox nc -l -p 80
expect_eq "a silent listener: exit 12 (stage listening)" "$RC" 12
expect_json "its record: listening on 80, no answer" "$TMP/o4/run.json" \
  "r['reached'] == 'listening' and r['ports'][0]['port'] == 80 and r['ports'][0]['http_code'] == 0"

# 4. SIGINT: no process, no mount left
"$RUN" run --out "$TMP/o5" --netns "$ROOT" -- /bin/busybox httpd -p 127.0.0.1:80 -h /www \
  > "$TMP/o5.log" 2>&1 &
P=$!
for _ in $(seq 200); do grep -q 'answered:' "$TMP/o5.log" && break; sleep 0.1; done
expect_grep "the daemonising httpd answered" 'answered: 127\.0\.0\.1:80 HTTP 200' "$TMP/o5.log"
kill -INT $P
RC=0
wait $P || RC=$?
expect_eq "SIGINT: exit 130" "$RC" 130
expect_eq "SIGINT: no process of the run left" "$(pgrep -f -- "$ROOT" || true)" ""
check_fails "SIGINT: unmounted" is_mounted "$ROOT"
expect_json "SIGINT: the record is written" "$TMP/o5/run.json" \
  "r['result']['exit_code'] == 130 and r['reached'] == 'well_formed'"

# 5. without --netns, on a mount made beforehand: the host's loopback, a
# free port; the mount is reused and left in place
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=$((20000 + RANDOM % 20000))
while port_open $PORT; do PORT=$((PORT + 1)); done
mnt "$ROOT" --rules "$(realpath "$ROOT").sfemu/rules"
run o6 --check 40 "$ROOT" -- /bin/busybox httpd -f -p 127.0.0.1:$PORT -h /www
expect_eq "host network, reused mount: exit 0" "$RC" 0
expect_json "the record names the free port and the reused mount" "$TMP/o6/run.json" \
  "r['ports'][0]['port'] == $PORT and r['mount']['reused'] and not r['netns']"
check "a reused mount stays mounted" is_mounted "$ROOT"
umnt "$ROOT"
check_fails "the service is gone from the host's loopback" port_open $PORT

# 6. --init: the firmware's boot-time preparation (rcS makes the pages the
# service serves) replayed into the overlay first.  Without it, the pages
# are missing; the upper layer keeps them, so this order.
run o7 --check 10 --netns "$ROOT" -- /bin/busybox httpd -f -p 127.0.0.1:80 -h /tmp/prepared
check_fails "without --init the prepared pages are missing: not exit 0" test "$RC" = 0
run o8 --check 40 --netns --init "$ROOT" -- /bin/busybox httpd -f -p 127.0.0.1:80 -h /tmp/prepared
expect_eq "--init: exit 0" "$RC" 0
expect_grep "--init: said and done" 'init: done \(report ' "$TMP/o8.log"
expect_json "--init: the page rcS wrote is served" "$TMP/o8/run.json" \
  "r['ports'][0]['http_code'] == 200 and r['ports'][0]['title'] == 'Prepared at boot'"
check "the prepared page is in the upper layer" test -f "$(realpath "$ROOT").sfemu/tree/tmp/prepared/index.html"

# 7. AI repair during a run (docs/ai-repair.md): the record lists the
# attempt.  A rules tree with only the AI parts (no fakes of missing
# devices), a shell-script tool whose fix opens /dev/zero instead.
source "$SRC/tests/qemu/ai_lib.sh"
AR=$(ai_rules run-ai)
mkdir -p "$AR/plugins/fakefile" # sfemu-mount wants one; empty: no fakes
ai_open_tool
RC=0
SFEMU_AI_ENABLE=1 SFEMU_AI_AUTO_CONTINUE=1 SFEMU_AI_CMD=$TOOL \
  timeout 120 "$RUN" run --out "$TMP/o9" --check 15 --netns --rules "$AR" "$ROOT" -- /bin/aifix missing \
  > "$TMP/o9.log" 2>&1 || RC=$?
expect_eq "AI: the fixed program ends at once: stage started (exit 10 or 11)" "$(( RC == 10 || RC == 11 ))" 1
(( RC == 10 || RC == 11 )) || { echo "    | exit $RC"; _show < "$TMP/o9.log"; }
expect_json "AI: the record lists the validated fix" "$TMP/o9/run.json" \
  "len(r['ai_fixes']) == 1 and r['ai_fixes'][0]['trigger'] == 'exit' and r['ai_fixes'][0]['verdict'] == 'validated' and r['ai_fixes'][0]['installed'] == ['syscall_override/openat.lua']"
expect_grep "AI: the summary names it" '^ai fix: +exit \(exit_group\(1\)\): validated' "$TMP/o9/run.txt"
check "AI: the record validates" valid "$TMP/o9/run.json"

expect_eq "the firmware tree is unchanged" "$(manifest "$ROOT")" "$BEFORE"
finish
