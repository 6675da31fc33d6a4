# POSIX semantics measured with pjdfstest (BSD-licensed; built here from the
# tarball at commit 85a8aea, never kept in the repo), as root:
#   sfemu-mount as the README mounts it (--rules, every uid served),
#   sfemu-mount --private for the test files that are about one user,
#   Debian's fuse-overlayfs (defaults) over an empty lower directory.
# `prove -r` per folder, the views and folders run concurrently (most of the
# time goes into pjdfstest's process spawns and `sleep 1`s).  The count of
# failing assertions of each view is printed; the test fails when
# sfemu-mount fails more than fuse-overlayfs on the same files, or fails one
# that is not in EXPECTED below.
. "$(dirname "$0")/common.sh"
skip() { echo "skip: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "pjdfstest needs root (it switches uids and makes devices)"
TARBALL=${SFEMU_PJDFSTEST:-$SRC/../shared/third_party/pjdfstest-85a8aea.tar.gz}
[ -f "$TARBALL" ] || skip "no pjdfstest tarball at $TARBALL (set SFEMU_PJDFSTEST)"
for tool in autoreconf make cc prove fuse-overlayfs; do
    command -v "$tool" >/dev/null || skip "$tool missing (scripts/install-deps.sh installs it)"
done
# Assertions sfemu-mount may fail, with the reason ("folder/NN.t:test"): none.
EXPECTED=""

P="$T/pjd"
mkdir -p "$P"
tar xzf "$TARBALL" -C "$P" --strip-components=1
(cd "$P" && autoreconf -fi && ./configure && make) > "$T/build.log" 2>&1 \
    || { tail -20 "$T/build.log"; fail "pjdfstest does not build"; }
[ -x "$P/pjdfstest" ] || fail "no pjdfstest binary"
ok "pjdfstest built"
FOLDERS=$(cd "$P/tests" && ls -d */ | tr -d /)
# The files that never switch users (-u/-g): the --private view.
single_user() { (cd "$P/tests/$1" && { grep -L -e '-[ug] [0-9$]' ./*.t || true; } | sed 's|^\./||'); }

RULES="$T/rules"; mk_rules "$RULES"
mkdir -p "$T/readme" "$T/private" "$T/fov.lower" "$T/fov.upper" "$T/fov.work" "$T/fov" "$T/out"
mnt "$T/readme" --rules "$RULES" --log "$T/readme.log"
grep " $T/readme fuse.sfemu " /proc/self/mounts | grep -q allow_other || fail "README mount is not allow_other as root"
mnt "$T/private" --private --rules "$RULES" --log "$T/private.log"
fuse-overlayfs -o "lowerdir=$T/fov.lower,upperdir=$T/fov.upper,workdir=$T/fov.work" "$T/fov"
MOUNTS+=("$T/fov")

# prove resolves the test files from its cwd but they must run in the view:
# each .t finds pjdfstest through its own path and works in the cwd, so the
# cwd is the view's directory and the files are named absolutely.
run() {
    local view=$1 folder=$2; shift 2
    local dir="$T/$view/pjd.$folder" f files=()
    mkdir -p "$dir"
    if [ $# -gt 0 ]; then
        for f in "$@"; do files+=("$P/tests/$folder/$f"); done
    else
        files=("$P/tests/$folder")
    fi
    (cd "$dir" && prove -r "${files[@]}") > "$T/out/$view.$folder" 2>&1
}
JOBS=${SFEMU_PJDFSTEST_JOBS:-6}
start=$(date +%s)
for folder in $FOLDERS; do
    for view in readme fov private; do
        while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
        if [ $view = private ]; then
            mapfile -t one < <(single_user "$folder")
            [ ${#one[@]} -gt 0 ] || continue
            run private "$folder" "${one[@]}" &
        else
            run $view "$folder" &
        fi
    done
done
wait
ok "pjdfstest ran in $(( $(date +%s) - start )) s"

# failures VIEW [FILTER]: "file failed-assertions" lines from prove's
# summaries (a bad plan counts the tests that did not run); FILTER: a file
# of test names to keep.
failures() {
    cat "$T/out/$1".* | awk -v base="$P/tests/" '
        /^\/.*\.t +\(Wstat: / {
            f = $1
            if (index(f, base) == 1) f = substr(f, length(base) + 1)
            n = $0; sub(/.*Failed: /, "", n); sub(/\).*/, "", n)
            bad[f] += n
        }
        /You planned [0-9]+ tests? but ran [0-9]+/ {
            s = $0; sub(/.*You planned /, "", s); planned = s + 0
            sub(/^[0-9]+ tests? but ran /, "", s); bad[f] += planned - (s + 0)
        }
        END { for (f in bad) if (bad[f] > 0) print f, bad[f] }' |
        { if [ -n "${2:-}" ]; then grep -F -w -f "$2" || true; else cat; fi; } | sort
}
sum() { awk '{s += $2} END {print s + 0}'; }
for folder in $FOLDERS; do single_user "$folder" | sed "s|^|$folder/|"; done > "$T/single.list"
failures readme > "$T/f.readme"
failures private > "$T/f.private"
failures fov > "$T/f.fov"
failures fov "$T/single.list" > "$T/f.fov.single"
total() { grep -h "^Files=.*Tests=" "$T/out/$1".* | sed 's/.*Tests=\([0-9]*\).*/\1/' | awk '{s+=$1} END {print s+0}'; }
for v in readme private fov; do
    [ "$(total $v)" -gt 0 ] || fail "view $v ran no tests: $(head -5 "$T/out/$v".chmod)"
done
echo "pjdfstest (root, kernel $(uname -r)):"
echo "  sfemu-mount as the README mounts it: $(sum < "$T/f.readme") failing assertions in $(wc -l < "$T/f.readme") files (of $(total readme))"
echo "  sfemu-mount --private, single-user files: $(sum < "$T/f.private") in $(wc -l < "$T/f.private") files (of $(total private))"
echo "  fuse-overlayfs: $(sum < "$T/f.fov") in $(wc -l < "$T/f.fov") files (of $(total fov)); on the single-user files: $(sum < "$T/f.fov.single")"
for v in readme private fov; do
    [ -s "$T/f.$v" ] && { echo "  $v failures:"; sed 's/^/    /' "$T/f.$v"; }
done
[ "$(sum < "$T/f.readme")" -le "$(sum < "$T/f.fov")" ] \
    || fail "sfemu-mount fails more pjdfstest assertions than fuse-overlayfs"
[ "$(sum < "$T/f.private")" -le "$(sum < "$T/f.fov.single")" ] \
    || fail "sfemu-mount --private fails more single-user assertions than fuse-overlayfs"
unexpected=$(cat "$T/f.readme" "$T/f.private" | awk '{print $1}' | sort -u |
             while read -r f; do case " $EXPECTED " in *" $f"*) ;; *) echo "$f";; esac; done)
[ -z "$unexpected" ] || fail "unexpected pjdfstest failures: $unexpected (see the output above)"
ok "sfemu-mount fails no more pjdfstest assertions than fuse-overlayfs, none unexpected"
for m in readme private; do umnt "$T/$m"; done
fusermount3 -u "$T/fov"
