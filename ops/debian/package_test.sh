#!/usr/bin/env bash
# Builds the Debian package from a build directory, checks its control data
# and contents, installs it with dpkg -i, and runs a short snapshot through
# the command line of the installed tributary@.service (systemd need not be
# PID 1: the command is taken from the unit and run as its user, in its
# working directory, with its environment file). Uses the test servers of
# ops/servers.sh (ports from ops/env.sh).
#
# Installing changes the machine, in ways that are safe to repeat: the
# package (upgraded in place), the `tributary` system user, /etc/tributary
# and /var/lib/tributary. The instance it configures (pkgtest), its
# database, slot, streams and state are removed before and after.
#
#   ops/debian/package_test.sh BUILD_DIR     exit 0 passed, 1 failed, 77 skipped (not root)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:?usage: package_test.sh BUILD_DIR}"
source "$ROOT/ops/env.sh"

fail() { echo "package_test: FAILED: $*" >&2; exit 1; }
say() { echo "package_test: $*"; }

if [[ $EUID -ne 0 ]]; then
  echo "package_test: skipped: installing a package needs root" >&2
  exit 77
fi
for tool in cpack dpkg dpkg-deb dpkg-shlibdeps runuser redis-cli; do
  command -v "$tool" >/dev/null || fail "$tool not found (run ops/install.sh)"
done

instance=pkgtest
db=trib_pkg
conf=/etc/tributary/$instance
version=$(sed -n 's/^project(tributary VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
[[ -n $version ]] || fail "no version in $ROOT/CMakeLists.txt"

work=$(mktemp -d)
psql_() { PGPASSWORD="$TRIB_SOURCE_PASSWORD" "$TRIB_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
  -h 127.0.0.1 -p "$TRIB_PG_PORT" -U "$TRIB_SOURCE_USER" -d "$1" -c "$2"; }
redis_() { redis-cli -h 127.0.0.1 -p "$TRIB_REDIS_PORT" "$@"; }
clean() {
  rm -rf "$conf" "/var/lib/tributary/data/$instance"
  psql_ postgres "SELECT pg_drop_replication_slot('$db') FROM pg_replication_slots WHERE slot_name = '$db'" >/dev/null || true
  psql_ postgres "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true
  for pattern in "${db}_*" "replicate_io_*_$instance"; do
    redis_ --scan --pattern "$pattern" | while read -r key; do redis_ DEL "$key" >/dev/null; done
  done
}
trap 'clean; rm -rf "$work"' EXIT
clean

# -- the package -------------------------------------------------------------
(cd "$BUILD" && cpack -G DEB -B "$work" >"$work/cpack.log" 2>&1) \
  || fail "cpack failed: $(tail -20 "$work/cpack.log")"
deb="$work/tributary_${version}_amd64.deb"
[[ -f $deb ]] || fail "cpack wrote no $(basename "$deb"): $(ls "$work")"

depends=$(dpkg-deb -f "$deb" Depends)
for lib in libcaf-core0.17 libhiredis libpq5 libmariadb3 libyaml-cpp libssl3 libboost-json \
           libprometheus-cpp-pull adduser; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done
contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/tributary ./usr/lib/systemd/system/tributary@.service \
            ./usr/share/doc/tributary/docs/configuration.md \
            ./usr/share/doc/tributary/examples/conn/postgresql.yaml \
            ./usr/share/doc/tributary/examples/src/postgresql.yaml \
            ./usr/share/doc/tributary/examples/dst/redis_stream.yaml \
            ./usr/share/doc/tributary/examples/filter/postgresql.yaml \
            ./usr/share/doc/tributary/examples/prometheus/alerts.yml; do
  grep -q " $path\$" <<<"$contents" || fail "the package lacks $path"
done
say "built $(basename "$deb"); Depends: $depends"

# -- installed -----------------------------------------------------------------
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || fail "dpkg -i failed: $(cat "$work/dpkg.log")"
[[ $(dpkg-query -W -f '${Status} ${Version}' tributary) == "install ok installed $version" ]] \
  || fail "dpkg does not list tributary $version as installed"
got=$(/usr/bin/tributary --version)
[[ $got == "tributary $version" ]] || fail "tributary --version says '$got'"
unit=/usr/lib/systemd/system/tributary@.service
[[ -f $unit ]] || fail "$unit missing"
user=$(sed -n 's/^User=//p' "$unit")
workdir=$(sed -n 's/^WorkingDirectory=//p' "$unit")
[[ -n $user && -n $workdir ]] || fail "$unit names no User= or WorkingDirectory="
getent passwd "$user" >/dev/null || fail "postinst created no user $user"
[[ $(getent passwd "$user" | cut -d: -f7) == /usr/sbin/nologin ]] || fail "$user can log in"
[[ $(stat -c %U "$workdir") == "$user" ]] || fail "$workdir is not owned by $user"
say "installed: $got, user $user"

# -- a short snapshot through the unit's command line -------------------------
psql_ postgres "CREATE DATABASE $db" >/dev/null
psql_ "$db" "CREATE TABLE items(id int PRIMARY KEY, name text);
             INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g" >/dev/null
install -d -o root -g "$user" -m 750 "$conf"
cat >"$conf/source.yaml" <<YAML
type: POSTGRESQL
host: 127.0.0.1
port: $TRIB_PG_PORT
database: $db
username: $TRIB_SOURCE_USER
password: \${PGPASSWORD}
replication-slots:
  $db:
    - pgoutput
YAML
printf 'type: REDIS_STREAM\nhost: 127.0.0.1\nport: %s\n' "$TRIB_REDIS_PORT" >"$conf/target.yaml"
printf 'snapshot:\n  threads: 1\n' >"$conf/extractor.yaml"
printf 'snapshot:\n  threads: 1\n' >"$conf/applier.yaml"
printf 'allow:\n- catalog: %s\n  schema: public\n  types: [TABLE]\n  allow:\n    items:\n' "$db" \
  >"$conf/filter.yaml"
# The secret comes from the environment file, as the unit's header shows.
printf 'TRIB_OPTIONS=--terminate-post-snapshot\nPGPASSWORD=%s\n' "$TRIB_SOURCE_PASSWORD" >"$conf/env"
chgrp "$user" "$conf"/*
chmod 640 "$conf"/*

# ExecStart with its continuation lines joined, %i replaced, and the
# environment file's variables set and expanded as systemd does ($VAR:
# split at whitespace).
cmd=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$unit" | sed 's/\\$//' | tr '\n' ' ' | sed 's/^ExecStart=//')
cmd=${cmd//%i/$instance}
envs=()
while IFS= read -r line; do
  [[ -z $line || $line == \#* ]] && continue
  envs+=("$line")
  name=${line%%=*}
  cmd=${cmd//\$$name/${line#*=}}
done <"$conf/env"
read -ra argv <<<"$cmd"
say "runs as $user in $workdir: ${argv[*]}"
rc=0
(cd "$workdir" && runuser -u "$user" -- env "${envs[@]}" "${argv[@]}") >"$work/run.log" 2>&1 || rc=$?
[[ $rc -eq 0 ]] || fail "the unit's command exited $rc: $(tail -20 "$work/run.log")"
entries=$(redis_ XLEN "${db}_public_items")
[[ $entries == 500 ]] || fail "stream ${db}_public_items holds $entries entries, not 500"
[[ -d /var/lib/tributary/data/$instance ]] || fail "no state in /var/lib/tributary/data/$instance"
say "passed: 500 rows in ${db}_public_items through the unit's command line"
