#!/usr/bin/env bash
# Certificates for the example cluster of this directory: one CA, and the
# --node-tls directory of each node (ca.pem, node.pem, node.key), named after
# the node; the certificate's common name is the node's name in logs and in
# the metrics' `node` label.
#
#   ops/cluster/certs.sh OUT [NODE...]   default nodes: coordinator worker-1 worker-2
#
# Then copy OUT/NODE/ to /etc/tributary/node-tls/ on that node (mode 750,
# node.key 640, group tributary) and keep OUT/ca.key off the nodes: whoever
# holds it can mint a node. This uses ops/node-certs.sh, a test CA; a site
# with its own CA signs one certificate per node instead, with the node's
# name as CN and extendedKeyUsage serverAuth,clientAuth (each node both
# listens and connects), and puts that CA as ca.pem on every node.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
(( $# >= 1 )) || { echo "usage: ops/cluster/certs.sh OUT [NODE...]" >&2; exit 2; }
out=$1; shift
nodes=("$@")
(( ${#nodes[@]} )) || nodes=(coordinator worker-1 worker-2)
bash "$here/../node-certs.sh" "$out" "${nodes[@]}"
for n in "${nodes[@]}"; do
  echo "certs.sh: $out/$n -> /etc/tributary/node-tls/ on $n"
done
