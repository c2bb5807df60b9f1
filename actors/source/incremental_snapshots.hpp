#pragma once
// Incremental snapshots on the change reader's side (DBLog; Debezium's
// incremental snapshots; docs/incremental-snapshots.md). No CAF: the change
// reader owns one and calls it on its own thread.
//
// One chunk at a time: write the low watermark, read the chunk (the rows
// after the table's last key, in key order), write the high watermark. The
// reader then meets the watermarks in the change log: every change between
// them is noted (incremental_window), and at the high watermark the rows no
// change touched go into that transaction as snapshot rows, followed by a
// marker that moves the table's progress (its last key, or done) in the
// stream's checkpoint. The watermarks are rows of a small table of the
// source, whose changes never reach a stream.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/control/incremental_window.hpp"
#include "conf/config.hpp"
#include "messages/change.hpp"
#include "messages/table.hpp"

namespace trib {

/// The watermark table's name, in the heartbeat's schema (`public` when
/// none): `<schema>.replicate_io_cdc_watermark`, columns `id` TEXT PRIMARY
/// KEY (the replication's group/id) and `mark` TEXT.
table_id watermark_table(const source_config& source, const extractor_config& ex);

/// The signal table's id (realtime.signal-table; schema `public` when none).
table_id signal_table(const source_config& source, const signal_table_config& cfg);

/// Whether `t` is the watermark table (PostgreSQL) or the configured signal
/// table: tables a run writes or reads for itself, never replicated.
bool is_incremental_table(const source_config& source, const extractor_config& ex,
                          const table_id& t);

/// The tables a signal row names, when it asks for an incremental snapshot
/// (type `execute-snapshot`, data `{"data-collections": [...]}`); empty for
/// other types. Throws trib::error{bad_data} on data that is not that JSON.
std::vector<std::string> signal_collections(const std::string& type, const std::string& data);

/// Whether a signal's collection ("db.schema.table", "schema.table" or
/// "table", `public` implied) names `t`.
bool collection_names(const std::string& collection, const table_id& t);

/// What an incremental snapshot does to the source: the one place that
/// talks to it, so that the logic below runs on doubles in tests.
class chunk_source {
public:
  virtual ~chunk_source() = default;
  /// Writes a watermark in a transaction of its own.
  virtual void write_mark(const std::string& mark) = 0;
  /// Up to `limit` rows of `t` after key `after` (order_columns cells;
  /// empty: from the start), in key order, as the source holds them now.
  virtual std::vector<row> read(const table_schema& t, const std::vector<std::string>& after,
                                size_t limit) = 0;
};

/// PostgreSQL: creates the watermark table when missing (a user who may not
/// gets a config error with the CREATE TABLE to run), writes watermarks on
/// one connection and reads chunks on another.
std::unique_ptr<chunk_source> make_pg_chunk_source(const source_config& source,
                                                   const extractor_config& ex,
                                                   const filter_config& filter,
                                                   const std::string& replication);

/// The incremental snapshots of one change reader.
class incremental_snapshots {
public:
  /// `nonce` makes this run's watermarks its own (a log read again after a
  /// restart holds an earlier run's, which are passed over).
  /// `open` makes the chunk source on first use (a failure to is thrown
  /// from start_chunk).
  incremental_snapshots(std::function<std::unique_ptr<chunk_source>()> open, std::string nonce,
                        size_t chunk_rows);
  ~incremental_snapshots();

  /// Queues a snapshot of plan table `table`, going on after key `after`
  /// (empty: from the start). A table queued or running already is left
  /// as it is (returns false).
  bool add(uint32_t table, std::vector<std::string> after);

  /// Whether a table waits or a chunk is open.
  bool busy() const { return open_.has_value() || !queue_.empty(); }
  /// Whether start_chunk would read a chunk now.
  bool ready() const { return !open_.has_value() && !queue_.empty(); }

  /// When no chunk is open and a table waits: reads its next chunk between
  /// two new watermarks. `tables`: the run's tables by plan index.
  void start_chunk(const std::vector<table_schema>& tables);

  /// A change of a replicated table read from the log: noted when it falls
  /// into the open chunk's window.
  void note(const row_change& c);

  /// A watermark read from the log at `at`. At the open chunk's high
  /// watermark: the changes to put into that transaction (snapshot rows
  /// that no change of the window touched, then the progress marker), and
  /// the chunk is closed. Otherwise nothing.
  std::vector<row_change> on_mark(const std::string& mark, const change_source& at);

  /// The changes of the last closed chunk went out to the dispatcher.
  void sent() { unsent_ = false; }
  /// What was decoded and not sent is lost (a reconnect): a chunk whose
  /// changes were among it is read again, and an open one starts over.
  void lost();

  /// Rows emitted so far (every table), and rows read of `table` in its
  /// current snapshot, for progress.
  uint64_t rows_emitted() const { return rows_emitted_; }
  /// Rows the last closed chunk read.
  uint64_t last_chunk_rows() const { return last_chunk_rows_; }
  uint64_t rows_read(uint32_t table) const {
    auto it = rows_read_.find(table);
    return it == rows_read_.end() ? 0 : it->second;
  }
  /// The table being snapshotted and chunks closed (for logs).
  std::optional<uint32_t> current() const;

private:
  struct job {
    uint32_t table = 0;
    std::vector<std::string> after;
  };
  struct chunk {
    job at;                 // where it started
    std::vector<size_t> key;  // the table's key columns
    std::string low, high;  // its watermarks
    bool window_open = false;
    bool last = false;      // fewer rows than asked: the table's last chunk
    row last_row;
    bool has_rows = false;
    std::unique_ptr<incremental_window> window;
  };

  std::function<std::unique_ptr<chunk_source>()> open_source_;
  std::unique_ptr<chunk_source> source_;
  std::string nonce_;
  size_t chunk_rows_;
  uint64_t seq_ = 0;
  std::deque<job> queue_;
  std::optional<chunk> open_;
  /// The last closed chunk, while its changes may be unsent.
  std::optional<job> closed_;
  bool unsent_ = false;
  uint64_t rows_emitted_ = 0;
  std::map<uint32_t, uint64_t> rows_read_;
  uint64_t last_chunk_rows_ = 0;
};

}  // namespace trib
