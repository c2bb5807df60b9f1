#pragma once
// Blocking access to a source database for the catalog and the snapshot.
// No CAF here: snapshot reader actors (detached, since libpq and the MariaDB
// client block) own one session each. Implementations: postgres_session.cpp,
// mariadb_session.cpp. Failures throw trib::error with a classified code
// (connection, auth, source_state, bad_data, config).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conf/config.hpp"
#include "messages/position.hpp"
#include "messages/row.hpp"
#include "messages/source_facts.hpp"
#include "messages/table.hpp"

namespace trib {

/// Reads the rows of one table in order-column order, a chunk at a time.
class table_reader {
public:
  virtual ~table_reader() = default;
  /// Up to `limit` further rows; an empty result means the table is done.
  virtual std::vector<row> next(size_t limit) = 0;
  /// Rows read earlier and written since: next() refills them rather than
  /// allocating new ones. Keeps at most max_spare_rows (or the limit set
  /// below), and no cell buffer over max_spare_cell_bytes.
  void give_back(std::vector<row>&& rows);
  static constexpr size_t max_spare_rows = 10000;
  static constexpr size_t max_spare_cell_bytes = 256;
  /// Keeps at most `rows` spare rows from now on (at most max_spare_rows):
  /// a reader needs no more than one fetch's worth, and every reader's pool
  /// is memory its budget does not count.
  void limit_spare(size_t rows);
  /// A row for next() to fill with `cells` cells: a given-back one (its
  /// cells keep their text capacity; every cell must be set) or a new one.
  row take_row(size_t cells);

private:
  std::vector<row> spare_;
  size_t spare_limit_ = max_spare_rows;
};

/// Sets `c` to NULL, or to `size` bytes at `text`, reusing c's buffer.
inline void fill_cell(cell& c, const char* text, size_t size) {
  c.null = text == nullptr;
  if (text == nullptr)
    c.text.clear();
  else
    c.text.assign(text, size);
}

/// One connection to a source database.
class source_session {
public:
  virtual ~source_session() = default;

  virtual source_facts facts() = 0;

  /// Tables the user can read that the filter allows (every table when the
  /// filter is empty), with columns restricted to the filter's allowed
  /// columns, keys, estimated row counts, and the extractor's split-key and
  /// row-identifier-key applied. Sorted by table_id.
  virtual std::vector<table_schema> list_tables(const filter_config& filter,
                                                const extractor_config& ex) = 0;

  /// Opens a consistent read-only snapshot on this session and returns the
  /// change-log position it is consistent with (for MariaDB the binlog
  /// snapshot file/position; for PostgreSQL the current WAL LSN).
  virtual source_position begin_snapshot() = 0;

  /// Like begin_snapshot, but adopts a snapshot another connection exported
  /// (PostgreSQL: the name CREATE_REPLICATION_SLOT ... (SNAPSHOT 'export')
  /// returns) so that the rows read match the slot's consistent point `at`
  /// exactly; returns `at`. The exporting connection must keep the snapshot
  /// alive until this returns. Sources without exported snapshots throw
  /// failure_code::internal.
  virtual source_position begin_snapshot_at(const std::string& snapshot_name,
                                            const source_position& at);

  /// Reads `t` (columns as in `t.columns`, in that order) starting after
  /// `after_key` (values of order_columns(t); empty = from the start),
  /// restricted by `conditions` (SQL, may be empty). Tables without order
  /// columns are read in one pass with a server-side cursor. The reader
  /// uses this session and must not outlive it; on MariaDB/MySQL a one-pass
  /// reader streams the result and keeps the session busy (any other call
  /// throws failure_code::internal) until it reaches the end or is destroyed.
  virtual std::unique_ptr<table_reader> open_table(
    const table_schema& t, const std::vector<cell>& after_key,
    const std::string& conditions) = 0;

  /// Ends the snapshot transaction.
  virtual void end_snapshot() = 0;

  /// MIN and MAX of integer column `column` of `t` over the rows that
  /// `conditions` (SQL, may be empty) allow, as decimal text; nullopt when
  /// no row has a value. Plans split-key ranges (extractor
  /// snapshot.per-table-config split-key). The base throws
  /// failure_code::internal.
  virtual std::optional<std::pair<std::string, std::string>> integer_range(
    const table_schema& t, const std::string& column, const std::string& conditions);
};

/// The SQL condition that selects the rows of one split-key range:
/// `column >= lo` (when lo is set) and `column < hi` (when hi is set), in
/// the source's identifier quoting; `with_nulls` also takes the rows whose
/// column is NULL (the first range does, so that no row is left out).
std::string split_range_condition(source_kind kind, const std::string& column,
                                  const std::optional<int64_t>& lo,
                                  const std::optional<int64_t>& hi, bool with_nulls);

/// Connects to the source the config describes; throws trib::error.
std::unique_ptr<source_session> open_source(const source_config& cfg);

}  // namespace trib
