#!/usr/bin/env bash
# Everything CI does: install packages, build, start the local servers, run the
# tests. Arguments go to ctest, e.g. `ops/test.sh -L unit` or `-R config`.
# The exit code is ctest's. Environment: TRIB_BUILD_DIR (default ./build),
# TRIB_JOBS (build parallelism, default nproc), TRIB_TEST_TIMEOUT, and the
# ports of ops/env.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=ops/env.sh
source ops/env.sh   # exports the ports, so the tests see the same servers
BUILD="${TRIB_BUILD_DIR:-$ROOT/build}"

die() { echo "test.sh: error: $*" >&2; exit 1; }

bash ops/install.sh || die "ops/install.sh failed"
bash ops/build.sh || die "ops/build.sh failed"
bash ops/servers.sh start || die "ops/servers.sh start failed"
# The Redis Cluster target's tests (redis_cluster_test) need the cluster too.
bash ops/servers.sh cluster-start || die "ops/servers.sh cluster-start failed"

# A hung test must fail, not stall CI: every test without its own TIMEOUT gets
# $TRIB_TEST_TIMEOUT seconds (a later --timeout in the arguments wins). A
# filter that matches no test is an error too, not a silent pass.
rc=0
ctest --test-dir "$BUILD" --output-on-failure --no-tests=error --timeout "${TRIB_TEST_TIMEOUT:-300}" "$@" \
  || rc=$?
echo "test.sh: ctest exited with $rc"
exit "$rc"
