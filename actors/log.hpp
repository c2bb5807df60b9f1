#pragma once
// The one logger. Lines go to stderr and, once open_log_files() ran, to
// data/<id>/trace.log (every line) and data/<id>/error.log (warn and error).
// Messages are lower case and start with a verb; row contents only at debug.

#include <string>

namespace trib::log {

enum class level { debug, info, warn, error };

/// Opens <dir>/trace.log and <dir>/error.log for appending (creates dir).
/// A file that cannot be opened or written (a full disk, say) is a warning
/// on stderr, once, and is remembered: see write_failure().
void open_log_files(const std::string& dir);
/// The first log file that could not be opened or written, and why ("" when
/// every line went where it belongs).
std::string write_failure();
void set_level(level l);
void write(level l, const std::string& msg);
/// Writes to the log files only: for a failure that the command line prints
/// itself as its one final message.
void record(level l, const std::string& msg);

inline void debug(const std::string& m) { write(level::debug, m); }
inline void info(const std::string& m) { write(level::info, m); }
inline void warn(const std::string& m) { write(level::warn, m); }
inline void error(const std::string& m) { write(level::error, m); }

}  // namespace trib::log
