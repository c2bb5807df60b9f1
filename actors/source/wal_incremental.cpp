#include "actors/source/wal_incremental.hpp"

#include "actors/control/progress.hpp"
#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"
#include "messages/position.hpp"

namespace trib::wal_detail {

// The watermark and the signal table are not replicated: their rows drive
// incremental snapshots. Returns whether `rel` is one of them.
bool incremental_relation(wal_reader_state& st, const pg_relation& rel, const std::string& schema) {
  auto column = [&](const char* name) {
    for (size_t i = 0; i < rel.columns.size(); ++i)
      if (rel.columns[i].name == name) return static_cast<int>(i);
    return -1;
  };
  auto wm = watermark_table(st.settings.source, st.settings.extractor);
  if (rel.name == wm.table && schema == wm.schema) {
    st.watermark_relation = rel.id;
    st.mark_column = column("mark");
    return true;
  }
  const auto& sg = st.settings.extractor.realtime.signal_table;
  if (!sg.given()) return false;
  auto id = signal_table(st.settings.source, sg);
  if (rel.name != id.table || schema != id.schema) return false;
  st.signal_relation = rel.id;
  st.signal_id_column = column("id");
  st.signal_type_column = column("type");
  st.signal_data_column = column("data");
  return true;
}

// A watermark: at the open chunk's high one, its rows go into this
// transaction (incremental_snapshots).
std::vector<row_change> on_watermark(wal_reader_state& st, const pg_change& ch, uint64_t lsn) {
  std::vector<row_change> none;
  if (!ch.new_tuple || st.mark_column < 0) return none;
  const auto& cells = ch.new_tuple->values.cells;
  if (static_cast<size_t>(st.mark_column) >= cells.size()) return none;
  change_source at;
  at.position.lsn = lsn;
  at.xid = st.txn.xid;
  auto table = st.snapshots->current();
  auto out = st.snapshots->on_mark(cells[st.mark_column].text, at);
  if (out.empty() || !table) return out;
  log::debug("closes a chunk at " + format_lsn(lsn) + ": " + std::to_string(out.size()) +
             " changes");
  // Progress as for ordinary snapshots: rows read of the estimate.
  const auto& t = st.settings.tables.at(*table);
  auto name = to_string(t.id);
  auto read = st.snapshots->rows_read(*table);
  if (!st.progress) st.progress = std::make_shared<progress_board>(false, std::chrono::seconds(10));
  // Started once per snapshot: its rate counts from the first chunk.
  if (read == st.snapshots->last_chunk_rows()) st.progress->start(name, t.estimated_rows);
  st.progress->advance(name, read);
  metrics::set_snapshot_rows(name, read, t.estimated_rows);
  for (auto& c : out) {
    if (c.op == change_op::read && !c.has_after && !c.has_before) {
      log::info("finishes the incremental snapshot of " + name + " at " + format_lsn(lsn) +
                " after reading " + std::to_string(read) + " rows");
      st.progress->finish(name);
    }
  }
  st.progress->render();
  return out;
}

// A signal row (Debezium's shape): execute-snapshot queues the tables it
// names. A signal that cannot be read is logged and passed over.
void on_signal(wal_reader_state& st, const pg_change& ch) {
  if (ch.kind != pg_change_kind::insert || !ch.new_tuple) return;
  const auto& cells = ch.new_tuple->values.cells;
  auto text = [&](int i) {
    return i >= 0 && static_cast<size_t>(i) < cells.size() ? cells[i].text : std::string();
  };
  std::string id = text(st.signal_id_column);
  try {
    for (const auto& name : signal_collections(text(st.signal_type_column),
                                               text(st.signal_data_column))) {
      bool found = false;
      for (size_t i = 0; i < st.settings.tables.size(); ++i) {
        if (!collection_names(name, st.settings.tables[i].id)) continue;
        found = true;
        if (st.snapshots->add(static_cast<uint32_t>(i), {}))
          log::info("starts an incremental snapshot of " + to_string(st.settings.tables[i].id) +
                    " on signal " + id);
      }
      if (!found)
        log::warn("passes over signal " + id + ": " + name + " is not a replicated table");
    }
  } catch (const error& e) {
    log::warn("passes over signal " + id + ": " + e.what());
  }
}

}  // namespace trib::wal_detail
