#pragma once
// A stage's settings as the order a worker gets (messages/node.hpp), and
// back on the worker: what crosses is the values, never functions or
// pointers of the coordinator's process (progress board, session opener,
// lease), which the worker puts in from its own. Include only from actor
// .cpp files (pulls in CAF).

#include "actors/apply/change_applier.hpp"
#include "actors/apply/table_applier.hpp"
#include "actors/sink/redis_writer.hpp"
#include "actors/source/snapshot_reader.hpp"
#include "messages/node.hpp"

namespace trib {

writer_order to_order(const redis_writer_settings& s);
/// The writer's lease fence is the worker's (set by the caller).
redis_writer_settings from_order(const writer_order& o);

table_applier_order to_order(uint32_t table, const table_schema& t,
                             const table_applier_settings& s);
/// `setup` gives the replication's group and id.
table_applier_settings from_order(const table_applier_order& o, const node_setup& setup);

snapshot_reader_order to_order(uint32_t table, const table_schema& t,
                               const snapshot_reader_settings& s);
/// `setup` gives the source connection.
snapshot_reader_settings from_order(const snapshot_reader_order& o, const node_setup& setup);

/// Everything but the supervisor, which travels as a handle of its own.
change_applier_order to_order(const change_applier_settings& s);
change_applier_settings from_order(const change_applier_order& o, const node_setup& setup);

}  // namespace trib
