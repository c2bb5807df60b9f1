#include "actors/node/stage_orders.hpp"

#include "actors/control/checkpoint_math.hpp"

namespace trib {

writer_order to_order(const redis_writer_settings& s) {
  return writer_order{s.trim, s.max_consumer_lag};
}

redis_writer_settings from_order(const writer_order& o) {
  redis_writer_settings s;
  s.trim = o.trim;
  s.max_consumer_lag = o.max_consumer_lag;
  return s;
}

table_applier_order to_order(uint32_t table, const table_schema& t,
                             const table_applier_settings& s) {
  table_applier_order o;
  o.table = table;
  o.schema = t;
  o.applier = s.applier;
  o.map = s.map;
  o.facts = s.facts;
  o.max_write_bytes = s.max_write_bytes;
  o.max_writes_in_flight = s.max_writes_in_flight;
  o.max_entry_bytes = s.max_entry_bytes;
  return o;
}

table_applier_settings from_order(const table_applier_order& o, const node_setup& setup) {
  table_applier_settings s;
  s.applier = o.applier;
  s.map = o.map;
  s.group = setup.group;
  s.id = setup.id;
  s.facts = o.facts;
  s.max_write_bytes = static_cast<size_t>(o.max_write_bytes);
  s.max_writes_in_flight = static_cast<size_t>(o.max_writes_in_flight);
  s.max_entry_bytes = o.max_entry_bytes;
  return s;
}

snapshot_reader_order to_order(uint32_t table, const table_schema& t,
                               const snapshot_reader_settings& s) {
  snapshot_reader_order o;
  o.table = table;
  o.schema = t;
  o.fetch_size_rows = s.fetch_size_rows;
  o.batch_size_rows = s.batch_size_rows;
  o.max_in_flight = s.max_in_flight;
  o.max_in_flight_bytes = s.max_in_flight_bytes;
  o.max_batch_bytes = s.max_batch_bytes;
  o.range = s.range;
  o.ranges = s.ranges;
  o.conditions = s.conditions;
  o.start = s.start;
  o.exported_snapshot = s.exported_snapshot;
  o.exported_at = s.exported_at;
  o.one_snapshot = s.one_snapshot;
  return o;
}

snapshot_reader_settings from_order(const snapshot_reader_order& o, const node_setup& setup) {
  snapshot_reader_settings s;
  s.source = setup.source;
  s.fetch_size_rows = static_cast<size_t>(o.fetch_size_rows);
  s.batch_size_rows = static_cast<size_t>(o.batch_size_rows);
  s.max_in_flight = static_cast<size_t>(o.max_in_flight);
  s.max_in_flight_bytes = static_cast<size_t>(o.max_in_flight_bytes);
  s.max_batch_bytes = static_cast<size_t>(o.max_batch_bytes);
  s.range = o.range;
  s.ranges = o.ranges;
  s.conditions = o.conditions;
  s.start = o.start;
  s.exported_snapshot = o.exported_snapshot;
  s.exported_at = o.exported_at;
  s.one_snapshot = o.one_snapshot;
  return s;
}

change_applier_order to_order(const change_applier_settings& s) {
  change_applier_order o;
  o.stream = s.stream;
  o.stream_name = s.stream_name;
  o.checkpoint_field = s.checkpoint_field;
  o.tables = s.tables;
  o.carries = s.carries;
  o.message = s.message;
  o.facts = s.facts;
  if (s.start.commit != 0 || !s.start.snapshots.empty())
    o.start_checkpoint = encode_stream_checkpoint(s.start);
  o.max_entry_bytes = s.max_entry_bytes;
  o.max_write_bytes = s.max_write_bytes;
  o.max_writes_in_flight = s.max_writes_in_flight;
  o.max_write_rows = s.max_write_rows;
  return o;
}

change_applier_settings from_order(const change_applier_order& o, const node_setup& setup) {
  change_applier_settings s;
  s.stream = o.stream;
  s.stream_name = o.stream_name;
  s.checkpoint_field = o.checkpoint_field;
  s.group = setup.group;
  s.id = setup.id;
  s.tables = o.tables;
  s.carries = o.carries;
  s.message = o.message;
  s.facts = o.facts;
  if (!o.start_checkpoint.empty()) s.start = decode_stream_checkpoint(o.start_checkpoint);
  s.max_entry_bytes = o.max_entry_bytes;
  s.max_write_bytes = static_cast<size_t>(o.max_write_bytes);
  s.max_writes_in_flight = static_cast<size_t>(o.max_writes_in_flight);
  s.max_write_rows = static_cast<size_t>(o.max_write_rows);
  return s;
}

}  // namespace trib
