#include "actors/control/checkpoint_math.hpp"

#include <iterator>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "actors/apply/envelope.hpp"
#include "actors/source/pg_text.hpp"
#include "messages/failure.hpp"
#include "messages/position.hpp"

namespace trib {

std::string encode_stream_checkpoint(const stream_checkpoint& c) {
  std::string out =
    "{\"commit\":" + std::to_string(c.commit) + ",\"index\":" + std::to_string(c.index);
  if (!c.snapshots.empty()) {
    boost::json::object snaps;
    for (const auto& [table, p] : c.snapshots) {
      boost::json::array after;
      for (const auto& k : p.after) after.emplace_back(k);
      snaps[table] = boost::json::object{{"after", std::move(after)}, {"done", p.done}};
    }
    out += ",\"snapshots\":" + boost::json::serialize(snaps);
  }
  return out + "}";
}

stream_checkpoint decode_stream_checkpoint(const std::string& text) {
  try {
    auto v = boost::json::parse(text);
    const auto& o = v.as_object();
    stream_checkpoint c;
    if (const auto* commit = o.if_contains("commit"))
      c.commit = commit->to_number<uint64_t>();
    else
      c.commit = pg_parse_lsn(std::string(o.at("lsn").as_string()));
    auto index = o.at("index").to_number<int64_t>();
    if (index < 0) throw std::invalid_argument("negative index");
    c.index = static_cast<uint64_t>(index);
    if (const auto* snaps = o.if_contains("snapshots")) {
      for (const auto& [table, v] : snaps->as_object()) {
        snapshot_progress p;
        for (const auto& k : v.as_object().at("after").as_array())
          p.after.emplace_back(k.as_string());
        p.done = v.as_object().at("done").as_bool();
        c.snapshots[std::string(table)] = std::move(p);
      }
    }
    return c;
  } catch (const std::exception& e) {
    throw error(failure_code::bad_data,
                "malformed change stream checkpoint '" + text.substr(0, 80) + "': " + e.what());
  }
}

namespace {

// Orders two checkpoints of the kind `decode` reads: whether `now` is at or
// past `acknowledged`; nullopt when `acknowledged` is not of that kind. A
// `now` of another kind is not past it.
template <class Decode, class Past>
std::optional<bool> at_or_past(const std::string& acknowledged, const std::string& now,
                               Decode decode, Past past) {
  decltype(decode(acknowledged)) a;
  try {
    a = decode(acknowledged);
  } catch (const error&) {
    return std::nullopt;
  }
  try {
    return past(a, decode(now));
  } catch (const error&) {
    return false;
  }
}

}  // namespace

std::optional<std::string> checkpoint_behind(const std::string& acknowledged,
                                             const std::optional<std::string>& now) {
  if (!now) return std::string("nothing");
  if (*now == acknowledged) return std::nullopt;
  auto ok = at_or_past(acknowledged, *now, decode_snapshot_checkpoint,
                       [](const snapshot_position& a, const snapshot_position& n) {
                         return n.done || (!a.done && n.rows_done >= a.rows_done);
                       });
  if (!ok)
    ok = at_or_past(acknowledged, *now, decode_stream_checkpoint,
                    [](const stream_checkpoint& a, const stream_checkpoint& n) {
                      return n.commit > a.commit || (n.commit == a.commit && n.index >= a.index);
                    });
  // Neither kind: equal values were handled above, others are not ordered.
  if (!ok || *ok) return std::nullopt;
  return *now;
}

txn_tracker::txn& txn_tracker::find_or_add(uint64_t commit) {
  // Kept in commit order whatever order the streams' batches go out in; the
  // newest transaction is almost always the one asked for.
  auto it = txns_.end();
  while (it != txns_.begin() && std::prev(it)->commit >= commit) {
    --it;
    if (it->commit == commit) return *it;
  }
  return *txns_.insert(it, txn{commit, 0, 0, false});
}

void txn_tracker::add_part(uint64_t commit) { ++find_or_add(commit).outstanding; }

void txn_tracker::commit(uint64_t commit, uint64_t release) {
  auto& t = find_or_add(commit);
  t.release = release;
  t.committed = true;
}

void txn_tracker::ack(uint64_t commit) {
  for (auto& t : txns_)
    if (t.commit == commit) {
      if (t.outstanding > 0) --t.outstanding;
      return;
    }
}

void txn_tracker::discard_open() {
  for (auto it = txns_.begin(); it != txns_.end();)
    it = it->committed ? std::next(it) : txns_.erase(it);
}

void txn_tracker::hold(uint64_t commit) {
  if (commit > 0 && (hold_ == 0 || commit < hold_)) hold_ = commit;
}

uint64_t txn_tracker::advance() {
  while (!txns_.empty() && txns_.front().committed && txns_.front().outstanding == 0) {
    bool releasable = hold_ == 0 || txns_.front().commit < hold_;
    if (releasable && txns_.front().release > confirmed_) confirmed_ = txns_.front().release;
    txns_.pop_front();
  }
  return confirmed_;
}

}  // namespace trib
