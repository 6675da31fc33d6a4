#!/usr/bin/env bash
# Benchmark of the true root (docs/true-root.md) against stock -L.
#
# Builds bench/trueroot/path_loop.c (static, -O2) for arm and mipsel and, per
# architecture and loop, times in one interleaved run:
#   stock   qemu-ARCH-stock -L ROOT            (unpatched QEMU, same version)
#   true    qemu-ARCH -L ROOT -root-mode true  (no rules)
#   rules   qemu-ARCH -L ROOT -rules EMPTY     (true root by default, the
#                                               rule runtime on)
#   before  BEFORE_QEMU_DIR/qemu-ARCH -L ROOT -root-mode true, when given
#           (an older build, e.g. the true root before this design)
# Loops: open (open+read 64 B+close of /etc/passwd), rel (the same by a
# relative name after chdir), stat, create (O_CREAT|O_TRUNC of an existing
# file + close).  Every configuration runs REPS times, interleaved; the
# median is reported.  Then the syscalls each configuration makes per loop
# iteration (strace -f -c at two loop sizes, so start-up cancels out).
# Results go to docs/BENCHMARKS.md, section "## True root (bench/trueroot)".
#
# Env: SFEMU_QEMU_DIR (default build/qemu-hooks), BEFORE_QEMU_DIR and
#      BEFORE_LABEL (its name in the report), REPS (7),
#      N (20000), ST_N1/ST_N2 (2000/12000), NO_STRACE=1, NO_DOC=1.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DOC="$REPO/docs/BENCHMARKS.md"
HEADING="## True root (bench/trueroot)"
. "$REPO/bench/lib.sh"

REPS=${REPS:-7}
N=${N:-20000}
ST_N1=${ST_N1:-2000}
ST_N2=${ST_N2:-12000}
ARCHES=(arm mipsel)
LOOPS=(open rel stat create)
CONFIGS=(stock true rules)
QDIR=${SFEMU_QEMU_DIR:-$REPO/build/qemu-hooks}
BDIR=${BEFORE_QEMU_DIR:-}
[[ -n $BDIR ]] && CONFIGS+=(before)
declare -A LABEL=([stock]="stock -L" [true]="-root-mode true"
                  [rules]="-rules (empty dir)"
                  [before]="before (${BEFORE_LABEL:-BEFORE_QEMU_DIR})")

die() { echo "run.sh: $*" >&2; exit 1; }
for a in "${ARCHES[@]}"; do
    [[ -x $QDIR/qemu-$a ]] || die "missing $QDIR/qemu-$a"
    [[ -x $QDIR/qemu-$a-stock ]] || die "missing $QDIR/qemu-$a-stock"
    [[ -z $BDIR || -x $BDIR/qemu-$a ]] || die "missing $BDIR/qemu-$a"
    command -v "${CROSS_CC[$a]}" >/dev/null || die "no ${CROSS_CC[$a]} in PATH"
done

W=$(mktemp -d /tmp/sfemu-bench-tr.XXXXXX)
trap 'rm -rf "$W"' EXIT
T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

for a in "${ARCHES[@]}"; do
    "${CROSS_CC[$a]}" -static -O2 -Wall -o "$W/loop-$a" "$HERE/path_loop.c"
done
ROOT=$W/rootfs
mkdir -p "$ROOT/etc" "$ROOT/tmp" "$W/empty"
head -c 700 /etc/services > "$ROOT/etc/passwd"   # a small text file
touch "$ROOT/tmp/sfemu-bench-create"

cmd() {
    local a=$1 c=$2
    case $c in
    stock) echo "$QDIR/qemu-$a-stock -L $ROOT" ;;
    true) echo "$QDIR/qemu-$a -L $ROOT -root-mode true" ;;
    rules) echo "$QDIR/qemu-$a -L $ROOT -rules $W/empty" ;;
    before) echo "$BDIR/qemu-$a -L $ROOT -root-mode true" ;;
    esac
}
# loop arguments: the guest path each loop works on
largs() {
    case $1 in
    create) echo "create /tmp" ;;
    *) echo "$1 /etc/passwd" ;;
    esac
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }

# ---- sanity: the true root really serves the root's file -----------------
for a in "${ARCHES[@]}"; do
    # shellcheck disable=SC2046
    $(cmd "$a" true) "$W/loop-$a" open /etc/passwd 1 >/dev/null ||
        die "$a: the loop fails under the true root"
done

# ---- timing -----------------------------------------------------------------
declare -A SAMPLES
echo "== timing: $REPS reps x ${#ARCHES[@]} arches x ${#LOOPS[@]} loops x ${#CONFIGS[@]} configs" >&2
for ((rep = 1; rep <= REPS; rep++)); do
    for a in "${ARCHES[@]}"; do
        for m in "${LOOPS[@]}"; do
            for c in "${CONFIGS[@]}"; do
                # shellcheck disable=SC2046
                l=$($(cmd "$a" "$c") "$W/loop-$a" $(largs "$m") "$N" 2>"$W/err") ||
                    die "$a $m $c failed: $(cat "$W/err")"
                SAMPLES[$a,$m,$c]+="$(field ns_per_iter <<<"$l") "
            done
        done
    done
    echo "   rep $rep/$REPS done ($(( $(date +%s) - T_START )) s)" >&2
done
declare -A MED
for k in "${!SAMPLES[@]}"; do
    MED[$k]=$(median %.0f <<<"${SAMPLES[$k]}")
done

# ---- syscalls per iteration (strace) ----------------------------------------
# per_iter ARCH CONFIG LOOP -> "name count" per line, count per iteration
per_iter() {
    local a=$1 c=$2 m=$3 n
    for n in "$ST_N1" "$ST_N2"; do
        # shellcheck disable=SC2046
        strace -f -c -o "$W/st.$n" $(cmd "$a" "$c") "$W/loop-$a" $(largs "$m") "$n" \
            >/dev/null 2>&1 || die "strace $a $c $m failed"
    done
    # strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall
    awk -v d=$((ST_N2 - ST_N1)) '
        /^-/ || /^%/ || $NF == "total" || NF < 5 {next}
        FNR == NR {a[$NF] += $4; next}
        {b[$NF] += $4}
        END {for (k in b) {x = (b[k] - a[k]) / d; if (x >= 0.05) printf "%s %.2f\n", k, x}}' \
        "$W/st.$ST_N1" "$W/st.$ST_N2" | sort -k2 -gr
}
declare -A SYS
if [[ -z ${NO_STRACE:-} ]] && command -v strace >/dev/null; then
    echo "== strace: syscalls per iteration (arm)" >&2
    for m in open stat create; do
        for c in "${CONFIGS[@]}"; do
            SYS[$m,$c]=$(per_iter arm "$c" "$m")
        done
    done
fi

# ---- report -----------------------------------------------------------------
SEC=$W/section.md
ratio() { awk -v x="$1" -v s="$2" 'BEGIN {printf "%.2f", x / s}'; }
{
    echo "$HEADING"
    echo
    echo "Generated by \`bench/trueroot/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "Machine: nproc=$(nproc), CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr);"
    echo "load average at start: $LOAD_START, at end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "QEMU $(cat "$QDIR/qemu-version.txt" 2>/dev/null || echo '?') linux-user; guest"
    echo "\`bench/trueroot/path_loop.c\` (static, -O2), time measured inside the guest"
    echo "(CLOCK_MONOTONIC around the loop), N=$N iterations, median of $REPS interleaved runs."
    echo "Loops: **open** = open(\"/etc/passwd\") + read 64 B + close; **rel** = the same"
    echo "by a relative name after chdir(\"/etc\"); **stat** = stat(\"/etc/passwd\");"
    echo "**create** = open(\"/tmp/f\", O_CREAT|O_TRUNC|O_WRONLY) of an existing file + close."
    if [[ -n $BDIR ]]; then
        echo "**before** = the true root of an older build (\`$BDIR\`), the same flags."
    fi
    echo
    echo "| arch | loop | configuration | ns/iteration (median) | ratio to stock |"
    echo "|---|---|---|---:|---:|"
    for a in "${ARCHES[@]}"; do
        for m in "${LOOPS[@]}"; do
            s=${MED[$a,$m,stock]}
            for c in "${CONFIGS[@]}"; do
                echo "| $a | $m | ${LABEL[$c]} | ${MED[$a,$m,$c]} | $(ratio "${MED[$a,$m,$c]}" "$s") |"
            done
        done
    done
    echo
    worst=0
    for a in "${ARCHES[@]}"; do
        r=$(ratio "${MED[$a,open,true]}" "${MED[$a,open,stock]}")
        worst=$(awk -v a="$worst" -v b="$r" 'BEGIN {print (b > a ? b : a)}')
    done
    t=PASS
    awk -v w="$worst" 'BEGIN {exit !(w > 1.5)}' && t=FAIL
    echo "Target: the open loop under \`-root-mode true\` at most 1.5x stock -L:"
    echo "worst over both arches **${worst}x**, **$t**."
    echo
    if [[ -n ${SYS[open,stock]:-} ]]; then
        echo "Syscalls QEMU makes per loop iteration (arm; \`strace -f -c\` at N=$ST_N1 and"
        echo "N=$ST_N2, difference / $((ST_N2 - ST_N1)); calls under 0.05 per iteration left out):"
        echo
        for m in open stat create; do
            echo "| $m loop | $(for c in "${CONFIGS[@]}"; do printf '%s | ' "${LABEL[$c]}"; done)"
            echo "|---|$(for c in "${CONFIGS[@]}"; do printf -- '---:|'; done)"
            names=$(for c in "${CONFIGS[@]}"; do awk '{print $1}' <<<"${SYS[$m,$c]}"; done | sort -u)
            for nm in $names total; do
                printf '| %s |' "$nm"
                for c in "${CONFIGS[@]}"; do
                    if [[ $nm == total ]]; then
                        v=$(awk '{s += $2} END {printf "%.2f", s}' <<<"${SYS[$m,$c]}")
                        printf ' **%s** |' "$v"
                    else
                        v=$(awk -v k="$nm" '$1 == k {print $2}' <<<"${SYS[$m,$c]}")
                        printf ' %s |' "${v:-—}"
                    fi
                done
                echo
            done
            echo
        done
        echo "The true root opens with one \`openat2(rootfd, path, RESOLVE_IN_ROOT)\`; stock"
        echo "QEMU looks the guest path up on the host first (\`realpath\`: the readlinks)."
        echo "A call that follows a name without opening it (\`stat\`) costs an \`openat2\`"
        echo "and a \`close\` on top of the call: the price of resolving it once, in the root."
    fi
} >"$SEC"

cat "$SEC"
if [[ -z ${NO_DOC:-} ]]; then
    bench_write_section "$DOC" "$HEADING" "$SEC"
    echo "== wrote $DOC" >&2
fi
echo "== total $(( $(date +%s) - T_START )) s" >&2
