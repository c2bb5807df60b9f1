#pragma once
// The schema dump (design section 5): the value written with key "schema" to
// replicate_io_replication_schema_<group>_<id> at the start of every run, in
// the structure of Arcion's dump (Java collection tags included, because
// existing consumers parse them), and its conversion to schemas.yaml for
// `tributary fetch-schemas`. Pure code, no CAF.

#include <string>
#include <vector>

#include "conf/config.hpp"
#include "messages/table.hpp"

namespace trib {

/// JSON text of the dump for the given tables, grouped by catalog and schema.
std::string schema_dump_json(const std::vector<table_schema>& tables,
                             source_kind kind);

/// Reads a dump back (throws trib::error{bad_data} naming what is malformed).
/// Only the fields the dump carries are filled.
std::vector<table_schema> parse_schema_dump(const std::string& json,
                                            source_kind* kind = nullptr);

/// schemas.yaml text for the tables the filter allows (all when not given).
std::string schemas_yaml(const std::vector<table_schema>& tables,
                         source_kind kind, const filter_config& filter);

/// Whether the filter allows the table (an empty filter allows everything).
bool filter_allows(const filter_config& filter, const table_id& t);

}  // namespace trib
