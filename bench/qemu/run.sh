#!/usr/bin/env bash
# Benchmark of the qemu-hooks syscall hook runtime.
#
# Builds bench/qemu/syscall_loop.c (static, -O2) for arm and mipsel and, per
# architecture and per loop (getppid, pwrite64+pread64), times:
#   stock     qemu-ARCH-stock (unpatched QEMU, same version)
#   norules   our qemu-ARCH without -rules
#   (1)       ours, -rules on a dir with no rule for the hot syscall(s)
#   (2)       ours, a V2 pass-through rule on the hot syscall(s)
#   (3)       ours, entry.lua + finish.lua from rules_examples (the
#             recording of the last syscalls)
#   (4)       ours, -rules on a copy of the whole rules_examples/ tree
#             (entry/finish, the fakefile rules of syscall/, plugins/)
# Every configuration runs REPS times, interleaved; the median is reported.
# Then callgrind instruction counts (arm) for every configuration at two loop
# sizes, so the per-syscall count excludes start-up, and the functions that
# add instructions over stock.
# Results go to docs/BENCHMARKS.md, section "## Hook runtime (qemu-hooks)".
#
# Env: SFEMU_QEMU_DIR (default build/qemu-hooks, falling back to
#      /tmp/b/qemu-hooks), REPS (7), N_GETPPID (1000000), N_FILE (200000),
#      N_RW (200000), N_MAP (100000), LOOPS ("getppid file rw"; also "map"), CG_N1/CG_N2 (10000/30000),
#      CG_LOOPS (= LOOPS), NO_CALLGRIND=1, NO_TIMING=1 (callgrind only),
#      NO_DOC=1, CG_KEEP=DIR (keep the per-function tables there).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DOC="$REPO/docs/BENCHMARKS.md"
HEADING="## Hook runtime (qemu-hooks)"
. "$REPO/bench/lib.sh"

REPS=${REPS:-7}
declare -A N=([getppid]=${N_GETPPID:-1000000} [file]=${N_FILE:-200000}
              [rw]=${N_RW:-200000} [map]=${N_MAP:-100000})
# syscalls per loop iteration
declare -A PER_ITER=([getppid]=1 [file]=2 [rw]=4 [map]=2)
LOOPS=(${LOOPS:-getppid file rw})
CG_LOOPS=(${CG_LOOPS:-${LOOPS[*]}})
CG_N1=${CG_N1:-10000}
CG_N2=${CG_N2:-30000}
ARCHES=(arm mipsel)
# Hot syscalls per loop (same names on ARM EABI and MIPS o32).
declare -A HOT=([getppid]="getppid" [file]="pwrite64 pread64"
                [rw]="write _llseek read" [map]="mmap2 munmap")
CONFIGS=(stock norules r1 r2 r3 r4)
declare -A LABEL=([stock]="stock" [norules]="ours, no -rules"
                  [r1]="(1) -rules, no rule for it"
                  [r2]="(2) V2 pass-through rule"
                  [r3]="(3) entry+finish recording"
                  [r4]="(4) full rules_examples/ tree")
# Targets (issue 11): at most this many ns added per hooked syscall over
# stock; (1) is a ratio (within 5% of stock).
declare -A TARGET_NS=([r2]=200 [r3]=300 [r4]=400)

die() { echo "run.sh: $*" >&2; exit 1; }

QDIR=${SFEMU_QEMU_DIR:-}
if [[ -z $QDIR ]]; then
    QDIR="$REPO/build/qemu-hooks"
    [[ -x $QDIR/qemu-arm ]] || QDIR=/tmp/b/qemu-hooks
fi
for a in "${ARCHES[@]}"; do
    [[ -x $QDIR/qemu-$a ]] || die "missing $QDIR/qemu-$a"
    [[ -x $QDIR/qemu-$a-stock ]] || die "missing $QDIR/qemu-$a-stock (build the stock targets)"
    command -v "${CROSS_CC[$a]}" >/dev/null || die "no ${CROSS_CC[$a]} in PATH"
done

W=$(mktemp -d /tmp/sfemu-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- guest ------------------------------------------------------------------
for a in "${ARCHES[@]}"; do
    "${CROSS_CC[$a]}" -static -O2 -Wall -o "$W/loop-$a" "$HERE/syscall_loop.c"
done

# ---- rule dirs --------------------------------------------------------------
# (1) a rule for a syscall the loop never makes, no entry/finish.
mkdir -p "$W/r1/syscall"
cat >"$W/r1/syscall/getpid.lua" <<'EOF'
function do_syscall(num, a1, a2, a3, a4, a5, a6, a7, a8)
    return c_do_syscall(num, a1, a2, a3, a4, a5, a6, a7, a8)
end
EOF
# (2) V2 pass-through on the hot syscalls.
mkdir -p "$W/r2/syscall"
for s in ${HOT[getppid]} ${HOT[file]} ${HOT[rw]} ${HOT[map]}; do
    cp "$W/r1/syscall/getpid.lua" "$W/r2/syscall/$s.lua"
done
# (3) the repo's recording hooks only.
mkdir -p "$W/r3"
cp "$REPO/rules_examples/entry.lua" "$REPO/rules_examples/finish.lua" "$W/r3/"
# (4) the whole example tree (a copy: the watchdog writes into cache/ and log/).
cp -a "$REPO/rules_examples" "$W/r4"
# Sanity dirs: prove the rules of (2), (3), (4) really run on the hot syscalls.
mkdir -p "$W/chk2/syscall" "$W/chk3"
cat >"$W/chk2/syscall/getppid.lua" <<'EOF'
function do_syscall(num, a1, a2, a3, a4, a5, a6, a7, a8)
    c_do_syscall(num, a1, a2, a3, a4, a5, a6, a7, a8)
    return 4242
end
EOF
for s in ${HOT[file]} ${HOT[rw]}; do
    cat >"$W/chk2/syscall/$s.lua" <<EOF
local seen = false
function do_syscall(num, a1, a2, a3, a4, a5, a6, a7, a8)
    if not seen then seen = true; c_log("bench-check $s") end
    return c_do_syscall(num, a1, a2, a3, a4, a5, a6, a7, a8)
end
EOF
done
cp "$W/r3/entry.lua" "$W/chk3/"
cat >"$W/chk3/finish.lua" <<'EOF'
-- proves the runtime's ring recorded the current syscall
function finish(num, name, ret, intercepted)
    if name == "getppid" then
        local s = c_get_ctx()
        if s[#s].name == "getppid" then return 4343 end
    end
end
EOF
cp -a "$W/r4" "$W/chk4"
cp "$W/chk3/finish.lua" "$W/chk4/finish.lua"
for s in ${HOT[rw]}; do # the tree's own rules, logging once that they ran
    cat >>"$W/chk4/syscall/$s.lua" <<EOF
local rule, seen = do_syscall, false
function do_syscall(...)
    if not seen then seen = true; c_log("bench-check $s") end
    return rule(...)
end
EOF
done

# cmd ARCH CONFIG -> the command prefix
cmd() {
    local a=$1 c=$2
    case $c in
    stock)   echo "$QDIR/qemu-$a-stock" ;;
    norules) echo "$QDIR/qemu-$a" ;;
    r*) echo "$QDIR/qemu-$a -rules $W/$c" ;;
    esac
}

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }

echo "== sanity checks" >&2
for a in "${ARCHES[@]}"; do
    q=$QDIR/qemu-$a
    l=$($q -rules "$W/chk2" "$W/loop-$a" getppid 100 2>/dev/null)
    [[ $(field last <<<"$l") == 4242 ]] || die "$a: getppid.lua did not run ($l)"
    l=$($q -rules "$W/chk3" "$W/loop-$a" getppid 100 2>/dev/null)
    [[ $(field last <<<"$l") == 4343 ]] || die "$a: entry/finish recording did not run ($l)"
    # the full tree: its finish() sees the ring; read/write/lseek go through
    # its fakefile rules and still work on a real fd
    l=$($q -rules "$W/chk4" "$W/loop-$a" getppid 100 2>/dev/null)
    [[ $(field last <<<"$l") == 4343 ]] || die "$a: the full tree's finish.lua did not run ($l)"
    e=$($q -rules "$W/chk4" "$W/loop-$a" rw 100 "$W" 2>&1) ||
        die "$a: rw through the full tree failed ($e)"
    for s in ${HOT[rw]}; do
        grep -q "bench-check $s" <<<"$e" || die "$a: the tree's $s.lua did not run: $e"
    done
    for m in file rw; do
        e=$($q -rules "$W/chk2" "$W/loop-$a" $m 10 "$W" 2>&1 >/dev/null)
        for s in ${HOT[$m]}; do
            grep -q "bench-check $s" <<<"$e" || die "$a: $s.lua did not run: $e"
        done
    done
    for s in ${HOT[map]}; do # the tree's fakefile rules for mappings
        [[ -f $W/r4/syscall/$s.lua ]] || die "the tree has no syscall/$s.lua"
    done
    l=$($q -rules "$W/r2" "$W/loop-$a" getppid 10)
    [[ $(field last <<<"$l") -gt 0 ]] || die "$a: pass-through broke getppid ($l)"
done

# ---- timing -----------------------------------------------------------------
declare -A SAMPLES MED CPU CPUMED
if [[ -z ${NO_TIMING:-} ]]; then
    echo "== timing: ${REPS} reps x ${#ARCHES[@]} arches x ${#LOOPS[@]} loops x ${#CONFIGS[@]} configs" >&2
    for ((rep = 1; rep <= REPS; rep++)); do
        for a in "${ARCHES[@]}"; do
            for m in "${LOOPS[@]}"; do
                for c in "${CONFIGS[@]}"; do
                    # shellcheck disable=SC2046
                    l=$($(cmd "$a" "$c") "$W/loop-$a" "$m" "${N[$m]}" "$W" 2>"$W/stderr") ||
                        die "$a $m $c failed: $(cat "$W/stderr")"
                    SAMPLES[$a,$m,$c]+="$(field ns_per_syscall <<<"$l") "
                    CPU[$a,$m,$c]+="$(field cpu_ns_per_syscall <<<"$l") "
                done
            done
        done
        echo "   rep $rep/$REPS done ($(( $(date +%s) - T_START )) s)" >&2
    done
    for a in "${ARCHES[@]}"; do
        for m in "${LOOPS[@]}"; do
            for c in "${CONFIGS[@]}"; do
                MED[$a,$m,$c]=$(median %.1f <<<"${SAMPLES[$a,$m,$c]}")
                CPUMED[$a,$m,$c]=$(median %.1f <<<"${CPU[$a,$m,$c]}")
            done
        done
    done
fi
LOAD_TIMED=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- callgrind --------------------------------------------------------------
CG_CONFIGS=(stock r1 r2 r3 r4)
declare -A IR
CG_TOP=""
# per_fn OUT: "Ir<TAB>file:function [binary]" for every function of a
# callgrind output, names reduced so stock and patched builds compare.
per_fn() {
    callgrind_annotate --inclusive=no --auto=no --threshold=100 "$1" 2>/dev/null |
        awk '/Ir +file:function/ {on=1; getline; next}
             on && !NF {exit}
             on && /^ *[0-9,]+ / {ir=$1; gsub(",", "", ir);
                 sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, ""); print ir "\t" $0}' |
        sed -E 's#^([0-9]+\t)[^ ]*/([^/ ]+:)#\1\2#; s#\[/[^]]*/([^]/]+)\]$#[\1]#; s#\[qemu-arm-stock\]$#[qemu-arm]#; s#^([0-9]+\t)\?\?\?:0x[0-9a-f]+ \[\?\?\?\]$#\1(TCG-generated guest code) [JIT]#'
}
if [[ -z ${NO_CALLGRIND:-} ]] && command -v valgrind >/dev/null; then
    echo "== callgrind (arm, ${CG_LOOPS[*]}, N=$CG_N1 and N=$CG_N2)" >&2
    for m in "${CG_LOOPS[@]}"; do
        for c in "${CG_CONFIGS[@]}"; do
            for n in "$CG_N1" "$CG_N2"; do
                out="$W/cg.$m.$c.$n"
                # shellcheck disable=SC2046
                valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$out" \
                    $(cmd arm "$c") "$W/loop-arm" "$m" "$n" "$W" >/dev/null 2>"$W/stderr" ||
                    die "callgrind $m $c $n failed: $(tail -5 "$W/stderr")"
                IR[$m,$c,$n]=$(awk '/^totals:/ {t=$2} /^summary:/ {s=$2} END {print (t ? t : s)}' "$out")
            done
        done
    done
    if command -v callgrind_annotate >/dev/null; then
        # Per-function self Ir per syscall: (N2 run - N1 run) / syscalls in
        # between, so QEMU start-up and code translation drop out.
        for m in "${CG_LOOPS[@]}"; do
            d=$(( (CG_N2 - CG_N1) * PER_ITER[$m] ))
            for c in "${CG_CONFIGS[@]}"; do
                per_fn "$W/cg.$m.$c.$CG_N1" >"$W/fn1"
                per_fn "$W/cg.$m.$c.$CG_N2" >"$W/fn2"
                awk -F'\t' -v d=$d '
                    NR == FNR {a[$2] += $1; next}
                    {b[$2] += $1}
                    END {for (k in b) printf "%.1f\t%s\n", (b[k] - a[k]) / d, k}' \
                    "$W/fn1" "$W/fn2" >"$W/per.$m.$c"
            done
        done
        # A stripped liblua5.4.so: name its internal functions by matching the
        # function's size (from .eh_frame) against the symbol sizes of
        # liblua5.4.a (same source and build), when both are at hand.
        lualib=$(ldd "$QDIR/qemu-arm" 2>/dev/null | awk '/liblua/ {print $3; exit}')
        luaa=$(ls /usr/lib/*/liblua5.4.a 2>/dev/null | awk 'NR == 1')
        if [[ -n $lualib && -n $luaa ]] && command -v readelf >/dev/null && command -v nm >/dev/null; then
            readelf -wF "$lualib" 2>/dev/null |
                sed -nE 's/.*FDE .* pc=0*([0-9a-f]+)\.\.0*([0-9a-f]+).*/\1 \2/p' >"$W/lua.fde" || true
            # (minus the ones the .so exports: those callgrind names itself)
            nm -D --defined-only "$lualib" 2>/dev/null | awk '{sub(/@.*/, "", $NF); print $NF}' >"$W/lua.dyn" || true
            nm -S --defined-only "$luaa" 2>/dev/null |
                awk -v dyn="$W/lua.dyn" 'BEGIN {while ((getline l < dyn) > 0) d[l] = 1}
                    NF == 4 && $3 ~ /^[tT]$/ && !($4 in d) {print $2, $4}' >"$W/lua.syms" || true
            for f in "$W"/per.*.*; do
                awk -F'\t' -v OFS='\t' -v fde="$W/lua.fde" -v syms="$W/lua.syms" '
                    function hex(h,   i, v) { v = 0; h = tolower(h)
                        for (i = 1; i <= length(h); i++)
                            v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
                        return v }
                    BEGIN { while ((getline l < fde) > 0) { split(l, f, " ")
                                size[hex(f[1])] = hex(f[2]) - hex(f[1]) }
                            while ((getline l < syms) > 0) { split(l, f, " "); z = hex(f[1])
                                v = (z in name) ? name[z] "|" f[2] : f[2]; name[z] = v } }
                    match($2, /^\?\?\?:0x[0-9a-f]+ \[liblua/) {
                        a = hex(substr($2, 7, index($2, " ") - 7))
                        if ((a in size) && (size[a] in name))
                            sub(/^\?\?\?:0x[0-9a-f]+/, name[size[a]] "()", $2) }
                    {print $1, $2}' "$f" >"$f.n" && mv "$f.n" "$f"
            done
        fi
        # What each configuration adds per syscall over stock, by function.
        for m in "${CG_LOOPS[@]}"; do
            for c in r1 r2 r3 r4; do
                awk -F'\t' 'NR == FNR {s[$2] = $1; next}
                    {x = $1 - s[$2]; delete s[$2]
                     if (x >= 0.5 || x <= -0.5) printf "%+8.1f  %s\n", x, $2}
                    END {for (k in s) if (s[k] >= 0.5) printf "%+8.1f  %s\n", -s[k], k}' \
                    "$W/per.$m.stock" "$W/per.$m.$c" | sort -gr >"$W/added.$m.$c"
            done
        done
        # In the document: (1) to (4) on getppid, (4) on the other loops.
        for m in "${CG_LOOPS[@]}"; do
            for c in r1 r2 r3 r4; do
                [[ $m == getppid || $c == r4 ]] || continue
                CG_TOP+="-- $m loop, ${LABEL[$c]}: added Ir per syscall over stock, by function"$'\n'
                CG_TOP+=$(awk 'NR <= 14' "$W/added.$m.$c")$'\n'
            done
        done
        if [[ -n ${CG_KEEP:-} ]]; then
            mkdir -p "$CG_KEEP"
            cp "$W"/per.*.* "$W"/added.*.* "$CG_KEEP/"
            for m in "${CG_LOOPS[@]}"; do
                for c in "${CG_CONFIGS[@]}"; do
                    cp "$W/cg.$m.$c.$CG_N2" "$CG_KEEP/"
                done
            done
        fi
    fi
fi

# ---- report -----------------------------------------------------------------
fmt_ratio() { awk -v x="$1" -v s="$2" 'BEGIN {printf "%.3f", x / s}'; }
fmt_add()   { awk -v x="$1" -v s="$2" 'BEGIN {printf "%+.0f", x - s}'; }
ir_per() {  # LOOP CONFIG -> Ir per syscall
    awk -v a="${IR[$1,$2,$CG_N1]}" -v b="${IR[$1,$2,$CG_N2]}" \
        -v d=$(( (CG_N2 - CG_N1) * PER_ITER[$1] )) 'BEGIN {printf "%.0f", (b - a) / d}'
}
declare -A LOOP_DESC=(
    [getppid]="N=${N[getppid]} \`syscall(SYS_getppid)\`"
    [file]="N=${N[file]} x (\`pwrite\` 64 B + \`pread\` 64 B) = $((2 * N[file])) syscalls (\`pwrite64\`/\`pread64\`)"
    [rw]="N=${N[rw]} x (\`lseek\` + \`write\` 64 B + \`lseek\` + \`read\` 64 B) = $((4 * N[rw])) syscalls (\`_llseek\`/\`write\`/\`read\`: the calls rules_examples/syscall/ hooks)"
    [map]="N=${N[map]} x (\`mmap\` 64 KiB anonymous + a write + \`munmap\`) = $((2 * N[map])) syscalls (\`mmap2\`/\`munmap\`: rules_examples/syscall/ hooks them for fake mappings)")

SEC="$W/section.md"
{
    echo "$HEADING"
    echo
    echo "Generated by \`bench/qemu/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "Machine: nproc=$(nproc), CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr);"
    echo "load average at start: $LOAD_START, after the timed runs: $LOAD_TIMED (the machine is shared:"
    echo "the timings move with its load, callgrind's instruction counts do not)."
    echo "QEMU $(cat "$QDIR/qemu-version.txt" 2>/dev/null || echo '?') linux-user from \`$QDIR\`;"
    echo "guest \`bench/qemu/syscall_loop.c\` (static, -O2), time measured inside the guest"
    echo "(CLOCK_MONOTONIC around the loop). Median of $REPS interleaved runs. Loops:"
    for m in "${LOOPS[@]}"; do
        echo "- $m: ${LOOP_DESC[$m]}"
    done
    echo
    echo "Configurations: **stock** = unpatched qemu-ARCH-stock; **ours, no -rules** ="
    echo "patched QEMU without \`-rules\`; **(1)** \`-rules\` on a dir whose only rule is for"
    echo "a syscall the loop never makes; **(2)** V2 pass-through rule"
    echo "(\`return c_do_syscall(num, a1, ..., a8)\`) on the hot syscalls; **(3)**"
    echo "\`rules_examples/entry.lua\` + \`finish.lua\` only: the watchdog on, the runtime's context ring"
    echo "recording every syscall, both Lua hooks called; **(4)** \`-rules\` on a copy of the whole"
    echo "\`rules_examples/\` tree (entry/finish, the fakefile rules of \`syscall/\` on"
    echo "read/write/lseek/open/stat..., \`plugins/\`)."
    echo
    if [[ -z ${NO_TIMING:-} ]]; then
        echo "Wall time is what the targets are about; the thread's CPU time"
        echo "(\`CLOCK_THREAD_CPUTIME_ID\` around the same loop) leaves out the time the thread"
        echo "waited for a CPU, which a busy machine adds to the wall time."
        echo
        echo "| arch | loop | configuration | ns/syscall (median) | min–max | ratio to stock | added ns/syscall vs stock | CPU ns/syscall (median) | added CPU ns |"
        echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
        for a in "${ARCHES[@]}"; do
            for m in "${LOOPS[@]}"; do
                s=${MED[$a,$m,stock]} cs=${CPUMED[$a,$m,stock]}
                for c in "${CONFIGS[@]}"; do
                    x=${MED[$a,$m,$c]} cx=${CPUMED[$a,$m,$c]}
                    if [[ $c == stock ]]; then r="1.000"; d="—"; cd="—"; else r=$(fmt_ratio "$x" "$s"); d=$(fmt_add "$x" "$s"); cd=$(fmt_add "$cx" "$cs"); fi
                    mm=$(tr ' ' '\n' <<<"${SAMPLES[$a,$m,$c]}" | sed '/^$/d' | sort -g |
                         awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.0f–%.0f", lo, hi}')
                    echo "| $a | $m | ${LABEL[$c]} | $x | $mm | $r | $d | $cx | $cd |"
                done
            done
        done
        echo
        # Targets: worst over both arches, on the getppid and file loops (the
        # issue's); the rw loop's worst is shown beside them (map: none).
        echo "Targets (issue 11), worst case over both arches; the target loops are getppid and file,"
        echo "the rw loop is shown beside them:"
        echo
        echo "| target | worst, getppid + file | result | worst, rw loop |"
        echo "|---|---:|---|---:|"
        for c in r1 r2 r3 r4; do
            for set in target rw; do
                w=-1e9
                for a in "${ARCHES[@]}"; do
                    for m in "${LOOPS[@]}"; do
                        [[ $set == rw ]] && [[ $m != rw ]] && continue
                        [[ $set == target ]] && [[ $m != getppid && $m != file ]] && continue
                        s=${MED[$a,$m,stock]} x=${MED[$a,$m,$c]}
                        if [[ $c == r1 ]]; then
                            v=$(awk -v x="$x" -v s="$s" 'BEGIN {printf "%.2f", (x / s - 1) * 100}')
                        else
                            v=$(awk -v x="$x" -v s="$s" 'BEGIN {printf "%.0f", x - s}')
                        fi
                        w=$(awk -v a="$w" -v b="$v" 'BEGIN {print (b > a ? b : a)}')
                    done
                done
                [[ $w == -1e9 ]] && w="—"
                [[ $set == target ]] && wt=$w || wr=$w
            done
            if [[ $c == r1 ]]; then
                res=$(awk -v w="$wt" 'BEGIN {print (w <= 5 ? "PASS" : "FAIL")}')
                echo "| ${LABEL[$c]}: within 5% of stock | ${wt}% | **$res** | ${wr}% |"
            else
                res=$(awk -v w="$wt" -v t="${TARGET_NS[$c]}" 'BEGIN {print (w <= t ? "PASS" : "FAIL")}')
                echo "| ${LABEL[$c]}: ≤ ${TARGET_NS[$c]} ns added per hooked syscall | ${wt} ns | **$res** | ${wr} ns |"
            fi
        done
        echo
    fi
    if [[ -n ${IR[${CG_LOOPS[0]},stock,$CG_N1]:-} ]]; then
        echo "Callgrind (arm, \`--dump-instr=no\`): total Ir at N=$CG_N1 and N=$CG_N2 loop iterations;"
        echo "Ir/syscall = (Ir(N=$CG_N2) - Ir(N=$CG_N1)) / syscalls in between, so start-up and"
        echo "translation cancel out."
        echo
        echo "| loop | configuration | Ir (N=$CG_N1) | Ir (N=$CG_N2) | Ir/syscall | added Ir/syscall vs stock |"
        echo "|---|---|---:|---:|---:|---:|"
        for m in "${CG_LOOPS[@]}"; do
            sp=$(ir_per "$m" stock)
            for c in "${CG_CONFIGS[@]}"; do
                p=$(ir_per "$m" "$c")
                [[ $c == stock ]] && d="—" || d=$(awk -v p="$p" -v s="$sp" 'BEGIN {printf "%+d", p - s}')
                echo "| $m | ${LABEL[$c]} | ${IR[$m,$c,$CG_N1]} | ${IR[$m,$c,$CG_N2]} | $p | $d |"
            done
        done
        echo
        if [[ -n $CG_TOP ]]; then
            echo "Where the added instructions go: self Ir per syscall by function, the configuration's run"
            echo "minus stock's, from the difference of the N=$CG_N2 and N=$CG_N1 runs (+ = more"
            echo "than stock). \`[JIT]\` is the translated guest code."
            echo
            echo '```'
            printf '%s' "$CG_TOP" | sed 's/  ???:\(lua[A-Za-z_]*\) /  \1() /'
            echo '```'
            echo
        fi
    fi
} >"$SEC"

cat "$SEC"

if [[ -z ${NO_DOC:-} ]]; then
    bench_write_section "$DOC" "$HEADING" "$SEC"
    echo "== wrote $DOC" >&2
fi
echo "== total $(( $(date +%s) - T_START )) s" >&2
