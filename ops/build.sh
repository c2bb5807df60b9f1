#!/usr/bin/env bash
# Configures and builds Tributary into ./build (or $TRIB_BUILD_DIR), optimised
# with debug info. Extra arguments go to `cmake --build`, e.g. `--target
# tributary`. Parallelism: $TRIB_JOBS, default nproc.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${TRIB_BUILD_DIR:-$ROOT/build}"
JOBS="${TRIB_JOBS:-$(nproc)}"
TYPE="${TRIB_BUILD_TYPE:-RelWithDebInfo}"

die() { echo "build.sh: error: $*" >&2; exit 1; }
command -v cmake >/dev/null || die "cmake not found: run ops/install.sh"

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE="$TYPE" > /dev/null \
  || die "cmake configure failed (run: cmake -S $ROOT -B $BUILD to see why)"
cmake --build "$BUILD" -j "$JOBS" "$@" || die "build failed in $BUILD"
echo "build.sh: built into $BUILD"
