#!/usr/bin/env bash
# Downloads (once, into the cache) Debian binary packages of a foreign
# architecture and unpacks them into a directory: real ARM/MIPS binaries
# nobody here wrote (busybox, libc, web servers) for tests and the demo.
# The package lists come from the machine's own Debian sources, kept in a
# private apt state under the cache (the machine's dpkg is never touched).
#
#   debian-packages.sh ARCH DEST PACKAGE...     e.g. armel /tmp/root busybox libc6
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: debian-packages.sh ARCH DEST PACKAGE..." >&2; exit 2; }
ARCH=$1 DEST=$2; shift 2
CACHE=${SFEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sfemu}
STATE="$CACHE/debs/$ARCH"
log() { echo "debian-packages: $*" >&2; }

mkdir -p "$STATE/lists/partial" "$STATE/archives/partial" "$STATE/debs"
exec 7>"$STATE/.lock"; flock 7
touch "$STATE/status"
APT=(apt-get -q -o APT::Architecture="$ARCH" -o APT::Architectures="$ARCH"
     -o Dir::State::Lists="$STATE/lists" -o Dir::Cache="$STATE"
     -o Dir::State::status="$STATE/status" -o APT::Sandbox::User=root)
# Lists older than a week are refreshed; a failed refresh keeps the old ones.
if [ -z "$(find "$STATE/lists" -maxdepth 1 -name '*Packages*' -mtime -7 2>/dev/null)" ]; then
  log "updating the $ARCH package lists"
  "${APT[@]}" update >&2 || [ -n "$(ls "$STATE/lists" | grep Packages)" ] ||
    { log "cannot fetch the $ARCH package lists"; exit 1; }
fi
mkdir -p "$DEST"
for pkg in "$@"; do
  deb=$(ls "$STATE/debs/${pkg}_"*"_$ARCH.deb" "$STATE/debs/${pkg}_"*"_all.deb" 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    log "downloading $pkg:$ARCH"
    (cd "$STATE/debs" && "${APT[@]}" download "$pkg" >&2) ||
      { log "no package '$pkg' for $ARCH"; exit 1; }
    deb=$(ls "$STATE/debs/${pkg}_"*.deb | head -n1)
  fi
  dpkg-deb -x "$deb" "$DEST"
done
