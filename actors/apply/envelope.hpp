#pragma once
// Builds the key and value JSON of stream entries (design section 4):
// Kafka-Connect documents {"schema": ..., "payload": ...}, schemas computed
// once per table, payload values typed by the column's value_kind. Pure code,
// no CAF, one Boost.JSON.

#include <cstdint>
#include <memory>
#include <string>

#include "actors/source/source_session.hpp"
#include "conf/config.hpp"
#include "messages/batch.hpp"
#include "messages/position.hpp"
#include "messages/row.hpp"
#include "messages/table.hpp"

namespace trib {

/// Where a snapshot row sits in the snapshot: "true", or "last" for the last
/// row of the last table (Debezium's convention).
enum class snapshot_mark { yes, last };

class envelope_builder {
public:
  envelope_builder(const table_schema& t, const message_config& m,
                   const source_facts& facts);
  ~envelope_builder();
  envelope_builder(envelope_builder&&) noexcept;

  /// The entry for one snapshot row (op "r" / "READ"). `now_ms` is the
  /// processing time that goes into payload.ts_ms.
  stream_entry snapshot_entry(const row& r, const source_position& pos,
                              snapshot_mark mark, int64_t now_ms) const;

  /// The key document alone ("default" when the table has no key columns).
  std::string key(const row& r) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// `<catalog>_<schema>_<table>` with empty parts left out; the map file's
/// delimiter and case apply.
std::string snapshot_stream_name(const table_id& t, const map_config& m = {});
/// The per-table change stream: snapshot name + "_cdc_logs".
std::string cdc_stream_name(const table_id& t, const map_config& m = {});
/// `replicate_io_cdc_logs_<group>_<id>`.
std::string global_cdc_stream_name(const std::string& group,
                                   const std::string& id);
/// `replicate_io_replication_schema_<group>_<id>`.
std::string schema_stream_name(const std::string& group, const std::string& id);
/// The hash holding every stream's checkpoint:
/// `replicate_io_checkpoint_<group>_<id>`.
std::string checkpoint_key(const std::string& group, const std::string& id);

/// Checkpoint values are JSON text; these encode and decode a snapshot
/// position (throws trib::error{bad_data} on malformed text).
std::string encode_snapshot_checkpoint(const snapshot_position& p);
snapshot_position decode_snapshot_checkpoint(const std::string& text);

}  // namespace trib
