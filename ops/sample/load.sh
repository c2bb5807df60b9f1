#!/usr/bin/env bash
# Loads a small TPC-H-like sample into database `tpch` of the local PostgreSQL
# (schema public) and MariaDB that ops/servers.sh starts: region (5 rows),
# nation (25), customer (1500), orders (3000). The rows are pseudo-random but
# deterministic and computed by the same integer formulas in both databases,
# so both hold the same data; the script proves it at the end by comparing a
# canonical text dump of every table. Rerunning drops and recreates the tables
# (the databases themselves are kept, with any slots or publications in them).
#
# Connects as the source user over TCP, as Tributary will (ports: ops/env.sh).
# Row counts: TRIB_SAMPLE_CUSTOMERS, TRIB_SAMPLE_ORDERS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=ops/env.sh
source "$ROOT/ops/env.sh"

die() { echo "load.sh: error: $*" >&2; exit 1; }

CUSTOMERS="${TRIB_SAMPLE_CUSTOMERS:-1500}"
ORDERS="${TRIB_SAMPLE_ORDERS:-3000}"
[[ $CUSTOMERS =~ ^[1-9][0-9]*$ && $ORDERS =~ ^[1-9][0-9]*$ ]] \
  || die "TRIB_SAMPLE_CUSTOMERS and TRIB_SAMPLE_ORDERS must be positive integers"

export PGPASSWORD="$TRIB_SOURCE_PASSWORD"
pg() {
  "$TRIB_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$TRIB_PG_PORT" \
    -U "$TRIB_SOURCE_USER" "$@"
}
my() {
  # The password goes through the environment, not the command line.
  MYSQL_PWD="$TRIB_SOURCE_PASSWORD" mariadb --no-defaults --protocol=TCP -h 127.0.0.1 \
    -P "$TRIB_MARIADB_PORT" -u "$TRIB_SOURCE_USER" "$@"
}

# h(i, salt): a deterministic pseudo-random number below 2^31-1, in plain
# 64-bit integer arithmetic that both databases evaluate identically: an affine
# start, then two squarings modulo the prime 2^31-1, because affine steps alone
# leave neighbouring rows with evenly spaced values. Every intermediate stays
# below 2^62, inside a signed BIGINT.
# pick(i, salt, n) reduces it to 0..n-1. $DIV is the dialect's integer division.
sq()   { echo "(($1 * $1 + $2) % 2147483647)"; }
h()    { local x="((($1) * 2654435761 + $2 * 40503 + 1) % 2147483647)"; sq "$(sq "$x" 12345)" 67890; }
pick() { echo "(($(h "$1" "$2") $DIV 4096) % $3)"; }
# txt(x): x as text, without the blank padding a CHAR(n) cast gives in PostgreSQL.
txt()  { echo "CAST($1 AS $TXT)"; }

# The columns' values, as SQL expressions over the row number i; the same text
# serves both dialects except for dates and timestamps, passed in.
region_rows="(0, 'AFRICA', 'lar deposits. blithely final packages cajole'),
  (1, 'AMERICA', 'hs use ironic, even requests. s'),
  (2, 'ASIA', 'ges. thinly even pinto beans ca'),
  (3, 'EUROPE', 'ly final courts cajole furiously final excuse'),
  (4, 'MIDDLE EAST', 'uickly special accounts cajole carefully blithely close')"

nation_rows="(0, 'ALGERIA', 0, 'haggle. carefully final deposits detect slyly agai'),
  (1, 'ARGENTINA', 1, 'al foxes promise slyly according to the regular accounts'),
  (2, 'BRAZIL', 1, 'y alongside of the pending deposits'),
  (3, 'CANADA', 1, 'eas hang ironic, silent packages'),
  (4, 'EGYPT', 4, 'y above the carefully unusual theodolites'),
  (5, 'ETHIOPIA', 0, 'ven packages wake quickly. regu'),
  (6, 'FRANCE', 3, 'refully final requests. regular, ironi'),
  (7, 'GERMANY', 3, 'l platelets. regular accounts x-ray: unusual, regular acco'),
  (8, 'INDIA', 2, 'ss excuses cajole slyly across the packages'),
  (9, 'INDONESIA', 2, 'slyly express asymptotes. regular deposits haggle slyly'),
  (10, 'IRAN', 4, 'efully alongside of the slyly final dependencies'),
  (11, 'IRAQ', 4, 'nic deposits boost atop the quickly final requests'),
  (12, 'JAPAN', 2, 'ously. final, express gifts cajole a'),
  (13, 'JORDAN', 4, 'ic deposits are blithely about the carefully regular sa'),
  (14, 'KENYA', 0, 'pending excuses haggle furiously deposits'),
  (15, 'MOROCCO', 0, 'rns. blithely bold courts among the closely regular packages'),
  (16, 'MOZAMBIQUE', 0, 's. ironic, unusual asymptotes wake blithely r'),
  (17, 'PERU', 1, 'platelets. blithely pending dependencies use fluffily across'),
  (18, 'CHINA', 2, 'c dependencies. furiously express notornis sleep slyly'),
  (19, 'ROMANIA', 3, 'ular asymptotes are about the furious multipliers'),
  (20, 'SAUDI ARABIA', 4, 'ts. silent requests haggle. closely express packages'),
  (21, 'VIETNAM', 2, 'hely enticingly express accounts. even, final'),
  (22, 'RUSSIA', 3, 'requests against the platelets use never according to the'),
  (23, 'UNITED KINGDOM', 3, 'eans boost carefully special requests'),
  (24, 'UNITED STATES', 1, 'y final packages. slow foxes cajole quickly')"

# $1: integer division operator; $2: the text type for casts (see txt);
# for orders, $3: "date of day @N@" and $4: "timestamp of date @D@ plus @S@
# seconds", as templates.
customer_select() {
  local DIV=$1 TXT=$2
  cat <<EOF
SELECT i,
  CONCAT('Customer#', LPAD($(txt i), 9, '0')),
  CONCAT($(pick i 1 100000), ' ', CASE $(pick i 2 4) WHEN 0 THEN 'Oak Street' WHEN 1 THEN 'Harbour Road'
         WHEN 2 THEN 'Rue du Lac' ELSE 'Hauptstrasse' END),
  $(pick i 3 25),
  CONCAT(10 + $(pick i 3 25), '-', 100 + $(pick i 4 900), '-', 100 + $(pick i 5 900), '-',
         1000 + $(pick i 6 9000)),
  CAST(($(h i 7) % 1099999 - 99999) / 100.0 AS DECIMAL(15,2)),
  CASE $(pick i 8 5) WHEN 0 THEN 'AUTOMOBILE' WHEN 1 THEN 'BUILDING' WHEN 2 THEN 'FURNITURE'
       WHEN 3 THEN 'MACHINERY' ELSE 'HOUSEHOLD' END,
  CONCAT('customer comment ', $(h i 9)),
  $(pick i 10 10) <> 0
EOF
}

orders_select() {
  local DIV=$1 TXT=$2 date_tpl=$3 ts_tpl=$4 day secs date
  day="$(pick i 13 2400)"
  secs="$(pick i 14 86400)"
  date="${date_tpl//@N@/$day}"
  local ts="${ts_tpl//@D@/$date}"; ts="${ts//@S@/$secs}"
  cat <<EOF
SELECT i,
  1 + $(pick i 11 "$CUSTOMERS"),
  CASE $(pick i 12 3) WHEN 0 THEN 'F' WHEN 1 THEN 'O' ELSE 'P' END,
  CAST((100000 + $(h i 15) % 50000000) / 100.0 AS DECIMAL(15,2)),
  $date,
  CASE $(pick i 16 5) WHEN 0 THEN '1-URGENT' WHEN 1 THEN '2-HIGH' WHEN 2 THEN '3-MEDIUM'
       WHEN 3 THEN '4-NOT SPECIFIED' ELSE '5-LOW' END,
  CONCAT('Clerk#', LPAD($(txt "1 + $(pick i 17 1000)"), 9, '0')),
  0,
  CONCAT('order comment ', $(h i 18)),
  $ts
EOF
}

# Column lists shared by both dialects; types differ only where the dialects do.
table_ddl() { # $1: BOOLEAN type, $2: TIMESTAMP column definition, $3: table suffix
  cat <<EOF
CREATE TABLE region (
  r_regionkey  INTEGER NOT NULL PRIMARY KEY,
  r_name       CHAR(25) NOT NULL,
  r_comment    VARCHAR(152))$3;
CREATE TABLE nation (
  n_nationkey  INTEGER NOT NULL PRIMARY KEY,
  n_name       CHAR(25) NOT NULL,
  n_regionkey  INTEGER NOT NULL,
  n_comment    VARCHAR(152))$3;
CREATE TABLE customer (
  c_custkey    INTEGER NOT NULL PRIMARY KEY,
  c_name       VARCHAR(25) NOT NULL,
  c_address    VARCHAR(40) NOT NULL,
  c_nationkey  INTEGER NOT NULL,
  c_phone      CHAR(15) NOT NULL,
  c_acctbal    DECIMAL(15,2) NOT NULL,
  c_mktsegment CHAR(10) NOT NULL,
  c_comment    VARCHAR(117) NOT NULL,
  c_active     $1 NOT NULL)$3;
CREATE TABLE orders (
  o_orderkey      INTEGER NOT NULL PRIMARY KEY,
  o_custkey       INTEGER NOT NULL,
  o_orderstatus   CHAR(1) NOT NULL,
  o_totalprice    DECIMAL(15,2) NOT NULL,
  o_orderdate     DATE NOT NULL,
  o_orderpriority CHAR(15) NOT NULL,
  o_clerk         CHAR(15) NOT NULL,
  o_shippriority  INTEGER NOT NULL,
  o_comment       VARCHAR(79) NOT NULL,
  o_updated_at    $2)$3;
EOF
}

# One line per row, the same text in both databases: what the final check compares.
canonical_queries() { # $1: boolean-to-0/1 expression of @B@
  local b="${1//@B@/c_active}"
  cat <<EOF
SELECT CONCAT_WS('|', r_regionkey, TRIM(r_name), r_comment) FROM region ORDER BY r_regionkey;
SELECT CONCAT_WS('|', n_nationkey, TRIM(n_name), n_regionkey, n_comment) FROM nation ORDER BY n_nationkey;
SELECT CONCAT_WS('|', c_custkey, c_name, c_address, c_nationkey, TRIM(c_phone), c_acctbal,
  TRIM(c_mktsegment), c_comment, $b) FROM customer ORDER BY c_custkey;
SELECT CONCAT_WS('|', o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate,
  TRIM(o_orderpriority), TRIM(o_clerk), o_shippriority, o_comment, o_updated_at) FROM orders ORDER BY o_orderkey;
EOF
}

t0=$(date +%s%N)

# ---- PostgreSQL: generate_series over BIGINT so the hash never overflows.
pg -d postgres -c "SELECT 1" > /dev/null 2>&1 \
  || die "cannot log in to PostgreSQL as $TRIB_SOURCE_USER at 127.0.0.1:$TRIB_PG_PORT (run: ops/servers.sh start)"
pg -d postgres <<'EOF' || die "could not create database tpch in PostgreSQL"
SELECT 'CREATE DATABASE tpch' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'tpch') \gexec
EOF
{
  echo "BEGIN;"
  echo "DROP TABLE IF EXISTS orders, customer, nation, region CASCADE;"
  table_ddl BOOLEAN "TIMESTAMP NOT NULL" ""
  echo "INSERT INTO region VALUES $region_rows;"
  echo "INSERT INTO nation VALUES $nation_rows;"
  echo "INSERT INTO customer"
  customer_select / TEXT
  echo "FROM generate_series(1::bigint, $CUSTOMERS) AS s(i);"
  echo "INSERT INTO orders"
  orders_select / TEXT "DATE '1992-01-01' + CAST(@N@ AS INTEGER)" "CAST(@D@ AS TIMESTAMP) + @S@ * INTERVAL '1 second'"
  echo "FROM generate_series(1::bigint, $ORDERS) AS s(i);"
  echo "ANALYZE region, nation, customer, orders;"
  echo "COMMIT;"
} | pg -d tpch -c "SET client_min_messages = warning" -f - \
  || die "loading the sample into PostgreSQL failed"

# ---- MariaDB: the SEQUENCE engine's seq_1_to_N (a recursive CTE stops at 1000
# rows by default); CAST to SIGNED so subtraction never wraps unsigned.
my -e "SELECT 1" > /dev/null 2>&1 \
  || die "cannot log in to MariaDB as $TRIB_SOURCE_USER at 127.0.0.1:$TRIB_MARIADB_PORT (run: ops/servers.sh start)"
{
  echo "CREATE DATABASE IF NOT EXISTS tpch; USE tpch;"
  # TIMESTAMP values are read and written in UTC, so they equal PostgreSQL's.
  echo "SET time_zone = '+00:00';"
  echo "DROP TABLE IF EXISTS orders, customer, nation, region;"
  # NULL DEFAULT NULL: no implicit ON UPDATE CURRENT_TIMESTAMP to change rows behind our back.
  table_ddl BOOLEAN "TIMESTAMP NULL DEFAULT NULL" " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
  echo "START TRANSACTION;"
  echo "INSERT INTO region VALUES $region_rows;"
  echo "INSERT INTO nation VALUES $nation_rows;"
  echo "INSERT INTO customer"
  customer_select DIV CHAR
  echo "FROM (SELECT CAST(seq AS SIGNED) AS i FROM seq_1_to_$CUSTOMERS) AS s;"
  echo "INSERT INTO orders"
  orders_select DIV CHAR "DATE_ADD(DATE '1992-01-01', INTERVAL @N@ DAY)" "TIMESTAMP(@D@) + INTERVAL @S@ SECOND"
  echo "FROM (SELECT CAST(seq AS SIGNED) AS i FROM seq_1_to_$ORDERS) AS s;"
  echo "COMMIT;"
  echo "ANALYZE TABLE region, nation, customer, orders;"
} | my > /dev/null || die "loading the sample into MariaDB failed"

# ---- Both databases must now hold the same rows.
pg_dump=$(canonical_queries "CASE WHEN @B@ THEN 1 ELSE 0 END" | pg -d tpch -At) \
  || die "could not read the sample back from PostgreSQL"
my_dump=$( { echo "SET time_zone = '+00:00';"; canonical_queries "@B@"; } | my -D tpch -N -B -r) \
  || die "could not read the sample back from MariaDB"
expected=$((5 + 25 + CUSTOMERS + ORDERS))
for side in pg my; do
  dump="${side}_dump"
  lines=$(printf '%s\n' "${!dump}" | wc -l)
  (( lines == expected )) || die "$side holds $lines sample rows, expected $expected"
done
pg_sum=$(printf '%s\n' "$pg_dump" | md5sum)
my_sum=$(printf '%s\n' "$my_dump" | md5sum)
[[ $pg_sum == "$my_sum" ]] \
  || die "PostgreSQL and MariaDB hold different sample rows (dump checksums ${pg_sum%% *} vs ${my_sum%% *}; compare the rows of: $(diff <(echo "$pg_dump") <(echo "$my_dump") | head -n 2 | tr '\n' ' '))"

counts=$(pg -d tpch -At -F' ' -c "SELECT (SELECT count(*) FROM region), (SELECT count(*) FROM nation),
  (SELECT count(*) FROM customer), (SELECT count(*) FROM orders)")
read -r n_region n_nation n_customer n_orders <<< "$counts"
echo "load.sh: tpch loaded in PostgreSQL (127.0.0.1:$TRIB_PG_PORT, schema public) and MariaDB" \
  "(127.0.0.1:$TRIB_MARIADB_PORT): region $n_region, nation $n_nation, customer $n_customer," \
  "orders $n_orders rows; identical in both (checksum ${pg_sum:0:12}), $(( ($(date +%s%N) - t0) / 1000000 )) ms"
