#!/usr/bin/env bash
# Builds QEMU 10.0 linux-user, patched with SFEmu's hooks (or stock), in a cache
# outside the checkout keyed by QEMU version + patch hash + configuration.
# A change to the runtime library only relinks the qemu binaries.
#
#   build-qemu.sh --variant patched|stock [--static] --targets "arm mipsel"
#                 [--runtime LIB.a --libs "-llua5.4 -lm"] --out DIR [--suffix -static]
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${SFEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sfemu}
VARIANT=patched STATIC=0 TARGETS="arm" RUNTIME="" LIBS="" OUT="" SUFFIX=""
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) VARIANT=$2; shift 2 ;;
    --static) STATIC=1; shift ;;
    --targets) TARGETS=$2; shift 2 ;;
    --runtime) RUNTIME=$2; shift 2 ;;
    --libs) LIBS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --suffix) SUFFIX=$2; shift 2 ;;
    --print-source) PRINT_SOURCE=1; shift ;;
    *) echo "build-qemu.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
log() { echo "build-qemu: $*" >&2; }

# 1. The source, from Debian's archive (deb-src trixie, see scripts/install-deps.sh).
PRISTINE=$(bash "$HERE/../scripts/debian-source.sh" qemu/trixie 'qemu_10.0.*.orig.tar.xz')
VERSION=${PRISTINE##*/qemu-}
if [ "${PRINT_SOURCE:-0}" = 1 ]; then echo "$PRISTINE"; exit 0; fi

# 2. The build directory, keyed by everything that changes QEMU's objects.
TARGET_LIST=$(for t in $TARGETS; do printf '%s-linux-user,' "$t"; done); TARGET_LIST=${TARGET_LIST%,}
CONFIG_REV=2   # bump when the configure options change
HASH_INPUT="$VERSION $VARIANT $STATIC $TARGET_LIST $CONFIG_REV"
if [ "$VARIANT" = patched ]; then
  # The glue files are synced into the tree on every build (ninja recompiles
  # just them), so only the patches key the directory.
  HASH_INPUT+=$(cat "$HERE"/patch/*.patch | sha256sum)
fi
KEY=$(printf '%s' "$HASH_INPUT" | sha256sum | cut -c1-16)
DIR="$CACHE/build/qemu-$VERSION-$VARIANT$([ $STATIC = 1 ] && echo -static || true)-$KEY"
mkdir -p "$DIR"
exec 9>"$DIR.lock"; flock 9

sync_file() {  # copy only when the content differs, so ninja sees no change otherwise
  cmp -s "$1" "$2" || cp "$1" "$2"
}
sync_glue() {
  sync_file "$HERE/glue/sfemu-glue.c" "$DIR/src/linux-user/sfemu-glue.c"
  sync_file "$HERE/glue/sfemu-glue.h" "$DIR/src/linux-user/sfemu-glue.h"
  sync_file "$HERE/include/sfemu/host.h" "$DIR/src/linux-user/sfemu-host.h"
  sync_file "$HERE/include/sfemu/options.h" "$DIR/src/linux-user/sfemu-options.h"
}

if [ ! -f "$DIR/.configured" ]; then
  log "configuring $DIR (targets: $TARGET_LIST)"
  rm -rf "$DIR/src" "$DIR/build"
  cp -a "$PRISTINE" "$DIR/src"
  if [ "$VARIANT" = patched ]; then
    for p in "$HERE"/patch/*.patch; do
      patch -d "$DIR/src" -p1 --quiet --no-backup-if-mismatch < "$p" \
        || { log "patch $(basename "$p") does not apply to QEMU $VERSION"; exit 1; }
    done
    sync_glue
    # The runtime library and its libraries come through a response file, so a
    # new runtime needs a relink only, never a reconfigure.
    : > "$DIR/sfemu-link.rsp"
    EXTRA_LD="--extra-ldflags=@$DIR/sfemu-link.rsp"
  else
    EXTRA_LD=""
  fi
  mkdir -p "$DIR/build"
  ( cd "$DIR/build" && ../src/configure --python=/usr/bin/python3 \
      --target-list="$TARGET_LIST" --disable-system --disable-tools --disable-docs \
      --disable-install-blobs --disable-werror --disable-gio \
      $([ $STATIC = 1 ] && echo --static --disable-plugins || echo --enable-plugins) ${EXTRA_LD:+"$EXTRA_LD"} ) > "$DIR/configure.log" 2>&1 \
    || { log "configure failed, see $DIR/configure.log"; tail -20 "$DIR/configure.log" >&2; exit 1; }
  touch "$DIR/.configured"
fi

BINS=()
for t in $TARGETS; do BINS+=("qemu-$t"); done

if [ "$VARIANT" = patched ]; then
  sync_glue
  [ -f "$RUNTIME" ] || { log "runtime library '$RUNTIME' not found"; exit 1; }
  RSP="$(readlink -f "$RUNTIME") $LIBS"
  STAMP="$RSP $(stat -c '%Y %s %i' "$RUNTIME")"
  if [ "$(cat "$DIR/sfemu-link.stamp" 2>/dev/null)" != "$STAMP" ]; then
    printf '%s\n' "$RSP" > "$DIR/sfemu-link.rsp"
    (cd "$DIR/build" && rm -f "${BINS[@]}")   # relink only
    echo "$STAMP" > "$DIR/sfemu-link.stamp"
  fi
fi

log "building ${BINS[*]} in $DIR/build"
ninja -C "$DIR/build" "${BINS[@]}" > "$DIR/ninja.log" 2>&1 \
  || { log "QEMU build failed, see $DIR/ninja.log"; tail -30 "$DIR/ninja.log" >&2; exit 1; }

# Keep the cache bounded: older build directories of this same variant (other
# patch hashes or configure revisions) are removed once this one has built.
# Directories in use hold their lock; those are skipped.
for old in "$CACHE"/build/qemu-*-"$VARIANT$([ $STATIC = 1 ] && echo -static || true)"-*; do
  [ -d "$old" ] && [ "$old" != "$DIR" ] || continue
  case "$old" in *-static-*) [ $STATIC = 1 ] || continue ;; esac
  (
    exec 7>"$old.lock"
    flock -n 7 || exit 0
    [ "$(find "$old" -maxdepth 0 -mmin +60 2>/dev/null)" ] || exit 0
    log "removing the old build $old"
    rm -rf "$old" "$old.lock"
  )
done

if [ -n "$OUT" ]; then
  mkdir -p "$OUT"
  for b in "${BINS[@]}"; do
    cp -f "$DIR/build/$b" "$OUT/$b$SUFFIX.tmp" && mv -f "$OUT/$b$SUFFIX.tmp" "$OUT/$b$SUFFIX"
  done
fi
echo "$VERSION" > "${OUT:-$DIR}/qemu-version$SUFFIX.txt"
