#!/usr/bin/env bash
# pjdfstest over sfemu-mount and, for comparison, Debian's fuse-overlayfs:
# tests/mount/pjdfstest.sh with SFEMU_PJDFSTEST_COMPARE=1 (docs/mount.md,
# "POSIX conformance").  Root only.  Usage: bench/mount/pjdfstest.sh [BUILD_DIR]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$REPO/build}
[ -x "$BUILD/mount/sfemu-mount" ] || { echo "no $BUILD/mount/sfemu-mount: build first (scripts/build.sh)" >&2; exit 2; }
SFEMU_SRC=$REPO SFEMU_MOUNT=$BUILD/mount/sfemu-mount SFEMU_PJDFSTEST_COMPARE=1 \
    exec bash "$REPO/tests/mount/pjdfstest.sh"
