#include "actors/control/failure_decisions.hpp"

#include <filesystem>

namespace trib {

failure_verdict decide(const failure_case& c, const failure_rules& r) {
  failure_verdict v;
  if (c.code == failure_code::target_lost || c.code == failure_code::config) {
    v.why = std::string(to_string(c.code)) + " stops the whole run";
    return v;
  }
  if (c.undo_failed) {
    if (r.skip_tables_on_failures) {
      v.action = failure_action::in_doubt;
      v.why = "entries of the failed batch could not be deleted; they are listed in the "
              "in-doubt log and the table stops";
    } else {
      v.why = "entries of the failed batch could not be deleted (listed in the in-doubt log) "
              "and skip-tables-on-failures is false";
    }
    return v;
  }
  auto d = r.policy.next(c.failures, c.code);
  if (d.retry) {
    v.action = failure_action::retry;
    v.wait_ms = d.wait.count();
    v.why = "retry " + std::to_string(c.failures) + " of " + std::to_string(r.policy.max_retries);
    return v;
  }
  std::string after = is_retryable(c.code)
                        ? "out of retries (" + std::to_string(r.policy.max_retries) + ")"
                        : std::string("permanent (") + to_string(c.code) + ")";
  if (r.skip_tables_on_failures) {
    v.action = failure_action::skip_table;
    v.why = after + ", so the table is skipped and the others go on";
  } else {
    v.why = after + " and skip-tables-on-failures is false";
  }
  return v;
}

namespace {

// redis-cli splits a line at blanks and unescapes inside double quotes.
std::string cli_word(const std::string& w) {
  bool plain = !w.empty();
  for (unsigned char ch : w)
    if (ch <= ' ' || ch == '"' || ch == '\'' || ch == '\\' || ch >= 0x7f) plain = false;
  if (plain) return w;
  std::string out = "\"";
  for (unsigned char ch : w) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += static_cast<char>(ch);
    } else if (ch < ' ' || ch >= 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[ch >> 4];
      out += hex[ch & 15];
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out + "\"";
}

}  // namespace

std::string in_doubt_log_path(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "bad_rows" / "replicate_io_indoubt_txn_log").string();
}

std::vector<std::string> in_doubt_lines(const std::string& stream,
                                        const std::vector<std::string>& ids, size_t per_line) {
  std::vector<std::string> lines;
  if (per_line == 0) per_line = 1;
  auto head = "XDEL " + cli_word(stream);
  for (size_t i = 0; i < ids.size(); i += per_line) {
    auto line = head;
    for (size_t j = i; j < ids.size() && j < i + per_line; ++j) line += " " + ids[j];
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace trib
