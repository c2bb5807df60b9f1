#pragma once
// Builds the key and value JSON of stream entries (design section 4):
// Kafka-Connect documents {"schema": ..., "payload": ...}, schemas computed
// once per table, payload values typed by the column's value_kind. Pure code,
// no CAF, one Boost.JSON.

#include <cstdint>
#include <memory>
#include <string>

#include "messages/source_facts.hpp"
#include "conf/config.hpp"
#include "messages/batch.hpp"
#include "messages/change.hpp"
#include "messages/position.hpp"
#include "messages/row.hpp"
#include "messages/table.hpp"

namespace trib {

/// Where a snapshot row sits in the snapshot: "true", or "last" for the last
/// row of the last table (Debezium's convention).
enum class snapshot_mark { yes, last };

/// Where a change comes from: what its `source` and `transaction` blocks say.
struct change_origin {
  /// The change's place in the log, in the source's words.
  change_source source;
  /// Commit time at the source (source.ts_ms).
  int64_t commit_ms = 0;
  /// transaction.id: the GTID or the PostgreSQL xid as text.
  std::string txn_id;
  /// transaction.total_order: the event's 1-based place in its transaction,
  /// and data_collection_order the same among the transaction's events of
  /// this table.
  int64_t total_order = 1;
  int64_t data_collection_order = 1;
};

/// Builds the stream entries of one table. One builder per actor: the
/// snapshot path keeps a per-write cache inside, so a builder is not to be
/// shared between threads.
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

  /// The key and the value of snapshot_entry, appended to `out` (nothing
  /// else is written to it): the snapshot path builds them straight into
  /// the bytes of its write. On a malformed cell they throw with part of
  /// the document appended; the caller cuts `out` back.
  void append_snapshot_key(std::string& out, const row& r) const;
  void append_snapshot_value(std::string& out, const row& r, const source_position& pos,
                             snapshot_mark mark, int64_t now_ms) const;

  /// The key document alone ("default" when the table has no key columns).
  std::string key(const row& r) const;

  /// The entry for one change. `before` is null for inserts (and for updates
  /// when the source has no old image); `after` is null for deletes; both
  /// are null for truncates, whose key is "default". The key comes from
  /// `after`, else `before`. Throws trib::error{bad_data} on malformed cells.
  stream_entry change_entry(change_op op, const row* before, const row* after,
                            const change_origin& origin, int64_t now_ms) const;

  /// change_entry into `out`, whose strings are overwritten: the realtime
  /// path reuses one entry for every change it encodes.
  void change_entry_into(stream_entry& out, change_op op, const row* before,
                         const row* after, const change_origin& origin,
                         int64_t now_ms) const;

  /// The tombstone that follows a delete: the deleted row's key, value
  /// "default".
  stream_entry tombstone(const row& deleted) const;

  /// Whether an update moves the row to another key (it is then written as
  /// a delete, its tombstone and an insert).
  bool key_changed(const row& before, const row& after) const;

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
