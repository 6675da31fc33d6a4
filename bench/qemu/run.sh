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
# Every configuration runs REPS times, interleaved; the median is reported.
# Then callgrind instruction counts (arm, getppid) for stock/(1)/(2)/(3) at
# two loop sizes, so the per-syscall count excludes start-up.
# Results go to docs/BENCHMARKS.md, section "## Hook runtime (qemu-hooks)".
#
# Env: SFEMU_QEMU_DIR (default build/qemu-hooks, falling back to
#      /tmp/b/qemu-hooks), REPS (7), N_GETPPID (1000000), N_FILE (200000),
#      CG_N1/CG_N2 (10000/30000), NO_CALLGRIND=1, NO_DOC=1.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DOC="$REPO/docs/BENCHMARKS.md"
HEADING="## Hook runtime (qemu-hooks)"
. "$REPO/bench/lib.sh"

REPS=${REPS:-7}
N_GETPPID=${N_GETPPID:-1000000}
N_FILE=${N_FILE:-200000}
CG_N1=${CG_N1:-10000}
CG_N2=${CG_N2:-30000}
ARCHES=(arm mipsel)
# Hot syscalls per loop (same names on ARM EABI and MIPS o32).
declare -A HOT=([getppid]="getppid" [file]="pwrite64 pread64")
CONFIGS=(stock norules r1 r2 r3)
declare -A LABEL=([stock]="stock" [norules]="ours, no -rules"
                  [r1]="(1) -rules, no rule for it"
                  [r2]="(2) V2 pass-through rule"
                  [r3]="(3) entry+finish recording")

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
for s in ${HOT[getppid]} ${HOT[file]}; do
    cp "$W/r1/syscall/getpid.lua" "$W/r2/syscall/$s.lua"
done
# (3) the repo's recording hooks only.
mkdir -p "$W/r3"
cp "$REPO/rules_examples/entry.lua" "$REPO/rules_examples/finish.lua" "$W/r3/"
# Sanity dirs: prove the rules of (2) and (3) really run on the hot syscalls.
mkdir -p "$W/chk2/syscall" "$W/chk3"
cat >"$W/chk2/syscall/getppid.lua" <<'EOF'
function do_syscall(num, a1, a2, a3, a4, a5, a6, a7, a8)
    c_do_syscall(num, a1, a2, a3, a4, a5, a6, a7, a8)
    return 4242
end
EOF
for s in ${HOT[file]}; do
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

# cmd ARCH CONFIG -> the command prefix
cmd() {
    local a=$1 c=$2
    case $c in
    stock)   echo "$QDIR/qemu-$a-stock" ;;
    norules) echo "$QDIR/qemu-$a" ;;
    r1|r2|r3) echo "$QDIR/qemu-$a -rules $W/$c" ;;
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
    e=$($q -rules "$W/chk2" "$W/loop-$a" file 10 2>&1 >/dev/null)
    for s in ${HOT[file]}; do
        grep -q "bench-check $s" <<<"$e" || die "$a: $s.lua did not run: $e"
    done
    l=$($q -rules "$W/r2" "$W/loop-$a" getppid 10)
    [[ $(field last <<<"$l") -gt 0 ]] || die "$a: pass-through broke getppid ($l)"
done

# ---- timing -----------------------------------------------------------------
declare -A SAMPLES
echo "== timing: ${REPS} reps x ${#ARCHES[@]} arches x 2 loops x ${#CONFIGS[@]} configs" >&2
for ((rep = 1; rep <= REPS; rep++)); do
    for a in "${ARCHES[@]}"; do
        for m in getppid file; do
            [[ $m == getppid ]] && n=$N_GETPPID || n=$N_FILE
            for c in "${CONFIGS[@]}"; do
                # shellcheck disable=SC2046
                l=$($(cmd "$a" "$c") "$W/loop-$a" "$m" "$n" "$W" 2>"$W/stderr") ||
                    die "$a $m $c failed: $(cat "$W/stderr")"
                v=$(field ns_per_syscall <<<"$l")
                SAMPLES[$a,$m,$c]+="$v "
            done
        done
    done
    echo "   rep $rep/$REPS done ($(( $(date +%s) - T_START )) s)" >&2
done


declare -A MED
for a in "${ARCHES[@]}"; do
    for m in getppid file; do
        for c in "${CONFIGS[@]}"; do
            MED[$a,$m,$c]=$(median %.1f <<<"${SAMPLES[$a,$m,$c]}")
        done
    done
done

# ---- callgrind --------------------------------------------------------------
declare -A IR
CG_TOP=""
if [[ -z ${NO_CALLGRIND:-} ]] && command -v valgrind >/dev/null; then
    echo "== callgrind (arm, getppid, N=$CG_N1 and N=$CG_N2)" >&2
    for c in stock r1 r2 r3; do
        for n in "$CG_N1" "$CG_N2"; do
            out="$W/cg.$c.$n"
            # shellcheck disable=SC2046
            valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$out" \
                $(cmd arm "$c") "$W/loop-arm" getppid "$n" >/dev/null 2>"$W/stderr" ||
                die "callgrind $c $n failed: $(tail -5 "$W/stderr")"
            IR[$c,$n]=$(awk '/^totals:/ {t=$2} /^summary:/ {s=$2} END {print (t ? t : s)}' "$out")
        done
    done
    if command -v callgrind_annotate >/dev/null; then
        # Per-function self Ir per syscall: (N2 run - N1 run) / (N2 - N1), so
        # QEMU start-up and code translation drop out.  Names are reduced to
        # file:function [binary] with qemu-arm-stock shown as qemu-arm so the
        # stock and patched builds can be compared.
        for c in stock r1 r2 r3; do
            for n in "$CG_N1" "$CG_N2"; do
                callgrind_annotate --inclusive=no --auto=no --threshold=100 "$W/cg.$c.$n" 2>/dev/null |
                    awk '/Ir +file:function/ {on=1; getline; next}
                         on && !NF {exit}
                         on && /^ *[0-9,]+ / {ir=$1; gsub(",", "", ir);
                             sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, ""); print ir "\t" $0}' |
                    sed -E 's#^([0-9]+\t)[^ ]*/([^/ ]+:)#\1\2#; s#\[/[^]]*/([^]/]+)\]$#[\1]#; s#\[qemu-arm-stock\]$#[qemu-arm]#; s#^([0-9]+\t)\?\?\?:0x[0-9a-f]+ \[\?\?\?\]$#\1(TCG-generated guest code) [JIT]#' \
                    >"$W/fn.$c.$n"
            done
            awk -F'\t' -v d=$((CG_N2 - CG_N1)) '
                NR == FNR {a[$2] += $1; next}
                {b[$2] += $1}
                END {for (k in b) printf "%.1f\t%s\n", (b[k] - a[k]) / d, k}' \
                "$W/fn.$c.$CG_N1" "$W/fn.$c.$CG_N2" >"$W/per.$c"
        done
        # Debian's liblua5.4.so is stripped: name its internal functions by
        # matching the function's size (from .eh_frame) against the symbol
        # sizes of liblua5.4.a (same source and build), when both are at hand.
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
            for c in stock r1 r2 r3; do
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
                    {print $1, $2}' "$W/per.$c" >"$W/per.$c.n" && mv "$W/per.$c.n" "$W/per.$c"
            done
        fi
        # (1): what it adds per syscall over stock, by function.
        CG_TOP+="r1"$'\n'
        CG_TOP+=$(awk -F'\t' 'NR == FNR {s[$2] = $1; next}
                {x = $1 - s[$2]; if (x >= 0.5 || x <= -0.5) printf "%+8.1f  %s\n", x, $2}' \
                "$W/per.stock" "$W/per.r1" | sort -gr | awk 'NR <= 10')
        CG_TOP+=$'\n'
        for c in r2 r3; do
            CG_TOP+="$c"$'\n'
            CG_TOP+=$(awk -F'\t' '$1 >= 0.5 {printf "%8.1f  %s\n", $1, $2}' "$W/per.$c" |
                sort -gr | awk 'NR <= 12')
            CG_TOP+=$'\n'
        done
    fi
fi

# ---- report -----------------------------------------------------------------
fmt_ratio() { awk -v x="$1" -v s="$2" 'BEGIN {printf "%.3f", x / s}'; }
fmt_add()   { awk -v x="$1" -v s="$2" 'BEGIN {printf "%+.0f", x - s}'; }

SEC="$W/section.md"
{
    echo "$HEADING"
    echo
    echo "Generated by \`bench/qemu/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "Machine: nproc=$(nproc), CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr);"
    echo "load average at start: $LOAD_START, at end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "QEMU $(cat "$QDIR/qemu-version.txt" 2>/dev/null || echo '?') linux-user from \`$QDIR\`;"
    echo "guest \`bench/qemu/syscall_loop.c\` (static, -O2), time measured inside the guest"
    echo "(CLOCK_MONOTONIC around the loop). Median of $REPS interleaved runs."
    echo "getppid loop: N=$N_GETPPID \`syscall(SYS_getppid)\`; file loop: N=$N_FILE x"
    echo "(\`pwrite\` 64 B + \`pread\` 64 B) = $((2 * N_FILE)) syscalls (\`pwrite64\`/\`pread64\`)."
    echo
    echo "Configurations: **stock** = unpatched qemu-ARCH-stock; **ours, no -rules** ="
    echo "patched QEMU without \`-rules\`; **(1)** \`-rules\` on a dir whose only rule is for"
    echo "a syscall the loop never makes; **(2)** V2 pass-through rule"
    echo "(\`return c_do_syscall(num, a1, ..., a8)\`) on the hot syscall(s); **(3)**"
    echo "\`rules_examples/entry.lua\` + \`finish.lua\` only: the watchdog on, the runtime's context ring recording every syscall, both Lua hooks called."
    echo
    echo "| arch | loop | configuration | ns/syscall (median) | min–max | ratio to stock | added ns/syscall vs stock |"
    echo "|---|---|---|---:|---:|---:|---:|"
    for a in "${ARCHES[@]}"; do
        for m in getppid file; do
            s=${MED[$a,$m,stock]}
            for c in "${CONFIGS[@]}"; do
                x=${MED[$a,$m,$c]}
                if [[ $c == stock ]]; then r="1.000"; d="—"; else r=$(fmt_ratio "$x" "$s"); d=$(fmt_add "$x" "$s"); fi
                mm=$(tr ' ' '\n' <<<"${SAMPLES[$a,$m,$c]}" | sed '/^$/d' | sort -g |
                     awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.0f–%.0f", lo, hi}')
                echo "| $a | $m | ${LABEL[$c]} | $x | $mm | $r | $d |"
            done
        done
    done
    echo
    # Targets
    t1=PASS; t2=PASS; t3=PASS; worst1=0; worst2=0; worst3=0
    for a in "${ARCHES[@]}"; do
        for m in getppid file; do
            s=${MED[$a,$m,stock]}
            r1=$(awk -v x="${MED[$a,$m,r1]}" -v s="$s" 'BEGIN {printf "%.2f", (x / s - 1) * 100}')
            d2=$(awk -v x="${MED[$a,$m,r2]}" -v s="$s" 'BEGIN {printf "%.0f", x - s}')
            d3=$(awk -v x="${MED[$a,$m,r3]}" -v s="$s" 'BEGIN {printf "%.0f", x - s}')
            worst1=$(awk -v a="$worst1" -v b="$r1" 'BEGIN {print (b > a ? b : a)}')
            worst2=$(awk -v a="$worst2" -v b="$d2" 'BEGIN {print (b > a ? b : a)}')
            worst3=$(awk -v a="$worst3" -v b="$d3" 'BEGIN {print (b > a ? b : a)}')
        done
    done
    awk -v w="$worst1" 'BEGIN {exit !(w > 5)}' && t1=FAIL
    awk -v w="$worst2" 'BEGIN {exit !(w >= 1000)}' && t2=FAIL
    awk -v w="$worst3" 'BEGIN {exit !(w >= 1000)}' && t3=FAIL
    echo "Targets (worst case over both arches and both loops):"
    echo
    echo "| target | worst measured | result |"
    echo "|---|---:|---|"
    echo "| (1) within 5% of stock | ${worst1}% | **$t1** |"
    echo "| (2) pass-through rule: < 1 µs added per hooked syscall | ${worst2} ns | **$t2** |"
    echo "| (3) entry+finish recording: < 1 µs added per hooked syscall | ${worst3} ns | **$t3** |"
    echo
    if [[ -n ${IR[stock,$CG_N1]:-} ]]; then
        echo "Callgrind (arm, getppid loop, \`--dump-instr=no\`): total Ir at N=$CG_N1 and N=$CG_N2;"
        echo "Ir/syscall = (Ir(N=$CG_N2) - Ir(N=$CG_N1)) / $((CG_N2 - CG_N1)), so start-up and translation cancel out."
        echo
        echo "| configuration | Ir (N=$CG_N1) | Ir (N=$CG_N2) | Ir/syscall | added Ir/syscall vs stock |"
        echo "|---|---:|---:|---:|---:|"
        sp=$(awk -v a="${IR[stock,$CG_N1]}" -v b="${IR[stock,$CG_N2]}" -v d=$((CG_N2 - CG_N1)) 'BEGIN {printf "%.0f", (b - a) / d}')
        for c in stock r1 r2 r3; do
            p=$(awk -v a="${IR[$c,$CG_N1]}" -v b="${IR[$c,$CG_N2]}" -v d=$((CG_N2 - CG_N1)) 'BEGIN {printf "%.0f", (b - a) / d}')
            [[ $c == stock ]] && d="—" || d=$(awk -v p="$p" -v s="$sp" 'BEGIN {printf "%+d", p - s}')
            echo "| ${LABEL[$c]} | ${IR[$c,$CG_N1]} | ${IR[$c,$CG_N2]} | $p | $d |"
        done
        echo
        if [[ -n $CG_TOP ]]; then
            echo "Hot spots: self Ir per syscall by function, from the difference of the N=$CG_N2 and"
            echo "N=$CG_N1 runs. \`[JIT]\` is the translated guest code. Debian's liblua5.4.so is"
            echo "stripped: its internal functions are named \`name()\` by matching their size"
            echo "against liblua5.4.a (\`a|b\` = same size, ambiguous), else shown as addresses."
            echo
            echo '```'
            printf '%s' "$CG_TOP" | sed 's/  ???:\(lua[A-Za-z_]*\) /  \1() /; s/^r1$/-- (1) added over stock, by function (+ = more Ir per syscall)/
                s/^r2$/-- (2) V2 pass-through rule on getppid: top functions/
                s/^r3$/-- (3) entry+finish recording: top functions/'
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
