#pragma once
// Tables and their schemas, as the source reports them. Plain values with an
// inspect() so they can cross a node boundary.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace trib {

/// The database product a replication reads from.
enum class source_kind : uint8_t { postgresql, mysql, mariadb };

/// "POSTGRESQL", "MYSQL", "MARIADB": the spelling of the config files.
const char* to_string(source_kind k);

/// A table's three-part name; a part the database lacks is empty
/// (MariaDB has no schema).
struct table_id {
  std::string catalog;
  std::string schema;
  std::string table;
};

inline bool operator==(const table_id& a, const table_id& b) {
  return a.catalog == b.catalog && a.schema == b.schema && a.table == b.table;
}
inline bool operator<(const table_id& a, const table_id& b) {
  if (a.catalog != b.catalog) return a.catalog < b.catalog;
  if (a.schema != b.schema) return a.schema < b.schema;
  return a.table < b.table;
}

/// "catalog.schema.table" without the empty parts, for logs.
std::string to_string(const table_id& t);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, table_id& x) {
  return f(caf::meta::type_name("table_id"), x.catalog, x.schema, x.table);
}

/// The family a column's values belong to; it decides the Kafka Connect
/// schema type and how a value's canonical text becomes a JSON payload value.
enum class value_kind : uint8_t {
  boolean,
  int8,
  int16,
  int32,
  int64,
  uint8,   // MariaDB TINYINT UNSIGNED
  uint16,  // MariaDB SMALLINT UNSIGNED
  uint32,  // MariaDB INT/MEDIUMINT UNSIGNED
  uint64,  // MariaDB BIGINT UNSIGNED
  float32,
  float64,
  decimal,
  text,
  bytes,
  date,
  time,
  timestamp,    // without time zone
  timestamptz,  // with time zone (PostgreSQL timestamptz, MariaDB TIMESTAMP)
  interval,
  json,
  uuid,
  enumeration,
  set,
  bits,
  year,
  array,
};

/// Name of a value kind for logs and tests ("int32", "decimal", ...).
const char* to_string(value_kind k);

/// One column of a source table.
struct column_info {
  std::string name;
  /// The source's own spelling, as the schema dump shows it ("INT",
  /// "VARCHAR(152)", "NUMERIC(38,10)").
  std::string source_type;
  value_kind kind = value_kind::text;
  /// Decimal precision and scale; bit length for BIT; fraction digits for
  /// time types. Zero when not applicable or unconstrained.
  int32_t precision = 0;
  int32_t scale = 0;
  bool not_null = false;
  bool identity = false;
  bool generated = false;
  bool has_default = false;
  std::string default_value;
  /// Element kind for arrays; allowed values for ENUM/SET.
  value_kind element_kind = value_kind::text;
  std::vector<std::string> allowed;
  /// The type as the source's change stream names it, so that a change of
  /// type alone (ALTER COLUMN ... TYPE) is noticed: PostgreSQL's atttypid and
  /// atttypmod, which pgoutput's Relation message carries. 0 and -1 when the
  /// source has no such numbers (MySQL/MariaDB) or they are not known.
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, column_info& x) {
  return f(caf::meta::type_name("column_info"), x.name, x.source_type, x.kind,
           x.precision, x.scale, x.not_null, x.identity, x.generated,
           x.has_default, x.default_value, x.element_kind, x.allowed,
           x.type_oid, x.type_modifier);
}

/// A table with its columns and keys.
struct table_schema {
  table_id id;
  std::vector<column_info> columns;
  /// Primary key column names, in key order; empty when there is none.
  std::vector<std::string> primary_key;
  /// Unique keys (name list each), in the source's order.
  std::vector<std::vector<std::string>> unique_keys;
  /// The extractor's row-identifier-key for this table, if configured.
  std::vector<std::string> row_identifier_key;
  /// The extractor's split-key for this table, if configured.
  std::string split_key;
  /// The source's estimate of the row count (statistics, may be 0).
  uint64_t estimated_rows = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, table_schema& x) {
  return f(caf::meta::type_name("table_schema"), x.id, x.columns,
           x.primary_key, x.unique_keys, x.row_identifier_key, x.split_key,
           x.estimated_rows);
}

/// Index of the named column, or -1.
int column_index(const table_schema& t, const std::string& name);

/// The columns that identify a row in messages, by design section 4: the
/// primary key; else the first unique key whose columns are all NOT NULL;
/// else the row-identifier-key; else none (the key is the string "default").
std::vector<size_t> key_columns(const table_schema& t);

/// The columns the snapshot orders and chunks by: the primary key, else a
/// NOT NULL unique key, else the row-identifier-key; empty when the table has
/// none of them and must be read in one pass.
std::vector<size_t> order_columns(const table_schema& t);

}  // namespace trib
