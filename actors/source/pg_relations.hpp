#pragma once
// How pgoutput's relations and tuples become rows of the tables the run
// knows (column projection, unchanged TOASTed values), free of CAF (tested
// as plain code). The WAL reader turns them into source-neutral row
// changes with these.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/source/pgoutput.hpp"
#include "messages/row.hpp"
#include "messages/table.hpp"

namespace trib {

/// What an unchanged TOASTed value becomes when no old image has it:
/// Debezium's placeholder, so consumers that know Debezium recognise it. A
/// value is never invented: columns whose type cannot hold a string
/// (numeric, arrays, bits, ...) get null instead, and the README says so.
constexpr const char* unavailable_value_marker = "__debezium_unavailable_value";

/// Whether a column of this kind carries the marker (else it gets null).
bool holds_marker(value_kind k);

/// For each column of a table, the relation column it comes from (-1 when
/// the relation lacks it, e.g. a change older than an ADD COLUMN).
std::vector<int> map_relation(const pg_relation& rel, const table_schema& t);

/// Whether the relation's columns are exactly the table's, by name, order
/// and type (oid and modifier, where the table knows them): when not, the
/// table's schema may have changed (DDL: columns added, dropped, or of
/// another type, such as int -> bigint or varchar(10) -> varchar(40)) or the
/// table is read with a column filter, and the catalog is asked again.
bool same_columns(const pg_relation& rel, const table_schema& t);

/// Whether a fresh listing of a table differs from the one the run uses in
/// its columns' names, order or types (what the schema dump shows): the
/// test for appending a schema dump.
bool columns_changed(const table_schema& before, const table_schema& now);

/// What changed, for the log: "amount NUMERIC(10,2) -> NUMERIC(12,4), adds
/// note, drops gone".
std::string describe_column_changes(const table_schema& before, const table_schema& now);

/// The table's row from a tuple. An unchanged TOASTed value is taken from
/// `old` when that has it (REPLICA IDENTITY FULL), else it becomes the
/// marker (or null, see holds_marker); `unavailable` counts those.
row project(const pg_tuple& tuple, const std::vector<int>& columns,
            const table_schema& t, const pg_tuple* old = nullptr,
            size_t* unavailable = nullptr);

/// The old image of an update without one (REPLICA IDENTITY DEFAULT and the
/// key unchanged): the key columns of the new row, the rest null, as design
/// section 4 says `before` carries the key only.
row key_only(const row& after, const table_schema& t);

}  // namespace trib
