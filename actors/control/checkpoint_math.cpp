#include "actors/control/checkpoint_math.hpp"

#include <iterator>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "actors/source/pg_text.hpp"
#include "messages/failure.hpp"
#include "messages/position.hpp"

namespace trib {

std::string encode_stream_checkpoint(const stream_checkpoint& c) {
  return "{\"lsn\":\"" + format_lsn(c.lsn) + "\",\"index\":" + std::to_string(c.index) + "}";
}

stream_checkpoint decode_stream_checkpoint(const std::string& text) {
  try {
    auto v = boost::json::parse(text);
    const auto& o = v.as_object();
    stream_checkpoint c;
    c.lsn = pg_parse_lsn(std::string(o.at("lsn").as_string()));
    auto index = o.at("index").to_number<int64_t>();
    if (index < 0) throw std::invalid_argument("negative index");
    c.index = static_cast<uint64_t>(index);
    return c;
  } catch (const std::exception& e) {
    throw error(failure_code::bad_data,
                "malformed change stream checkpoint '" + text.substr(0, 80) + "': " + e.what());
  }
}

txn_tracker::txn& txn_tracker::find_or_add(uint64_t commit_lsn) {
  // Kept in commit order whatever order the streams' batches go out in; the
  // newest transaction is almost always the one asked for.
  auto it = txns_.end();
  while (it != txns_.begin() && std::prev(it)->commit_lsn >= commit_lsn) {
    --it;
    if (it->commit_lsn == commit_lsn) return *it;
  }
  return *txns_.insert(it, txn{commit_lsn, 0, 0, false});
}

void txn_tracker::add_part(uint64_t commit_lsn) { ++find_or_add(commit_lsn).outstanding; }

void txn_tracker::commit(uint64_t commit_lsn, uint64_t end_lsn) {
  auto& t = find_or_add(commit_lsn);
  t.end_lsn = end_lsn;
  t.committed = true;
}

void txn_tracker::ack(uint64_t commit_lsn) {
  for (auto& t : txns_)
    if (t.commit_lsn == commit_lsn) {
      if (t.outstanding > 0) --t.outstanding;
      return;
    }
}

void txn_tracker::discard_open() {
  for (auto it = txns_.begin(); it != txns_.end();)
    it = it->committed ? std::next(it) : txns_.erase(it);
}

void txn_tracker::hold(uint64_t commit_lsn) {
  if (commit_lsn > 0 && (hold_ == 0 || commit_lsn < hold_)) hold_ = commit_lsn;
}

uint64_t txn_tracker::advance() {
  while (!txns_.empty() && txns_.front().committed && txns_.front().outstanding == 0) {
    bool releasable = hold_ == 0 || txns_.front().commit_lsn < hold_;
    if (releasable && txns_.front().end_lsn > confirmed_) confirmed_ = txns_.front().end_lsn;
    txns_.pop_front();
  }
  return confirmed_;
}

}  // namespace trib
