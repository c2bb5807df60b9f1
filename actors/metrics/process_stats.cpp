#include "actors/metrics/process_stats.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <unistd.h>

namespace trib::metrics {

namespace {

std::string slurp(const char* path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

std::optional<process_sample> parse_proc_stat(const std::string& stat, long ticks_per_second,
                                              long page_size, double boot_time_s) {
  // The command name sits in parentheses and may hold spaces and ')': the
  // fields start after the last ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos || ticks_per_second <= 0) return std::nullopt;
  std::istringstream in(stat.substr(close + 1));
  std::vector<std::string> f;
  for (std::string t; in >> t;) f.push_back(t);
  // f[0] is field 3 (state) of proc(5): field N is f[N - 3].
  if (f.size() < 22) return std::nullopt;
  try {
    process_sample s;
    double ticks = static_cast<double>(ticks_per_second);
    s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;  // utime, stime
    s.threads = std::stod(f[17]);
    s.start_time_seconds = boot_time_s + std::stod(f[19]) / ticks;
    s.virtual_bytes = std::stod(f[20]);
    s.resident_bytes = std::stod(f[21]) * static_cast<double>(page_size);
    return s;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<double> parse_boot_time(const std::string& proc_stat) {
  std::istringstream in(proc_stat);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("btime ", 0) == 0) {
      try {
        return std::stod(line.substr(6));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  return std::nullopt;
}

process_sample sample_this_process() {
  static const double boot = parse_boot_time(slurp("/proc/stat")).value_or(0);
  process_sample s = parse_proc_stat(slurp("/proc/self/stat"), ::sysconf(_SC_CLK_TCK),
                                     ::sysconf(_SC_PAGESIZE), boot)
                       .value_or(process_sample{});
  std::error_code ec;
  double fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec))
    ++fds;
  // The directory's own descriptor, open while it is listed, is not the
  // process's.
  s.open_fds = fds > 0 ? fds - 1 : 0;
  return s;
}

}  // namespace trib::metrics
