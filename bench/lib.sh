# Shared by the benchmark scripts (sourced).

# The cross compiler of each guest architecture.
declare -A CROSS_CC=([arm]=arm-linux-gnueabi-gcc [mipsel]=mipsel-linux-gnu-gcc
               [mips]=mips-linux-gnu-gcc [aarch64]=aarch64-linux-gnu-gcc)

# median [FMT]: the median of whitespace-separated numbers on stdin, printed
# with the printf format FMT (default %.6g, awk's own).
median() {
    tr ' ' '\n' | sed '/^$/d' | sort -g |
        awk -v f="${1:-%.6g}" '{v[NR]=$1} END {
            printf f "\n", (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2 }'
}

# bench_write_section DOC HEADING FILE: replace the section of DOC that starts
# at the line HEADING (up to the next "## " heading) with FILE, or append it;
# creates DOC if missing.  Sections stay separated by one blank line.
bench_write_section() {
    local doc=$1 heading=$2 sec=$3 tmp
    mkdir -p "$(dirname "$doc")"
    [ -f "$doc" ] || printf '# Benchmarks\n\n' > "$doc"
    tmp=$(mktemp)
    awk -v h="$heading" -v sec="$sec" '
        function emit(   l, n, i, buf) {
            n = 0
            while ((getline l < sec) > 0) buf[++n] = l
            close(sec)
            while (n > 0 && buf[n] == "") n--      # no trailing blank lines
            for (i = 1; i <= n; i++) print buf[i]
            done = 1
        }
        $0 == h { emit(); skip = 1; next }
        skip && /^## / { skip = 0; print "" }
        !skip { print }
        { last = $0 }
        END { if (!done) { if (last != "") print ""; emit() } }' "$doc" > "$tmp"
    cat "$tmp" > "$doc"
    rm -f "$tmp"
}
