#!/usr/bin/env bash
# scripts/install.sh [PREFIX] [--destdir DIR] [--builddir DIR] [--no-rebuild]: builds and
# runs `meson install` (docs/install.md).  PREFIX defaults to /usr/local;
# --destdir stages the tree under DIR (packaging, tests) instead.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build
PREFIX=""
DESTDIR=""
NOREBUILD=""
while [ $# -gt 0 ]; do
  case $1 in
    --destdir) DESTDIR=${2:?--destdir needs a directory}; shift 2 ;;
    --no-rebuild) NOREBUILD=1; shift ;;
    --builddir) BUILD=${2:?--builddir needs a directory}; shift 2 ;;
    -h|--help) sed -n '2,4s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    *) PREFIX=$1; shift ;;
  esac
done
[ -f "$BUILD/build.ninja" ] || bash "$SRC/scripts/build.sh"
if [ -n "$PREFIX" ]; then
  meson configure "$BUILD" -Dprefix="$PREFIX" >/dev/null
fi
args=(install -C "$BUILD")
[ -n "$DESTDIR" ] && args+=(--destdir "$DESTDIR")
[ -n "$NOREBUILD" ] && args+=(--no-rebuild)
meson "${args[@]}"
