#!/usr/bin/env bash
# Fetches (once) the upstream tarball of a Debian source package into the
# cache, unpacks it there and prints the unpacked directory.  The deb-src
# lines come from scripts/install-deps.sh.
#
#   debian-source.sh SOURCE/SUITE TARBALL_GLOB
#   e.g. debian-source.sh qemu/trixie 'qemu_10.0.*.orig.tar.xz'
# The directory is named after the tarball: qemu_10.0.13+ds.orig.tar.xz -> qemu-10.0.13.
set -euo pipefail
[ $# = 2 ] || { echo "usage: debian-source.sh SOURCE/SUITE TARBALL_GLOB" >&2; exit 2; }
SPEC=$1 GLOB=$2
CACHE=${SFEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sfemu}
log() { echo "debian-source: $*" >&2; }

mkdir -p "$CACHE/src"
exec 8>"$CACHE/src/.lock"; flock 8
newest() { (cd "$CACHE/src" && ls $GLOB 2>/dev/null | sort -V | tail -n1) || true; }
TARBALL=$(newest)
if [ -z "$TARBALL" ]; then
  log "fetching $SPEC source (apt-get source $SPEC)"
  (cd "$CACHE/src" && apt-get source --download-only -qq "$SPEC" >&2)
  rm -f "$CACHE"/src/*.debian.tar.* "$CACHE"/src/*.dsc "$CACHE"/src/*.asc
  TARBALL=$(newest)
  [ -n "$TARBALL" ] || { log "no '$GLOB' in the $SPEC source package"; exit 1; }
fi
# Debian repack suffixes (+ds, +dfsg) are not part of the upstream version.
NAME=$(printf '%s' "$TARBALL" | sed -E 's/\.orig\.tar\.[a-z0-9]+$//; s/\+(ds|dfsg)[0-9]*$//; s/_/-/')
PRISTINE="$CACHE/src/$NAME"
if [ ! -f "$PRISTINE/.complete" ]; then
  rm -rf "$PRISTINE"; mkdir -p "$PRISTINE"
  tar -xf "$CACHE/src/$TARBALL" -C "$PRISTINE" --strip-components=1
  touch "$PRISTINE/.complete"
fi
echo "$PRISTINE"
