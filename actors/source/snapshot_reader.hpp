#pragma once
// A snapshot reader: one per table, detached (source clients block), with a
// session of its own. Include only from actor .cpp files (pulls in CAF).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/actors.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/source/source_session.hpp"
#include "actors/tuning.hpp"
#include "conf/config.hpp"

namespace trib {

/// What a reader needs besides its table.
struct snapshot_reader_settings {
  source_config source;
  /// Rows per source fetch (extractor snapshot.fetch-size-rows).
  size_t fetch_size_rows = 5000;
  /// Rows per batch to the applier (applier snapshot.batch-size-rows).
  size_t batch_size_rows = 5000;
  /// Batches sent but not yet acknowledged, at most.
  size_t max_in_flight = tuning::snapshot_reader_batches_in_flight;
  /// Bytes of rows (row_bytes) sent but not yet acknowledged, at most; one
  /// batch always may go. Rows are counted, not entries: the applier builds
  /// entries only for the writes in flight (table_applier_settings).
  size_t max_in_flight_bytes = 32u << 20;
  /// A batch ends at batch_size_rows or once its rows reach this many bytes,
  /// whichever comes first, so that wide rows make smaller batches.
  size_t max_batch_bytes = 8u << 20;
  /// A split-key range: its number (1-based; 0 = the whole table) and how
  /// many ranges of the table are read in this run (see row_batch).
  uint32_t range = 0;
  uint32_t ranges = 1;
  /// The filter's row condition for this table (SQL, may be empty).
  std::string conditions;
  /// Where to start: the checkpoint of a resumed run, or empty.
  snapshot_position start;
  /// full mode: the snapshot the slot exported (CREATE_REPLICATION_SLOT ...
  /// SNAPSHOT 'export') and its consistent point; when set, the session
  /// adopts it (begin_snapshot_at) so the rows match the slot's stream.
  std::string exported_snapshot;
  source_position exported_at;
  /// full mode on MySQL/MariaDB: every row must come from the one
  /// consistent snapshot whose binlog position the batches carry, since the
  /// binlog reader drops the table's changes logged before it
  /// (docs/binlog.md). A session lost after rows were read cannot continue
  /// in a new snapshot, so the table is skipped (source_state).
  bool one_snapshot = false;
  /// Opens a session; open_source unless a test puts a double here.
  std::function<std::unique_ptr<source_session>(const source_config&)> open =
    open_source;
};

struct snapshot_reader_state {
  static inline const char* name = "snapshot_reader";

  uint32_t table = 0;
  table_schema schema;
  snapshot_reader_settings settings;
  retry_policy policy;
  table_applier_actor applier;
  coordinator_actor coordinator;

  std::unique_ptr<source_session> session;
  std::unique_ptr<table_reader> reader;
  /// Where the table's change log stood when the snapshot began.
  source_position source;
  /// Read from the source, not yet sent, and their row_bytes.
  std::vector<row> buffer;
  /// row_bytes of each row of `buffer`, computed once as it is read.
  std::vector<size_t> buffer_row_bytes;
  size_t buffer_bytes = 0;
  /// Order-column values of the last row read: a reopened session continues
  /// after it. Rows already sent are not read again, because the applier
  /// writes them whatever happens to this reader's session.
  std::vector<cell> last_read_key;
  /// Rows read in this run (a table without order columns cannot resume in
  /// the middle: it is read in one pass).
  uint64_t rows_read = 0;
  /// row_bytes of the rows read, for their average size.
  uint64_t bytes_read = 0;
  /// The position the next batch extends.
  snapshot_position sent;
  uint64_t next_seq = 0;
  size_t in_flight = 0;
  /// row_bytes of the batches sent and not acknowledged, by seq.
  std::map<uint64_t, size_t> in_flight_batches;
  size_t in_flight_bytes = 0;
  /// The source returned no more rows.
  bool end_of_table = false;
  /// The batch with position.done went out.
  bool final_sent = false;
  /// A read_atom is queued or scheduled.
  bool read_pending = false;
  /// Consecutive failures of the source.
  int failures = 0;
  /// A stop was asked for: nothing more is read or sent.
  bool stopping = false;

  snapshot_reader_state();
  ~snapshot_reader_state();
};


/// Opens its own source session, begins a consistent snapshot, reads the
/// table after settings.start in chunks of fetch-size-rows and sends
/// row_batches of batch-size-rows (or max_batch_bytes) to the applier, with
/// at most max_in_flight batches and max_in_flight_bytes unacknowledged so
/// memory stays flat whatever the rows' width. It reads one chunk ahead so that the
/// final batch (position.done) carries the table's last row; it carries no
/// rows only when the table is empty. Every batch carries the position of
/// begin_snapshot. A retryable source failure reopens the session after the
/// retry policy's wait and continues after the last row read; out of retries,
/// or on a permanent failure, it reports table_done{skipped} to the
/// coordinator and stops. It quits when the final batch is acknowledged, or
/// when the applier refuses a batch (the applier reports that failure). On
/// stop_atom it reads and sends nothing more and quits once the batches it
/// sent are acknowledged, so the checkpoint holds its last row sent.
snapshot_reader_actor::behavior_type
snapshot_reader(snapshot_reader_actor::stateful_pointer<snapshot_reader_state> self,
                uint32_t table, table_schema schema,
                snapshot_reader_settings settings, table_applier_actor applier,
                coordinator_actor coordinator);

/// The filter's row condition for `t` ("" when none).
std::string filter_conditions(const filter_config& filter, const table_id& t);

}  // namespace trib
