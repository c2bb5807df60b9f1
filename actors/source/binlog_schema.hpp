#pragma once
// A table's columns as of a TABLE_MAP: with binlog_row_metadata=FULL every
// TABLE_MAP names its columns, so rows logged before a DDL (a backlog, a
// --resume from an older position) decode with the columns of their time,
// not with what information_schema says now. Pure and CAF-free.

#include <optional>
#include <string>
#include <vector>

#include "actors/source/binlog_table_map.hpp"
#include "messages/table.hpp"

namespace trib::binlog {

/// Whether schema column `c` describes binlog column `d` as it is logged:
/// the same family and width, signedness (when logged), DECIMAL precision
/// and scale, fraction digits, BIT length, ENUM/SET labels (when logged),
/// text or binary. A change that only lengthens a CHAR/VARCHAR matches.
bool column_matches(const column_info& c, const column_def& d);

/// A schema column from a logged one alone: kind, the source's spelling
/// ("INT UNSIGNED", "DECIMAL(10,2)", "VARCHAR(20)"), precision, labels,
/// NOT NULL. No default value, no identity (the binlog does not log them).
column_info describe_logged(const column_def& d);

/// The schema of `current`'s table at the time of `map` (which must have
/// names), or nothing when `current` already describes it. Each column is
/// `current`'s of that name when it matches the logged one, else
/// `newest`'s (information_schema now, may be null), else described from
/// the map. `keep`: the run's column filter for the table (empty: every
/// column); key columns are always kept, as the snapshot keeps them. Keys
/// come from the map when it logs them, else `current`'s that remain.
std::optional<table_schema> schema_at(const table_schema& current, const table_map& map,
                                      const std::vector<std::string>& keep,
                                      const table_schema* newest = nullptr);

}  // namespace trib::binlog
