#!/usr/bin/env bash
# Installs the Debian 12 packages Tributary builds and tests with (the list in
# stack-notes, plus the build tools). Quick when everything is there already:
# apt is only touched for packages dpkg does not report as installed.
set -euo pipefail

die() { echo "install.sh: error: $*" >&2; exit 1; }

PACKAGES=(
  # libraries
  libcaf-dev libhiredis-dev libboost-json1.81-dev libyaml-cpp-dev libpq-dev
  libmariadb-dev libssl-dev prometheus-cpp-dev googletest
  # servers for the integration tests and the quickstart (servers.sh)
  redis-server redis-tools mariadb-server postgresql-15
  # a real Prometheus for tests/integration/prometheus_test.cpp and promtool
  prometheus
  # tools
  pkg-config cmake g++ make python3 procps openssl
  # benchmarks: peak RSS and arithmetic (ops/bench/realtime-mariadb.sh)
  time bc
  # network namespaces for the multi-node tests and ops/bench/nodes.sh
  # (tests/integration/netns.hpp): ip, and socat to reach the local servers
  iproute2 socat
)

missing=()
for p in "${PACKAGES[@]}"; do
  # dpkg -s reports "Status: install ok installed" only for a complete install.
  if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed$'; then
    missing+=("$p")
  fi
done

if (( ${#missing[@]} == 0 )); then
  echo "install.sh: all ${#PACKAGES[@]} packages present"
  exit 0
fi

[[ $EUID -eq 0 ]] || die "missing packages (${missing[*]}); run as root to install them"
echo "install.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || die "apt-get update failed"
apt-get install -y -q --no-install-recommends "${missing[@]}" \
  || die "apt-get install failed for: ${missing[*]}"
echo "install.sh: done"
