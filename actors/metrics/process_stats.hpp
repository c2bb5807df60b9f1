#pragma once
// The process_* metrics Prometheus client libraries conventionally export
// (prometheus-cpp does not): CPU time, memory, threads, open files and start
// time, read from /proc at each scrape. Parsing is separate so it can be
// tested on captured text.

#include <optional>
#include <string>

namespace trib::metrics {

struct process_sample {
  double cpu_seconds = 0;         // user + system
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double threads = 0;
  double start_time_seconds = 0;  // since the epoch
  double open_fds = 0;
};

/// A sample from the text of /proc/<pid>/stat; `boot_time_s` is /proc/stat's
/// btime. nullopt when the text is not such a line.
std::optional<process_sample> parse_proc_stat(const std::string& stat, long ticks_per_second,
                                              long page_size, double boot_time_s);

/// The `btime` of /proc/stat's text, or nullopt.
std::optional<double> parse_boot_time(const std::string& proc_stat);

/// This process now (zeros for what /proc does not give).
process_sample sample_this_process();

}  // namespace trib::metrics
