#!/usr/bin/env bash
# Builds the demo firmware's root filesystem (docs/firmware-pack.md, "The
# demo") from real parts: Debian's BusyBox and C library for armel or mipsel
# (scripts/debian-packages.sh), plus the vendor-style programs of
# demo/vendor/ cross-compiled against them: httpd, the nvram command, the
# Broadcom NVRAM and WLCSM client libraries (libnvram.so, libwlcsm.so), and
# the CGI.  Debian 12 has no big-endian MIPS port: for mips the programs are
# static (mips-linux-gnu-gcc) and the CGI is the C one.
#
#   build-rootfs.sh arm|mipsel|mips DEST
#
# The root looks like a router's: /var -> /tmp/var, no /dev/nvram, no
# /etc/server.pem, the vendor's defaults in /etc/nvram.default.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: build-rootfs.sh arm|mipsel|mips DEST" >&2; exit 2; }
ARCH=$1 DEST=$2
HERE=$(cd "$(dirname "$0")" && pwd)
V=$HERE/vendor
case $ARCH in
  arm) DEB=armel CC=arm-linux-gnueabi-gcc LINK=shared ;;
  mipsel) DEB=mipsel CC=mipsel-linux-gnu-gcc LINK=shared ;;
  mips) DEB= CC=mips-linux-gnu-gcc LINK=static ;;
  *) echo "build-rootfs.sh: unknown architecture '$ARCH' (arm, mipsel or mips)" >&2; exit 2 ;;
esac
log() { echo "build-rootfs: $*" >&2; }
command -v "$CC" > /dev/null || { log "$CC is missing (scripts/install-deps.sh installs it)"; exit 1; }
for f in httpd.c nvram_cgi.c libnvram.c libnvram.h nvram.c wlcsm.c wlcsm.h; do
  [ -f "$V/$f" ] || { log "demo/vendor/$f is missing"; exit 1; }
done
# DEST is replaced: only an empty directory or a root this script made.
if [ -e "$DEST" ] && [ -n "$(ls -A "$DEST")" ] && [ ! -f "$DEST/etc/demo-release" ]; then
  log "$DEST is not empty and is not a demo root: refusing to replace it"
  exit 1
fi
rm -rf "$DEST"
mkdir -p "$DEST"
R=$(cd "$DEST" && pwd)

if [ -n "$DEB" ]; then
  bash "$HERE/../scripts/debian-packages.sh" "$DEB" "$R" busybox libc6
  for a in sh ash cat echo grep ls ps kill mkdir rm sleep printf uname sed; do
    ln -sf busybox "$R/bin/$a"
  done
fi
mkdir -p "$R"/{bin,sbin,dev,proc,sys,etc,tmp,usr/sbin,usr/lib,www/cgi-bin}
ln -sfn /tmp/var "$R/var"

CFLAGS=(-O2 -Wall -Werror -I"$V")
if [ $LINK = shared ]; then
  # As on the router: the client libraries are shared objects in /usr/lib.
  "$CC" "${CFLAGS[@]}" -fPIC -shared -o "$R/usr/lib/libnvram.so" "$V/libnvram.c"
  "$CC" "${CFLAGS[@]}" -fPIC -shared -o "$R/usr/lib/libwlcsm.so" "$V/wlcsm.c"
  LIBS=(-L"$R/usr/lib" -lnvram -lwlcsm)
  "$CC" "${CFLAGS[@]}" -o "$R/usr/sbin/httpd" "$V/httpd.c" "${LIBS[@]}"
  "$CC" "${CFLAGS[@]}" -o "$R/usr/sbin/nvram" "$V/nvram.c" "${LIBS[@]}"
  install -m 755 "$HERE/www/nvram.cgi" "$R/www/cgi-bin/nvram.cgi"
else
  "$CC" -static "${CFLAGS[@]}" -o "$R/usr/sbin/httpd" "$V/httpd.c" "$V/libnvram.c" "$V/wlcsm.c"
  "$CC" -static "${CFLAGS[@]}" -o "$R/usr/sbin/nvram" "$V/nvram.c" "$V/libnvram.c" "$V/wlcsm.c"
  "$CC" -static "${CFLAGS[@]}" -o "$R/www/cgi-bin/nvram.cgi" "$V/nvram_cgi.c"
fi

# The vendor's NVRAM defaults (the rules tree's config/nvram.defaults wins
# for the keys it has: lan_ipaddr, http_lanport, ...).
cat > "$R/etc/nvram.default" <<'DEF'
model_name=SFEmu demo router
wl0_ssid=SFEmu-demo
wl0_radio=1
lan_ifname=br0
DEF
echo "SFEmu demo firmware ($ARCH)" > "$R/etc/demo-release"
echo "root:x:0:0:root:/root:/bin/sh" > "$R/etc/passwd"
log "$ARCH root ready in $DEST"
