#!/usr/bin/env bash
# The five-minute tour: installs the packages, builds, starts local PostgreSQL,
# MariaDB and Redis, loads the TPC-H-like sample into both databases, snapshots
# each into Redis Streams with the sample configuration files of conf/, and
# shows what arrived: every stream's name, length and first entry.
#
#   ops/quickstart.sh            everything
#   ops/quickstart.sh --no-build skip install and build (use the existing binary)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=ops/env.sh
source ops/env.sh
BUILD="${TRIB_BUILD_DIR:-$ROOT/build}"
TRIB="$BUILD/nodes/tributary"
TABLES=(region nation customer orders)   # what ops/sample/load.sh creates

die() { echo "quickstart: error: $*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }

build=1
case "${1:-}" in
  "") ;;
  --no-build) build=0 ;;
  *) echo "usage: $0 [--no-build]" >&2; exit 2 ;;
esac

if (( build )); then
  step "installing packages"; bash ops/install.sh || die "ops/install.sh failed"
  step "building"; bash ops/build.sh || die "ops/build.sh failed"
fi
[[ -x $TRIB ]] || die "no binary at $TRIB: run ops/build.sh (or set TRIB_BUILD_DIR)"
for f in conf/conn/postgresql.yaml conf/conn/mariadb.yaml conf/conn/redis_stream.yaml \
         conf/src/postgresql.yaml conf/src/mariadb.yaml conf/dst/redis_stream.yaml \
         conf/filter/postgresql.yaml conf/filter/mariadb.yaml; do
  [[ -f $f ]] || die "sample configuration $f is missing"
done

step "starting servers"; bash ops/servers.sh start || die "ops/servers.sh start failed"
step "loading the sample"; bash ops/sample/load.sh || die "ops/sample/load.sh failed"

rcli() { redis-cli -h 127.0.0.1 -p "$TRIB_REDIS_PORT" "$@"; }

# Runs one snapshot; $1 source name (conn/src/filter file stem), $2 replication
# id. Exit code 3 means it finished but skipped tables: worth showing, not fatal.
failed=()
snapshot() {
  local src=$1 id=$2 rc=0
  step "snapshot of $src into Redis (id $id)"
  echo "$TRIB snapshot conf/conn/$src.yaml conf/conn/redis_stream.yaml --extractor conf/src/$src.yaml" \
       "--applier conf/dst/redis_stream.yaml --filter conf/filter/$src.yaml --id $id --overwrite"
  "$TRIB" snapshot "conf/conn/$src.yaml" conf/conn/redis_stream.yaml \
    --extractor "conf/src/$src.yaml" --applier conf/dst/redis_stream.yaml \
    --filter "conf/filter/$src.yaml" --id "$id" --overwrite || rc=$?
  case $rc in
    0) ;;
    3) echo "quickstart: warning: tributary finished for $src but skipped tables or wrote in-doubt entries (see data/$id/error.log)" >&2 ;;
    *) echo "quickstart: error: tributary snapshot of $src exited with code $rc (1 runtime failure, 2 usage or configuration error; logs in data/$id/)" >&2
       failed+=("$src") ;;
  esac
}

# Prints a stream's name, length and first entry with key and value as indented
# JSON. The entry is read with redis-cli --json, so values with newlines or
# quotes arrive intact.
show_stream() {
  local stream=$1 type len
  type=$(rcli TYPE "$stream")
  if [[ $type != stream ]]; then
    echo "quickstart: error: expected stream $stream is missing (TYPE: $type)" >&2
    return 1
  fi
  len=$(rcli XLEN "$stream")
  printf '\n-- %s  (XLEN %s)\n' "$stream" "$len"
  rcli --json XRANGE "$stream" - + COUNT 1 | python3 -c '
import json, subprocess, sys
entries = json.load(sys.stdin)
if not entries:
    print("   (empty)")
    sys.exit(0)
entry_id, fields = entries[0]
print("   first entry " + entry_id)
for name, text in zip(fields[0::2], fields[1::2]):
    print("   " + name + ":")
    # json.tool does the formatting; a value that is not JSON (a tombstone is the
    # plain string default) is shown as it is.
    out = subprocess.run([sys.executable, "-m", "json.tool"], input=text,
                         capture_output=True, text=True)
    body = out.stdout if out.returncode == 0 else text + "\n"
    sys.stdout.write("".join("     " + line + "\n" for line in body.splitlines()))
'
}

snapshot postgresql quickstart_pg
snapshot mariadb quickstart_mariadb

# Stream names follow the contract (design section 3): <catalog>_<schema>_<table>
# for PostgreSQL, <catalog>_<table> for MariaDB, and the schema dump stream
# replicate_io_replication_schema_<group>_<id>.
missing=0
for pair in "postgresql:quickstart_pg:tpch_public_" "mariadb:quickstart_mariadb:tpch_"; do
  IFS=: read -r src id prefix <<< "$pair"
  [[ " ${failed[*]:-} " == *" $src "* ]] && continue
  step "streams written for $src"
  for t in "${TABLES[@]}"; do show_stream "$prefix$t" || missing=1; done
  show_stream "replicate_io_replication_schema_default_$id" || missing=1
done

echo
if (( ${#failed[@]} )); then
  die "tributary failed for: ${failed[*]} (messages above)"
fi
(( missing == 0 )) || die "some expected streams are missing (messages above)"
echo "quickstart: done. Inspect with: redis-cli -p $TRIB_REDIS_PORT XRANGE tpch_public_orders - + COUNT 2"
