#pragma once
// What the PostgreSQL and MariaDB sessions share: the filter and extractor
// rules applied to a catalog listing, and small text helpers. CAF-free and
// server-free, so the rules are tested as plain functions.

#include <memory>
#include <string>
#include <vector>

#include "actors/source/source_session.hpp"

namespace trib::source_detail {

/// The filter entry of one table: its allowed columns (empty = all) and its
/// row condition.
struct table_filter {
  std::vector<std::string> columns;
  std::string conditions;
};

/// Whether `filter` lets `id` through (always, when no filter is given), and
/// with which table filter. A filter catalog entry with an empty catalog or
/// schema matches any; a table without a schema (MariaDB) ignores the entry's
/// schema, since Arcion's MySQL filters name the database only.
bool filter_allows(const filter_config& filter, const table_id& id,
                   table_filter* out = nullptr);

/// Turns the full listing of readable tables (every column, keys as the
/// source has them) into what list_tables returns: drops the tables the filter
/// leaves out, restricts columns to the allowed ones (order columns are always
/// kept: without them a snapshot could not resume), drops unique keys that
/// lose a column, applies the extractor's per-table split-key and
/// row-identifier-key, and sorts by table_id. A filter table that does not
/// exist is logged and skipped; a filter column that does not exist is a
/// config error naming it.
std::vector<table_schema> finish_listing(std::vector<table_schema> all,
                                         const filter_config& filter,
                                         const extractor_config& ex);

/// ASCII upper case of `s` except inside `quote` characters, so that ENUM
/// labels and quoted identifiers keep their spelling.
std::string upper_outside_quotes(const std::string& s, char quote);

/// Lower-case hex of raw bytes.
std::string to_hex(const std::string& raw);

/// The default port of a source kind when the config leaves it 0.
int effective_port(const source_config& cfg);

/// "postgresql" / "mariadb" / "mysql" for messages.
std::string kind_name(source_kind k);

/// Implementations, in postgres_session.cpp and mariadb_session.cpp.
std::unique_ptr<source_session> open_postgres(const source_config& cfg);
std::unique_ptr<source_session> open_mariadb(const source_config& cfg);

}  // namespace trib::source_detail
