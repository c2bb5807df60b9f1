#include "actors/control/connection_checks.hpp"

#include "actors/apply/envelope.hpp"
#include "actors/control/run_lease.hpp"
#include "actors/control/slot_ownership.hpp"
#include "actors/sink/redis_checks.hpp"
#include "actors/source/my_checks.hpp"
#include "actors/source/pg_checks.hpp"
#include "actors/source/source_session.hpp"
#include "messages/failure.hpp"

namespace trib {

namespace {

// Runs one server's checks; a failure to connect or to ask becomes a
// MISSING line with the error's words (they name server, user and cause).
// Whether the server answered.
template <class F>
bool run_checks(std::vector<connection_check>& out, const char* what, F&& checks) {
  try {
    auto lines = checks();
    out.insert(out.end(), lines.begin(), lines.end());
    return true;
  } catch (const error& e) {
    out.push_back({what, false, e.what()});
    return false;
  }
}

}  // namespace

std::vector<connection_check> test_connections(const std::optional<source_config>& source,
                                               const std::optional<redis_config>& target,
                                               const connection_test_options& opts) {
  std::vector<connection_check> out;
  std::vector<std::string> table_streams;
  bool tables_known = false;
  if (source) {
    bool answered = run_checks(out, "connection", [&] {
      if (source->kind != source_kind::postgresql) return check_mysql(*source, opts.filter);
      std::string slot = source->replication_slots.empty()
                           ? default_slot_name(opts.group, opts.id)
                           : source->replication_slots.begin()->first;
      std::string publication = source->publication.empty() ? slot : source->publication;
      return check_postgres(*source, slot, publication, opts.filter);
    });
    if (target && answered) {
      run_checks(out, "listing the tables", [&] {
        auto session = open_source(*source);
        for (const auto& t : session->list_tables(opts.filter, extractor_config{})) {
          table_streams.push_back(snapshot_stream_name(t.id, opts.map));
          table_streams.push_back(cdc_stream_name(t.id, opts.map));
        }
        tables_known = true;
        return std::vector<connection_check>{};
      });
    }
  }
  if (target) {
    redis_key_plan plan;
    plan.checkpoint = checkpoint_key(opts.group, opts.id);
    plan.schema_stream = schema_stream_name(opts.group, opts.id);
    plan.lease_keys = {lease_key(opts.group, opts.id),
                       lease_alive_key(opts.group, opts.id, target->cluster)};
    plan.table_streams = table_streams;
    bool answered = run_checks(out, "connection", [&] { return check_redis(*target, plan); });
    if (answered && !tables_known)
      out.push_back({"table streams", true,
                     "not checked: the tables come from the source "
                     "(tributary test-connection SRC.yaml DST.yaml checks both)"});
  }
  return out;
}

}  // namespace trib
