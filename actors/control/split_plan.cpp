// Split-key range planning: bounds from the checkpoint or the source's
// MIN/MAX, stored before any row. See split_plan.hpp.

#include "actors/control/split_plan.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include <boost/json.hpp>

#include "actors/apply/envelope.hpp"
#include "actors/control/coordinator.hpp"
#include "actors/control/redis_setup.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/log.hpp"
#include "actors/sink/checkpoint_hashes.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/source/snapshot_reader.hpp"
#include "actors/source/source_session.hpp"

namespace trib {

namespace {

bool is_integer_kind(value_kind k) {
  switch (k) {
    case value_kind::int8: case value_kind::int16: case value_kind::int32:
    case value_kind::int64: case value_kind::uint8: case value_kind::uint16:
    case value_kind::uint32: case value_kind::uint64: case value_kind::year:
      return true;
    default:
      return false;
  }
}

std::optional<int64_t> parse_int64(const std::string& text) {
  int64_t v = 0;
  auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

std::vector<int64_t> split_bounds(int64_t lo, int64_t hi, size_t n) {
  std::vector<int64_t> bounds;
  long double width = static_cast<long double>(hi) - static_cast<long double>(lo) + 1;
  if (n > width) n = static_cast<size_t>(width);
  // Computed in long double (64-bit mantissa): an offset from lo may not fit
  // in int64_t, the bound itself always does. Steps are at least 1, so the
  // floors rise strictly and stay in (lo, hi].
  for (size_t k = 1; k < n; ++k)
    bounds.push_back(static_cast<int64_t>(
      std::floor(static_cast<long double>(lo) + width * static_cast<long double>(k) / n)));
  return bounds;
}

namespace {

std::string encode_range_plan(const std::string& column, const std::vector<int64_t>& bounds) {
  boost::json::object o;
  o["split_key"] = column;
  boost::json::array a;
  for (auto b : bounds) a.push_back(b);
  o["bounds"] = std::move(a);
  return boost::json::serialize(o);
}

std::vector<int64_t> decode_range_plan(const std::string& text) {
  std::vector<int64_t> bounds;
  try {
    auto v = boost::json::parse(text);
    for (const auto& b : v.at("bounds").as_array()) bounds.push_back(b.to_number<int64_t>());
  } catch (const std::exception& e) {
    throw error(failure_code::bad_data, "malformed split-key plan in the checkpoint: " + text);
  }
  return bounds;
}

std::string range_plan_field(const std::string& stream) { return stream + "#ranges"; }

}  // namespace

// Which tables get split, with their bounds: from the checkpoint when a
// resumed run stored them, else from the source's MIN/MAX (stored here,
// before any row is written).
bool splits_in_full(source_kind kind) { return kind == source_kind::postgresql; }

bool splits_in_full(source_kind kind, const table_schema& t) {
  if (splits_in_full(kind)) return true;
  for (size_t i : key_columns(t))
    if (t.columns[i].name == t.split_key) return true;
  return false;
}

void plan_split_ranges(const run_options& opts, const std::string& ckpt,
                       snapshot_plan& plan, redis_setup& redis) {
  const auto& tables = plan.tables;
  plan.ranges.assign(tables.size(), {});
  size_t threads = static_cast<size_t>(std::max(opts.extractor.snapshot.threads, 1));
  std::vector<size_t> candidates;
  for (size_t i = 0; i < tables.size(); ++i) {
    const auto& t = tables[i];
    if (t.split_key.empty()) continue;
    int col = column_index(t, t.split_key);
    if (col < 0 || !is_integer_kind(t.columns[static_cast<size_t>(col)].kind)) {
      log::warn("reads " + to_string(t.id) + " whole: its split-key " + t.split_key +
                " is not an integer column");
      continue;
    }
    candidates.push_back(i);
  }
  if (candidates.empty()) return;
  // Stored plans (resumed runs) and stream checkpoints of unsplit reads.
  std::vector<std::optional<std::vector<int64_t>>> stored(tables.size());
  std::vector<bool> read_whole_before(tables.size(), false);
  redis.run("reading split-key plans", [&](redis_client& c) {
    for (auto i : candidates) {
      auto stream = snapshot_stream_name(tables[i].id, opts.map);
      auto hash = checkpoint_hash(c, ckpt, stream);
      auto r = command_or_throw(c, {"HGET", hash, range_plan_field(stream)});
      if (r.type == redis_reply::kind::string) stored[i] = decode_range_plan(r.str);
      auto whole = command_or_throw(c, {"HEXISTS", hash, stream});
      read_whole_before[i] = whole.integer > 0;
    }
  });
  std::vector<std::optional<std::vector<int64_t>>> fresh(tables.size());
  bool need_source = false;
  for (auto i : candidates)
    need_source = need_source || (!stored[i] && !read_whole_before[i] && threads > 1);
  if (need_source) {
    with_retries(retry_policy_for(opts.source), "finding split-key ranges", [&] {
      auto src = open_source(opts.source);
      for (auto i : candidates) {
        if (stored[i] || read_whole_before[i] || fresh[i]) continue;
        const auto& t = tables[i];
        auto mm = src->integer_range(t, t.split_key, filter_conditions(opts.filter, t.id));
        std::optional<int64_t> lo, hi;
        if (mm) {
          lo = parse_int64(mm->first);
          hi = parse_int64(mm->second);
        }
        fresh[i] = lo && hi && *hi > *lo ? split_bounds(*lo, *hi, threads)
                                         : std::vector<int64_t>{};
      }
      return 0;
    });
  }
  redis.run("storing split-key plans", [&](redis_client& c) {
    for (auto i : candidates) {
      const auto& t = tables[i];
      auto stream = snapshot_stream_name(t.id, opts.map);
      if (read_whole_before[i] && !stored[i]) {
        log::info("reads " + to_string(t.id) + " whole: an earlier run began it unsplit");
        continue;
      }
      std::vector<int64_t> bounds;
      if (stored[i]) {
        bounds = *stored[i];
      } else if (fresh[i] && !fresh[i]->empty()) {
        bounds = *fresh[i];
        // Idempotent: a retry after a lost reply writes the same value.
        command_or_throw(c, {"HSET", checkpoint_hash(c, ckpt, stream), range_plan_field(stream),
                             encode_range_plan(t.split_key, bounds)});
      } else {
        continue;  // one thread, an empty table or a single key value
      }
      std::vector<split_range> ranges(bounds.size() + 1);
      for (size_t r = 0; r < ranges.size(); ++r) {
        if (r > 0) ranges[r].lo = bounds[r - 1];
        if (r < bounds.size()) ranges[r].hi = bounds[r];
        if (!opts.resume) continue;
        auto cp = command_or_throw(
          c, {"HGET", checkpoint_hash(c, ckpt, stream), stream + "#" + std::to_string(r + 1)});
        if (cp.type == redis_reply::kind::string)
          ranges[r].start = decode_snapshot_checkpoint(cp.str);
      }
      log::info("splits " + to_string(t.id) + " into " + std::to_string(ranges.size()) +
                " ranges of " + t.split_key);
      plan.ranges[i] = std::move(ranges);
    }
  });
}

bool snapshot_finished(const std::map<std::string, std::string>& checkpoint,
                       const std::string& stream) {
  auto done = [&](const std::string& field) {
    auto it = checkpoint.find(field);
    return it != checkpoint.end() && decode_snapshot_checkpoint(it->second).done;
  };
  if (done(stream)) return true;
  auto plan = checkpoint.find(range_plan_field(stream));
  if (plan == checkpoint.end()) return false;
  size_t ranges = decode_range_plan(plan->second).size() + 1;
  for (size_t r = 1; r <= ranges; ++r)
    if (!done(stream + "#" + std::to_string(r))) return false;
  return true;
}

}  // namespace trib
