#pragma once
// Sends the run statistics (run_stats.hpp) of a replication: every interval
// and once more at the end, what was counted since the last time is added to
// the Redis hash replicate_io_stats_<group>_<id> in one MULTI/EXEC, and
// data/<id>/stats.json is rewritten from the hash. Counts that could not be
// sent are kept for the next time; a process killed outright loses at most
// one interval's. No CAF here.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "actors/control/run_stats.hpp"
#include "conf/config.hpp"

namespace trib {

class redis_client;

class run_stats_recorder {
public:
  /// `overwrite`: the first statistics sent replace the hash (an
  /// --overwrite run starts them over, as it does the streams).
  run_stats_recorder(redis_config target, const std::string& group, const std::string& id,
                     const std::string& data_dir, bool overwrite,
                     std::chrono::milliseconds interval);
  /// Stops the ticker and sends what is left.
  ~run_stats_recorder();
  run_stats_recorder(const run_stats_recorder&) = delete;
  run_stats_recorder& operator=(const run_stats_recorder&) = delete;

  void written(const std::string& table, const char* phase, const char* op, uint64_t rows,
               double lag_s);
  /// Sends what was counted; false (the counts kept) when Redis refused or
  /// could not be reached.
  bool flush();

private:
  void write_file(const std::string& json);

  redis_config target_;
  std::string key_;
  std::string file_;
  bool replace_;
  std::chrono::milliseconds interval_;
  std::mutex mtx_;
  stats_by_table pending_;
  /// Only the ticker and the destructor send; this orders them.
  std::mutex send_mtx_;
  std::unique_ptr<redis_client> client_;
  bool warned_ = false;
  bool file_warned_ = false;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread ticker_;
};

/// Installs a recorder for the appliers' hook while it lives.
class run_stats_scope {
public:
  explicit run_stats_scope(std::shared_ptr<run_stats_recorder> r) { install_run_stats(std::move(r)); }
  ~run_stats_scope() { install_run_stats(nullptr); }
  run_stats_scope(const run_stats_scope&) = delete;
  run_stats_scope& operator=(const run_stats_scope&) = delete;
};

}  // namespace trib
