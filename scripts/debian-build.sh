#!/usr/bin/env bash
# Builds a library from a Debian source package once into the cache and
# prints its install root.  The build steps are a recipe script of their own
# (mount/build-libfuse.sh, common/build-cjson.sh): run with no argument, a
# recipe hands itself to this script, which fetches the source
# (debian-source.sh), takes the build's lock and, unless the build is cached,
# runs the recipe back as
#     bash RECIPE --build SRC BUILD_DIR ROOT
# with its output in the cache's build.log.  The cache key is the source
# directory's name (version, Debian revision) and the recipe's own text, so
# editing a recipe rebuilds.
#
#   debian-build.sh NAME SOURCE/SUITE TARBALL_GLOB RECIPE [--debian-patches]
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: debian-build.sh NAME SOURCE/SUITE TARBALL_GLOB RECIPE [--debian-patches]" >&2; exit 2; }
NAME=$1 SPEC=$2 GLOB=$3 RECIPE=$4
shift 4
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${SFEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sfemu}
log() { echo "$NAME: $*" >&2; }

SRC=$(bash "$HERE/debian-source.sh" "$@" "$SPEC" "$GLOB")
VERSION=${SRC##*/}
VERSION=${VERSION#*-}
KEY=$( { printf '%s\n' "${SRC##*/}"; cat "$RECIPE"; } | sha256sum | cut -c1-16)
DIR="$CACHE/build/$NAME-$VERSION-$KEY"
mkdir -p "$DIR"
exec 9>"$DIR/.lock"; flock 9
if [ ! -f "$DIR/.complete" ]; then
  log "building $NAME $VERSION in $DIR"
  rm -rf "$DIR/build" "$DIR/root"
  mkdir -p "$DIR/build" "$DIR/root"
  bash "$RECIPE" --build "$SRC" "$DIR/build" "$DIR/root" >"$DIR/build.log" 2>&1 \
    || { log "build failed, see $DIR/build.log"; tail -n 20 "$DIR/build.log" >&2; exit 1; }
  touch "$DIR/.complete"
fi
echo "$DIR/root"
