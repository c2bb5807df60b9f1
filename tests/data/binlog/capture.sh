#!/usr/bin/env bash
# Re-captures the binlog files the decoder's unit tests read
# (tests/unit/binlog_*_test.cpp), from the MariaDB server of ops/servers.sh.
# Each capture starts a fresh binlog file (FLUSH BINARY LOGS), runs its SQL,
# closes the file again and copies it here byte for byte, so a file holds
# exactly the events of its SQL (plus the server's own FORMAT_DESCRIPTION,
# GTID_LIST, BINLOG_CHECKPOINT and the closing ROTATE).
#
#   source ops/env.sh && bash ops/servers.sh start
#   bash tests/data/binlog/capture.sh
#
# The tests check decoded values against the literals of the SQL below: edit
# both together. Captures use a database of their own (binlog_capture),
# dropped first.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${TRIB_RUN_DIR:?source ops/env.sh first}"
SOCK="${TRIB_MARIADB_SOCKET:-$TRIB_RUN_DIR/mariadb.sock}"
DATADIR="$TRIB_RUN_DIR/mariadb"
sql() { mariadb --no-defaults --default-character-set=utf8mb4 --socket="$SOCK" -uroot -N -B "$@"; }

# capture NAME: runs stdin as one client session into a binlog file of its own,
# copies it to NAME.bin and writes a readable listing NAME.txt beside it.
capture() {
  local name=$1 file
  sql -e "FLUSH BINARY LOGS"
  file=$(sql -e "SHOW MASTER STATUS" | cut -f1)
  sql
  sql -e "FLUSH BINARY LOGS"
  cp "$DATADIR/$file" "$HERE/$name.bin"
  mariadb-binlog --no-defaults -vv --base64-output=decode-rows "$HERE/$name.bin" \
    | grep -a -v '^# at \|^#[0-9]\{6\} ' > "$HERE/$name.txt" || true
  echo "capture.sh: $name.bin from $file ($(stat -c %s "$HERE/$name.bin") bytes)"
}

sql -e "SELECT @@binlog_format, @@binlog_row_image, @@binlog_row_metadata, @@binlog_checksum" |
  grep -q $'^ROW\tFULL\tFULL\tCRC32$' ||
  { echo "capture.sh: the server must log ROW, FULL image, FULL metadata, CRC32" >&2; exit 1; }
sql -e "DROP DATABASE IF EXISTS binlog_capture; CREATE DATABASE binlog_capture"

# Every type of the README's MariaDB table, edge values, NULLs, multi-byte
# text, multi-row statements, updates (one of a key), deletes, a DDL and a
# rolled-back transaction (which leaves no event).
capture types <<'SQL'
USE binlog_capture;
SET time_zone = '+00:00', sql_mode = '';
CREATE TABLE ints (
  id INT PRIMARY KEY,
  ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED,
  mi MEDIUMINT, mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, bu BIGINT UNSIGNED
);
INSERT INTO ints VALUES
  (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
   -9223372036854775808, 18446744073709551615),
  (2, 127, 0, 32767, 0, 8388607, 0, 2147483647, 0, 9223372036854775807, 0),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1);
CREATE TABLE nums (
  id INT PRIMARY KEY,
  d38 DECIMAL(38,10), d52 DECIMAL(5,2), d10 DECIMAL(10,0), d65 DECIMAL(65,30),
  f FLOAT, db DOUBLE
);
INSERT INTO nums VALUES
  (1, -1234567890123456789012345678.0123456789, 123.45, 1234567890,
   12345678901234567890123456789012345.123456789012345678901234567890, 1.5, -1.0000000000000002),
  (2, -0.0000000001, -0.05, -9, -0.000000000000000000000000000001, 0.1, 1e300),
  (3, 0, 0, 0, 0, -3.25e-10, 5e-324),
  (4, 9999999999999999999999999999.9999999999, -999.99, -9999999999, 1, 3.4e38, 123456789012345678);
CREATE TABLE times (
  id INT PRIMARY KEY,
  dt DATE, t0 TIME, t3 TIME(3), t6 TIME(6), dtm DATETIME, dtm2 DATETIME(2), dtm6 DATETIME(6),
  ts TIMESTAMP NULL DEFAULT NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL, y YEAR
);
INSERT INTO times VALUES
  (1, '1000-01-01', '-838:59:59', '-00:00:00.001', '838:59:59.999999', '1000-01-01 00:00:00',
   '1969-12-31 23:59:59.99', '1969-12-31 23:59:59.999999', '1970-01-01 00:00:01',
   '2038-01-19 03:14:07.999999', 1901),
  (2, '9999-12-31', '00:00:00', '12:34:56.789', '-01:02:03.000004', '9999-12-31 23:59:59',
   '2024-02-29 12:00:00.5', '2024-02-29 12:00:00.000001', '2024-01-02 03:04:05',
   '2001-09-09 01:46:40.5', 2155),
  (3, '0000-00-00', NULL, NULL, NULL, '0000-00-00 00:00:00', NULL, NULL, NULL, NULL, 0),
  (4, NULL, '-00:00:01', '00:00:00.5', '-838:59:59.000000', NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE strs (
  id INT PRIMARY KEY,
  c CHAR(5) CHARACTER SET utf8mb4, vc VARCHAR(100) CHARACTER SET utf8mb4,
  vl VARCHAR(300) CHARACTER SET utf8mb4, la VARCHAR(10) CHARACTER SET latin1,
  bn BINARY(4), vb VARBINARY(10), tt TINYTEXT, tx TEXT CHARACTER SET utf8mb4,
  mt MEDIUMTEXT, bl BLOB, lb LONGBLOB, j JSON,
  e ENUM('a','b','c'), s SET('x','y','z'), b1 BIT(1), b10 BIT(10), b64 BIT(64), g POINT
) DEFAULT CHARSET = utf8mb4;
INSERT INTO strs VALUES
  (1, 'ab', 'Grüße, 世界 😀', REPEAT('ä', 300), _latin1 X'636166E9', x'0001', x'00ff00', 'tiny', 'text',
   'medium', x'0102', x'ff', '{"k": [1, 2]}', 'b', 'x,z', b'1', b'1000000001',
   b'1111111111111111111111111111111111111111111111111111111111111111', ST_GeomFromText('POINT(1 2)')),
  (2, '', '', '', '', x'', x'', '', '', '', x'', x'', '[]', 'a', '', b'0', b'0', b'0', NULL),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE nokey (a INT, b VARCHAR(10));
INSERT INTO nokey VALUES (1, 'one'), (1, 'one'), (2, NULL);
BEGIN;
UPDATE ints SET ti = 5 WHERE id = 4;
UPDATE ints SET id = 40 WHERE id = 4;
DELETE FROM ints WHERE id IN (2, 3);
COMMIT;
BEGIN;
INSERT INTO nokey VALUES (99, 'rolled');
ROLLBACK;
UPDATE strs SET vc = 'changed', e = 'c' WHERE id = 2;
ALTER TABLE nokey ADD COLUMN c DATE NULL;
INSERT INTO nokey VALUES (3, 'three', '2024-05-06');
DELETE FROM nokey WHERE a = 1;
SQL

# Without column metadata (the server default binlog_row_metadata=NO_LOG):
# no names, no signedness, no charsets, no ENUM/SET labels.
sql -e "SET GLOBAL binlog_row_metadata = NO_LOG"
trap 'sql -e "SET GLOBAL binlog_row_metadata = FULL, GLOBAL log_bin_compress = OFF"' EXIT
capture no_metadata <<'SQL'
USE binlog_capture;
CREATE TABLE plain (id INT UNSIGNED PRIMARY KEY, name VARCHAR(20) CHARACTER SET utf8mb4, e ENUM('p','q'), la CHAR(3) CHARACTER SET latin1);
INSERT INTO plain VALUES (4294967295, 'Grüße', 'q', 'abc'), (7, NULL, NULL, NULL);
SQL
sql -e "SET GLOBAL binlog_row_metadata = FULL"

# MariaDB's compressed events (log_bin_compress): QUERY_COMPRESSED and the
# compressed rows events, zlib inside.
sql -e "SET GLOBAL log_bin_compress = ON, GLOBAL log_bin_compress_min_len = 10"
capture compressed <<'SQL'
USE binlog_capture;
CREATE TABLE packed (id INT PRIMARY KEY, body TEXT);
INSERT INTO packed VALUES (1, REPEAT('abc', 100)), (2, 'short');
UPDATE packed SET body = 'changed' WHERE id = 1;
DELETE FROM packed WHERE id = 2;
SQL
sql -e "SET GLOBAL log_bin_compress = OFF"

# binlog_row_image=MINIMAL (a session setting): the before image holds the
# key only, the after image the changed columns only.
capture minimal_image <<'SQL'
USE binlog_capture;
SET SESSION binlog_row_image = MINIMAL;
CREATE TABLE slim (id INT PRIMARY KEY, a VARCHAR(10), b INT);
INSERT INTO slim VALUES (1, 'one', 10);
UPDATE slim SET b = 11 WHERE id = 1;
DELETE FROM slim WHERE id = 1;
SQL

# MariaDB's pre-10.1 temporal formats (mysql56_temporal_format=OFF), which
# tables created on old servers keep after an upgrade.
sql -e "SET GLOBAL mysql56_temporal_format = OFF"
trap 'sql -e "SET GLOBAL binlog_row_metadata = FULL, GLOBAL log_bin_compress = OFF, GLOBAL mysql56_temporal_format = ON"' EXIT
capture old_temporal <<'SQL'
USE binlog_capture;
SET time_zone = '+00:00';
CREATE TABLE oldtime (id INT PRIMARY KEY, t TIME, dtm DATETIME, ts TIMESTAMP NULL DEFAULT NULL);
INSERT INTO oldtime VALUES (1, '-838:59:59', '1000-01-01 00:00:00', '1970-01-01 00:00:01'),
                           (2, '12:00:01', '2024-02-29 12:00:00', '2024-01-02 03:04:05'),
                           (3, '-00:00:01', '9999-12-31 23:59:59', NULL);
CREATE TABLE oldfrac (id INT PRIMARY KEY, t3 TIME(3));
INSERT INTO oldfrac VALUES (1, '-12:34:56.789');
SQL
sql -e "SET GLOBAL mysql56_temporal_format = ON"

sql -e "DROP DATABASE binlog_capture"
