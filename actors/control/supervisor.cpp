#include "actors/control/supervisor.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"

namespace trib {

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Appends the XDEL lines; false (and why) when the file cannot be written.
// The lines go to error.log as well, so they are never lost.
bool append_in_doubt(const std::string& path, const std::vector<std::string>& lines,
                     std::string& why) {
  if (path.empty()) {
    why = "no in-doubt log is set";
    return false;
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::ofstream out(path, std::ios::app);
  for (const auto& l : lines) out << l << '\n';
  out.flush();
  if (!out) {
    why = std::strerror(errno);
    return false;
  }
  return true;
}

void note_in_doubt(supervisor_state& st, const failure_report& r) {
  auto lines = in_doubt_lines(r.stream, r.in_doubt);
  std::string text;
  for (const auto& l : lines) text += "\n  " + l;
  std::string why;
  if (!lines.empty() && append_in_doubt(st.settings.in_doubt_path, lines, why)) {
    log::error("leaves " + std::to_string(r.in_doubt.size()) + " entries of " + r.stream +
               " in doubt (they could not be deleted: " + r.undo_error + "); delete them with "
               "redis-cli < " + st.settings.in_doubt_path + " before --resume:" + text);
  } else if (!lines.empty()) {
    log::error("leaves " + std::to_string(r.in_doubt.size()) + " entries of " + r.stream +
               " in doubt (they could not be deleted: " + r.undo_error +
               ") and cannot write the in-doubt log " + st.settings.in_doubt_path + " (" + why +
               "); delete them before --resume:" + text);
  } else {
    // No IDs: the undo stopped before it could list them; its error says
    // whether the checkpoint went back (then the batch's entries after it
    // are in doubt) or not (then nothing is, the stream holds what it says).
    log::error("cannot undo the failed batch in " + r.stream + " from " + r.at + ": " +
               r.undo_error + "; check the entries after the stream's checkpoint before --resume");
  }
  metrics::add_indoubt_entries(r.in_doubt.size());
}

}  // namespace

supervisor_actor::behavior_type
supervisor(supervisor_actor::stateful_pointer<supervisor_state> self, supervisor_settings settings) {
  self->state.settings = std::move(settings);
  return {
    [=](failure_report& r) -> failure_verdict {
      auto& st = self->state;
      failure_case c;
      c.code = r.reason.code;
      c.failures = r.failures;
      c.undo_failed = r.undo_failed;
      auto v = decide(c, st.settings.rules);
      auto& rec = *st.settings.record;
      std::lock_guard<std::mutex> g{rec.lock};
      rec.undone += r.undone;
      if (r.undone > 0) {
        metrics::add_batch("undone");
        log::warn("undid " + std::to_string(r.undone) + " committed entries of the failed batch "
                  "in " + r.stream + " from " + r.at + ", and wrote its checkpoint back");
      }
      auto code = to_string(r.reason.code);
      auto kind = is_retryable(r.reason.code) ? "retryable" : "permanent";
      switch (v.action) {
        case failure_action::retry:
          ++rec.retries;
          metrics::add_retry(code);
          log::warn("retries the batch of " + r.stream + " from " + r.at + " in " +
                    std::to_string(v.wait_ms) + " ms (" + v.why + ", " + kind + " " + code +
                    "): " + r.reason.what);
          break;
        case failure_action::in_doubt:
          rec.in_doubt += r.in_doubt.size();
          note_in_doubt(st, r);
          [[fallthrough]];
        case failure_action::skip_table: {
          for (const auto& t : r.tables) metrics::add_table_skipped(t);
          auto event = "stops " + joined(r.tables) + " in " + r.stream + " at " + r.at + " (" +
                       kind + " " + code + ": " + r.reason.what + "): " + v.why +
                       "; --resume continues there";
          log::error(event);
          rec.events.push_back(std::move(event));
          break;
        }
        case failure_action::stop_run:
          if (r.undo_failed) {
            rec.in_doubt += r.in_doubt.size();
            note_in_doubt(st, r);
          }
          log::error("stops the run at " + r.stream + " from " + r.at + " (" + kind + " " +
                     code + ": " + r.reason.what + "): " + v.why);
          break;
      }
      return v;
    },
  };
}

}  // namespace trib
