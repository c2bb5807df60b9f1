#pragma once
// The WAL reader's side of incremental snapshots (incremental_snapshots.hpp):
// the watermark and signal tables' relations and rows. Internal to the WAL
// reader (pulls in CAF through wal_reader.hpp).

#include <cstdint>
#include <string>
#include <vector>

#include "actors/source/wal_reader.hpp"

namespace trib::wal_detail {

/// Whether `rel` is the watermark or the signal table (their rows drive
/// incremental snapshots and are never replicated); records its columns.
bool incremental_relation(wal_reader_state& st, const pg_relation& rel, const std::string& schema);

/// A watermark row at `lsn`: at the open chunk's high watermark, the changes
/// that join its transaction (snapshot rows, then the progress marker);
/// logs and shows the snapshot's progress.
std::vector<row_change> on_watermark(wal_reader_state& st, const pg_change& ch, uint64_t lsn);

/// A signal row (Debezium's shape): execute-snapshot queues the tables it
/// names. A signal that cannot be read is logged and passed over.
void on_signal(wal_reader_state& st, const pg_change& ch);

}  // namespace trib::wal_detail
