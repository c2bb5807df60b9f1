#pragma once
// The one logger. Lines go to stderr and, once open_log_files() ran, to
// data/<id>/trace.log (every line) and data/<id>/error.log (warn and error).
// Messages are lower case and start with a verb; row contents only at debug.

#include <cstddef>
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

/// On a terminal: text kept at the bottom of stderr (the progress board).
/// Log lines scroll above it, and each one redraws it below them, so earlier
/// copies never pile up in the scrollback. Replaces `owner`'s footer on
/// screen ("" erases it); a footer of another owner stays on screen as
/// ordinary lines (the snapshot's board when a `full` run starts streaming).
void set_footer(const void* owner, const std::string& text);
/// Forgets `owner`'s footer without erasing it: its last state stays on
/// screen as ordinary lines. Nothing when another owner's footer is shown.
void release_footer(const void* owner);
/// The bytes that move up over a footer of `footer_lines` lines (the cursor
/// at the start of the line below it), clear to the end of the screen, and
/// write `above` (whole lines) then `footer`.
std::string redraw(size_t footer_lines, const std::string& above, const std::string& footer);

inline void debug(const std::string& m) { write(level::debug, m); }
inline void info(const std::string& m) { write(level::info, m); }
inline void warn(const std::string& m) { write(level::warn, m); }
inline void error(const std::string& m) { write(level::error, m); }

}  // namespace trib::log
