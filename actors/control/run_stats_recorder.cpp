#include "actors/control/run_stats_recorder.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "actors/log.hpp"
#include "actors/sink/redis_client.hpp"
#include "messages/failure.hpp"

namespace trib {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

}  // namespace

run_stats_recorder::run_stats_recorder(redis_config target, const std::string& group,
                                       const std::string& id, const std::string& data_dir,
                                       bool overwrite, std::chrono::milliseconds interval)
    : target_(std::move(target)),
      key_(stats_key(group, id)),
      file_((std::filesystem::path{data_dir} / id / "stats.json").string()),
      replace_(overwrite),
      interval_(interval) {
  ticker_ = std::thread([this] {
    std::unique_lock<std::mutex> lock{mtx_};
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      flush();
      lock.lock();
    }
  });
}

run_stats_recorder::~run_stats_recorder() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  ticker_.join();
  if (!flush()) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!pending_.empty())
      log::warn("could not add this run's last statistics to " + key_ +
                " (the counts there are short by them)");
  }
}

void run_stats_recorder::written(const std::string& table, const char* phase, const char* op,
                                 uint64_t rows, double lag_s) {
  std::lock_guard<std::mutex> guard{mtx_};
  count_rows(pending_, table, phase, op, rows, lag_s, now_ms());
}

bool run_stats_recorder::flush() {
  std::lock_guard<std::mutex> sending{send_mtx_};
  stats_by_table delta;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    delta.swap(pending_);
  }
  // Nothing written yet: nothing to add, and an --overwrite run that has not
  // written (its lease refused, say) must not touch another run's hash.
  if (delta.empty()) return true;
  try {
    if (!client_) client_ = redis_client::connect(target_);
    std::vector<std::vector<std::string>> cmds{{"MULTI"}};
    if (replace_) cmds.push_back({"DEL", key_});
    for (auto& c : stats_commands(key_, delta)) cmds.push_back(std::move(c));
    cmds.push_back({"EXEC"});
    auto replies = client_->pipeline(cmds);
    for (const auto& r : replies)
      if (r.type == redis_reply::kind::error)
        throw error(classify_redis_error(r.str), r.str);
    if (replies.back().type != redis_reply::kind::array)
      throw error(failure_code::connection, "the transaction was not run");
    replace_ = false;
    auto all = command_or_throw(*client_, {"HGETALL", key_});
    std::vector<std::string> flat;
    for (auto& e : all.elements) flat.push_back(std::move(e.str));
    write_file(stats_json(key_, parse_stats_hash(flat)));
    return true;
  } catch (const std::exception& e) {
    // A lost reply may leave the counts added and kept both: rare, and
    // statistics, not data.
    client_.reset();
    {
      std::lock_guard<std::mutex> guard{mtx_};
      merge_stats(delta, pending_);
      pending_.swap(delta);
    }
    std::string msg = "cannot add run statistics to " + key_ + ": " + e.what();
    if (!warned_) log::warn(msg + " (keeps them and tries again)");
    else log::debug(msg);
    warned_ = true;
    return false;
  }
}

// Replaced whole (a new file renamed over the old), so a reader never sees
// half of it.
void run_stats_recorder::write_file(const std::string& json) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path{file_}.parent_path(), ec);
  auto tmp = file_ + ".new";
  errno = 0;
  std::ofstream out(tmp, std::ios::trunc);
  out << json << "\n";
  out.close();
  if (!out || std::rename(tmp.c_str(), file_.c_str()) != 0) {
    std::string msg =
      "cannot write " + file_ + ": " + (errno ? std::strerror(errno) : "unknown reason");
    if (!file_warned_) log::warn(msg + " (the statistics are in " + key_ + ")");
    else log::debug(msg);
    file_warned_ = true;
  }
}

namespace {

std::mutex installed_mtx;
std::shared_ptr<run_stats_recorder> installed;

}  // namespace

void install_run_stats(std::shared_ptr<run_stats_recorder> recorder) {
  std::lock_guard<std::mutex> guard{installed_mtx};
  installed = std::move(recorder);
}

void note_rows_written(const std::string& table, const char* phase, const char* op,
                       uint64_t rows, double lag_s) {
  std::shared_ptr<run_stats_recorder> r;
  {
    std::lock_guard<std::mutex> guard{installed_mtx};
    r = installed;
  }
  if (r) r->written(table, phase, op, rows, lag_s);
}

}  // namespace trib
