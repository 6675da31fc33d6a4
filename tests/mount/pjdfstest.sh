# POSIX semantics measured with pjdfstest (BSD-licensed; built here from the
# tarball at commit 85a8aea, never kept in the repo), as root:
#   sfemu-mount as the README mounts it (--rules, every uid served),
#   sfemu-mount --private for the test files that are about one user,
#   with SFEMU_PJDFSTEST_COMPARE=1 (bench/mount/pjdfstest.sh) also Debian's
#   fuse-overlayfs (defaults) over an empty lower directory, the peer the
#   target is set against: it doubles the time, so the suite leaves it out.
# `prove -r` per folder, the views and folders run concurrently (most of the
# time goes into pjdfstest's process spawns and `sleep 1`s).  The count of
# failing assertions of each view is printed; the test fails when
# sfemu-mount fails an assertion that is not in EXPECTED below (none), and
# when compared, when it fails more than fuse-overlayfs on the same files.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
[ "$(id -u)" = 0 ] || skip_test "pjdfstest needs root (it switches uids and makes devices)"
# The pinned source sits in ../shared/third_party/ beside the checkout, or
# beside the checkout a CI clone was made from.
PJD=shared/third_party/pjdfstest-85a8aea.tar.gz
TARBALL=${SFEMU_PJDFSTEST:-$SRC/../$PJD}
origin=$(git -C "$SRC" remote get-url origin 2>/dev/null || true)
[ -f "$TARBALL" ] || [ ! -d "$origin" ] || TARBALL=$origin/../$PJD
[ -f "$TARBALL" ] || fatal "no pjdfstest tarball at $TARBALL (set SFEMU_PJDFSTEST)"
COMPARE=${SFEMU_PJDFSTEST_COMPARE:-0}
VIEWS="readme private"
[ "$COMPARE" = 1 ] && VIEWS="readme fov private"
for tool in autoreconf make cc prove $([ "$COMPARE" = 1 ] && echo fuse-overlayfs); do
    command -v "$tool" >/dev/null || fatal "$tool missing (scripts/install-deps.sh installs it)"
done
# Assertions sfemu-mount may fail, with the reason ("folder/NN.t:test"): none.
EXPECTED=""

P="$TMP/pjd"
mkdir -p "$P"
tar xzf "$TARBALL" -C "$P" --strip-components=1
(cd "$P" && autoreconf -fi && ./configure && make) > "$TMP/build.log" 2>&1 \
    || { tail -20 "$TMP/build.log"; fatal "pjdfstest does not build"; }
[ -x "$P/pjdfstest" ] || fatal "no pjdfstest binary"
pass "pjdfstest built"
FOLDERS=$(cd "$P/tests" && ls -d */ | tr -d /)
# The files that never switch users (-u/-g): the --private view.
single_user() { (cd "$P/tests/$1" && { grep -L -e '-[ug] [0-9$]' ./*.t || true; } | sed 's|^\./||'); }

RULES="$TMP/rules"; mk_rules "$RULES"
mkdir -p "$TMP/readme" "$TMP/private" "$TMP/fov.lower" "$TMP/fov.upper" "$TMP/fov.work" "$TMP/fov" "$TMP/out"
mnt "$TMP/readme" --rules "$RULES" --log "$TMP/readme.log"
grep " $TMP/readme fuse.sfemu " /proc/self/mounts | grep -q allow_other || fatal "README mount is not allow_other as root"
mnt "$TMP/private" --private --rules "$RULES" --log "$TMP/private.log"
if [ "$COMPARE" = 1 ]; then
    fuse-overlayfs -o "lowerdir=$TMP/fov.lower,upperdir=$TMP/fov.upper,workdir=$TMP/fov.work" "$TMP/fov"
    MOUNTS+=("$TMP/fov")
fi

# prove resolves the test files from its cwd but they must run in the view:
# each .t finds pjdfstest through its own path and works in the cwd, so the
# cwd is the view's directory and the files are named absolutely.
run() {
    local view=$1 folder=$2; shift 2
    local dir="$TMP/$view/pjd.$folder" f files=()
    mkdir -p "$dir"
    if [ $# -gt 0 ]; then
        for f in "$@"; do files+=("$P/tests/$folder/$f"); done
    else
        files=("$P/tests/$folder")
    fi
    (cd "$dir" && prove -r "${files[@]}") > "$TMP/out/$view.$folder" 2>&1
}
JOBS=${SFEMU_PJDFSTEST_JOBS:-6}
start=$(date +%s)
for folder in $FOLDERS; do
    for view in $VIEWS; do
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
pass "pjdfstest ran in $(( $(date +%s) - start )) s"

# failures VIEW [FILTER]: "file failed-assertions" lines from prove's
# summaries (a bad plan counts the tests that did not run); FILTER: a file
# of test names to keep.
failures() {
    cat "$TMP/out/$1".* | awk -v base="$P/tests/" '
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
for folder in $FOLDERS; do single_user "$folder" | sed "s|^|$folder/|"; done > "$TMP/single.list"
failures readme > "$TMP/f.readme"
failures private > "$TMP/f.private"
if [ "$COMPARE" = 1 ]; then
    failures fov > "$TMP/f.fov"
    failures fov "$TMP/single.list" > "$TMP/f.fov.single"
fi
total() { grep -h "^Files=.*Tests=" "$TMP/out/$1".* | sed 's/.*Tests=\([0-9]*\).*/\1/' | awk '{s+=$1} END {print s+0}'; }
for v in $VIEWS; do
    [ "$(total $v)" -gt 0 ] || fatal "view $v ran no tests: $(head -5 "$TMP/out/$v".chmod)"
done
echo "pjdfstest (root, kernel $(uname -r)):"
echo "  sfemu-mount as the README mounts it: $(sum < "$TMP/f.readme") failing assertions in $(wc -l < "$TMP/f.readme") files (of $(total readme))"
echo "  sfemu-mount --private, single-user files: $(sum < "$TMP/f.private") in $(wc -l < "$TMP/f.private") files (of $(total private))"
[ "$COMPARE" = 1 ] &&
    echo "  fuse-overlayfs: $(sum < "$TMP/f.fov") in $(wc -l < "$TMP/f.fov") files (of $(total fov)); on the single-user files: $(sum < "$TMP/f.fov.single")"
for v in $VIEWS; do
    [ -s "$TMP/f.$v" ] && { echo "  $v failures:"; sed 's/^/    /' "$TMP/f.$v"; }
done
if [ "$COMPARE" = 1 ]; then
    [ "$(sum < "$TMP/f.readme")" -le "$(sum < "$TMP/f.fov")" ] \
        || fatal "sfemu-mount fails more pjdfstest assertions than fuse-overlayfs"
    [ "$(sum < "$TMP/f.private")" -le "$(sum < "$TMP/f.fov.single")" ] \
        || fatal "sfemu-mount --private fails more single-user assertions than fuse-overlayfs"
fi
unexpected=$(cat "$TMP/f.readme" "$TMP/f.private" | awk '{print $1}' | sort -u |
             while read -r f; do case " $EXPECTED " in *" $f"*) ;; *) echo "$f";; esac; done)
[ -z "$unexpected" ] || fatal "unexpected pjdfstest failures: $unexpected (see the output above)"
pass "sfemu-mount fails no pjdfstest assertion outside EXPECTED$([ "$COMPARE" = 1 ] && echo ", and no more than fuse-overlayfs")"
for m in readme private; do umnt "$TMP/$m"; done
if [ "$COMPARE" = 1 ]; then fusermount3 -u "$TMP/fov"; fi
finish
