#!/usr/bin/env bash
# Certificates for Tributary's nodes (design section 11, --node-tls DIR): a CA
# and, per node, a directory holding what --node-tls reads: ca.pem, node.pem
# (signed by the CA) and node.key.
#
#   ops/node-certs.sh OUT NODE...        a new CA in OUT (ca.pem, ca.key) unless
#                                        OUT already has one, and OUT/NODE/ per node
#   EXPIRED=1 ops/node-certs.sh OUT NODE a node certificate whose validity ended
#                                        in 2020 (for tests of the refusal)
#
# Each node certificate names the node (CN and subjectAltName DNS:NODE) and
# 127.0.0.1. RSA 2048, SHA-256; test material, not for production: a real
# deployment brings its own CA (ops/cluster/ explains where the files go).
set -euo pipefail

die() { echo "node-certs.sh: error: $*" >&2; exit 1; }
(( $# >= 2 )) || die "usage: ops/node-certs.sh OUT NODE..."
command -v openssl >/dev/null || die "openssl not found"
OUT=$1; shift
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOG="$OUT/node-certs.log"
: > "$LOG"

if [[ ! -f $OUT/ca.pem || ! -f $OUT/ca.key ]]; then
  openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 3650 \
    -subj "/CN=tributary test node CA" -keyout "$OUT/ca.key" -out "$OUT/ca.pem" >> "$LOG" 2>&1 \
    || die "openssl could not make the CA (log: $LOG)"
fi

for node in "$@"; do
  [[ $node =~ ^[A-Za-z0-9._-]+$ ]] || die "node name '$node' must be letters, digits, '.', '_' or '-'"
  dir="$OUT/$node"
  mkdir -p "$dir"
  cp "$OUT/ca.pem" "$dir/ca.pem"
  printf 'subjectAltName=DNS:%s,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' \
    "$node" > "$dir/ext.cnf"
  openssl req -new -nodes -newkey rsa:2048 -sha256 -subj "/CN=$node" \
    -keyout "$dir/node.key" -out "$dir/node.csr" >> "$LOG" 2>&1 \
    || die "openssl could not make the key of $node (log: $LOG)"
  if [[ ${EXPIRED:-0} == 1 ]]; then
    # `openssl x509 -req` cannot date a certificate in the past; `openssl ca`
    # can, with a throwaway database.
    db="$dir/ca-db"
    mkdir -p "$db"
    : > "$db/index.txt"
    printf '[ca]\ndefault_ca=d\n[d]\ndatabase=%s/index.txt\nnew_certs_dir=%s\nserial=%s/serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n' \
      "$db" "$db" "$db" > "$db/ca.cnf"
    openssl rand -hex 8 > "$db/serial"
    openssl ca -batch -config "$db/ca.cnf" -cert "$OUT/ca.pem" -keyfile "$OUT/ca.key" \
      -startdate 20200101000000Z -enddate 20200102000000Z -extfile "$dir/ext.cnf" \
      -in "$dir/node.csr" -out "$dir/node.pem" -notext >> "$LOG" 2>&1 \
      || die "openssl could not sign the expired certificate of $node (log: $LOG)"
    rm -rf "$db"
  else
    openssl x509 -req -in "$dir/node.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca.key" \
      -CAcreateserial -sha256 -days 825 -extfile "$dir/ext.cnf" -out "$dir/node.pem" >> "$LOG" 2>&1 \
      || die "openssl could not sign the certificate of $node (log: $LOG)"
  fi
  rm -f "$dir/node.csr" "$dir/ext.cnf"
  chmod 600 "$dir/node.key"
done
rm -f "$OUT/ca.srl"
