#pragma once
// What the configuration loader reads YAML with, shared by its files (conf/
// only): a file being read (`document`), a value with its place for messages
// (`value`), and a map checked against its valid keys (`section`). yaml-cpp
// gives the tree and the marks (0-based line/column); everything else is done
// here so that each problem becomes one line:
// `<file>:<line>:<col>: <key.path>: <problem>`.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "conf/loader.hpp"

namespace trib::conf_detail {

inline std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

inline std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

inline std::string join(const std::vector<std::string>& xs, const char* sep) {
  std::string out;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i > 0) out += sep;
    out += xs[i];
  }
  return out;
}

inline std::string kind_name(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "'" + n.Scalar() + "'";
    default: return "an undefined value";
  }
}

/// One configuration file being read: its name for messages, and the one
/// place where problems become exceptions.
class document {
 public:
  explicit document(std::string file) : file_(std::move(file)) {}

  /// Reads and parses the file; a missing file, an unreadable one and
  /// malformed YAML are all configuration errors naming the file.
  YAML::Node load() const {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(file_, ec))
      throw error{failure_code::config, file_ + ": cannot read: no such file"};
    if (fs::is_directory(file_, ec))
      throw error{failure_code::config, file_ + ": cannot read: is a directory"};
    std::ifstream in(file_, std::ios::binary);
    if (!in)
      throw error{failure_code::config,
                  file_ + ": cannot read: " + std::strerror(errno)};
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
      throw error{failure_code::config,
                  file_ + ": cannot read: " + std::strerror(errno)};
    try {
      return YAML::Load(text.str());
    } catch (const YAML::Exception& e) {
      // A parse error has a place but no key path yet.
      throw error{failure_code::config,
                  position(e.mark) + ": malformed YAML: " + e.msg + tab_hint(text.str(), e.mark)};
    }
  }

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& path,
                         const std::string& problem) const {
    std::string msg = position(mark) + ": ";
    if (!path.empty()) msg += path + ": ";
    throw error{failure_code::config, msg + problem};
  }

  const std::string& file() const { return file_; }

 private:
  /// yaml-cpp reports a tab in the indentation as an "illegal map value" or
  /// similar; name the real cause when the offending lines have one.
  static std::string tab_hint(const std::string& text, const YAML::Mark& m) {
    if (m.is_null()) return "";
    std::istringstream lines(text);
    std::string line;
    for (int n = 0; std::getline(lines, line) && n <= m.line; ++n) {
      if (n + 1 < m.line) continue;  // the error line and the one before it
      size_t indent = line.find_first_not_of(" \t");
      if (line.substr(0, indent).find('\t') != std::string::npos)
        return " (line " + std::to_string(n + 1) + " is indented with a tab; YAML allows only spaces)";
    }
    return "";
  }

  std::string position(const YAML::Mark& m) const {
    // An empty document has no marks; point at its start.
    int line = m.is_null() ? 0 : m.line;
    int col = m.is_null() ? 0 : m.column;
    return file_ + ":" + std::to_string(line + 1) + ":" + std::to_string(col + 1);
  }

  std::string file_;
};

inline std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

/// A value with what is needed to report on it.
struct value {
  const document* doc;
  YAML::Node node;
  std::string path;
  YAML::Mark mark;  // of the value, or of its key when the value has none

  [[noreturn]] void fail(const std::string& problem) const {
    doc->fail(mark, path, problem);
  }

  bool is_null() const { return node.IsNull(); }

  /// The scalar text with every `${NAME}` replaced from the environment.
  std::string text(const char* expected = "a string") const {
    if (!node.IsScalar()) fail(std::string("expected ") + expected + ", got " + kind_name(node));
    const std::string& raw = node.Scalar();
    std::string out;
    size_t i = 0;
    while (i < raw.size()) {
      if (raw.compare(i, 2, "${") != 0) {
        out += raw[i++];
        continue;
      }
      size_t close = raw.find('}', i + 2);
      if (close == std::string::npos) fail("unterminated '${' in '" + raw + "'");
      std::string name = raw.substr(i + 2, close - i - 2);
      bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
      for (char c : name)
        valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      if (!valid) fail("'${" + name + "}' is not a valid environment variable name");
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) fail("environment variable '" + name + "' is not set");
      out += v;
      i = close + 1;
    }
    return out;
  }

  /// A string; an empty value (`password:`) reads as "".
  std::string str() const { return is_null() ? std::string{} : text(); }

  /// An integer within [lo, hi]; `10_000` reads as 10000, as in Arcion's files.
  long long integer(long long lo, long long hi) const {
    std::string t = text("an integer");
    std::string digits;
    for (size_t i = 0; i < t.size(); ++i) {
      char c = t[i];
      if (c == '_') {
        // Only between digits, so "_1" or "1__" are not numbers.
        bool ok = i > 0 && i + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[i - 1])) &&
                  std::isdigit(static_cast<unsigned char>(t[i + 1]));
        if (!ok) fail("expected an integer, got '" + t + "'");
        continue;
      }
      digits += c;
    }
    bool shape = !digits.empty();
    for (size_t i = 0; i < digits.size(); ++i) {
      bool sign = i == 0 && (digits[i] == '-' || digits[i] == '+') && digits.size() > 1;
      shape = shape && (sign || std::isdigit(static_cast<unsigned char>(digits[i])));
    }
    if (!shape) fail("expected an integer, got '" + t + "'");
    errno = 0;
    long long n = std::strtoll(digits.c_str(), nullptr, 10);
    if (errno == ERANGE || n < lo || n > hi) {
      // Name the bound the value broke; "between" only for a real range.
      bool too_big = errno == ERANGE ? digits[0] != '-' : n > hi;
      bool open_top = hi == LLONG_MAX || hi == INT_MAX;
      std::string range =
        !open_top ? "between " + std::to_string(lo) + " and " + std::to_string(hi)
        : too_big ? "at most " + std::to_string(hi)
                  : "at least " + std::to_string(lo);
      fail(t + " is out of range: must be " + range);
    }
    return n;
  }

  bool boolean() const {
    std::string t = lower(text("true or false"));
    if (t == "true" || t == "yes" || t == "on") return true;
    if (t == "false" || t == "no" || t == "off") return false;
    fail("expected true or false, got '" + t + "'");
  }

  /// One of `names` (compared without case); returns its index.
  size_t choice(const std::vector<std::string>& names) const {
    std::string t = upper(text(("one of " + join(names, ", ")).c_str()));
    for (size_t i = 0; i < names.size(); ++i)
      if (t == names[i]) return i;
    fail("'" + node.Scalar() + "' is not one of " + join(names, ", "));
  }

  /// The items of a list (a single scalar is not a list).
  std::vector<value> items() const {
    std::vector<value> out;
    if (is_null()) return out;
    if (!node.IsSequence()) fail("expected a list, got " + kind_name(node));
    size_t i = 0;
    for (const auto& item : node) {
      YAML::Mark m = item.Mark().is_null() ? mark : item.Mark();
      out.push_back(value{doc, item, path + "[" + std::to_string(i++) + "]", m});
    }
    return out;
  }

  std::vector<std::string> strings() const {
    std::vector<std::string> out;
    for (const auto& item : items()) out.push_back(item.text());
    return out;
  }
};

/// A map whose keys have been checked against the valid ones: unknown and
/// repeated keys are rejected when it is built, so a reader of a section only
/// asks for the keys it knows.
class section {
 public:
  /// `elsewhere` names, for keys valid in another kind of file, where they
  /// belong ("database" in a REDIS_STREAM file belongs to POSTGRESQL).
  section(const value& v, std::vector<std::string> allowed,
          const std::map<std::string, std::string>& elsewhere = {})
    : doc_(v.doc), path_(v.path), mark_(v.mark) {
    if (v.is_null()) return;  // `snapshot:` with nothing under it: defaults
    if (!v.node.IsMap()) v.fail("expected a map, got " + kind_name(v.node));
    for (const auto& kv : v.node) {
      YAML::Mark key_mark = kv.first.Mark().is_null() ? mark_ : kv.first.Mark();
      if (!kv.first.IsScalar())
        doc_->fail(key_mark, path_, "a key must be a plain name, got " + kind_name(kv.first));
      std::string key = kv.first.Scalar();
      std::string path = child_path(path_, key);
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string msg = "unknown key";
        std::string near = nearest_key(key, allowed);
        if (auto other = elsewhere.find(key); other != elsewhere.end())
          msg += " here (it belongs to " + other->second + ")";
        else if (!near.empty())
          msg += " (did you mean '" + near + "'?)";
        doc_->fail(key_mark, path, msg);
      }
      if (entries_.count(key) > 0) doc_->fail(key_mark, path, "key given twice");
      YAML::Mark value_mark = kv.second.Mark().is_null() ? key_mark : kv.second.Mark();
      entries_.emplace(key, value{doc_, kv.second, path, value_mark});
    }
  }

  /// Every key, for maps whose keys are names the user chooses (tables).
  static std::vector<std::pair<std::string, value>> named(const value& v) {
    std::vector<std::pair<std::string, value>> out;
    if (v.is_null()) return out;
    if (!v.node.IsMap()) v.fail("expected a map, got " + kind_name(v.node));
    for (const auto& kv : v.node) {
      YAML::Mark key_mark = kv.first.Mark().is_null() ? v.mark : kv.first.Mark();
      if (!kv.first.IsScalar())
        v.doc->fail(key_mark, v.path, "a key must be a plain name, got " + kind_name(kv.first));
      std::string key = kv.first.Scalar();
      for (const auto& seen : out)
        if (seen.first == key) v.doc->fail(key_mark, child_path(v.path, key), "key given twice");
      YAML::Mark value_mark = kv.second.Mark().is_null() ? key_mark : kv.second.Mark();
      out.emplace_back(key, value{v.doc, kv.second, child_path(v.path, key), value_mark});
    }
    return out;
  }

  std::optional<value> get(const std::string& key) const {
    auto i = entries_.find(key);
    if (i == entries_.end()) return std::nullopt;
    return i->second;
  }

  value required(const std::string& key) const {
    auto v = get(key);
    if (!v) doc_->fail(mark_, child_path(path_, key), "missing required key");
    return *v;
  }

  /// An absent key reads as an empty value, so nested sections get defaults.
  value at(const std::string& key) const {
    if (auto v = get(key)) return *v;
    return value{doc_, YAML::Node(YAML::NodeType::Null), child_path(path_, key), mark_};
  }

  section child(const std::string& key, std::vector<std::string> allowed) const {
    return section(at(key), std::move(allowed));
  }

  bool has(const std::string& key) const { return entries_.count(key) > 0; }

  void read(const std::string& key, std::string& out) const {
    if (auto v = get(key)) out = v->str();
  }
  void read(const std::string& key, int& out, int lo, int hi = INT_MAX) const {
    if (auto v = get(key)) out = static_cast<int>(v->integer(lo, hi));
  }
  void read(const std::string& key, bool& out) const {
    if (auto v = get(key)) out = v->boolean();
  }
  template <class Enum>
  void read(const std::string& key, Enum& out, const std::vector<std::string>& names,
            const std::vector<Enum>& values) const {
    if (auto v = get(key)) out = values[v->choice(names)];
  }

  const std::string& path() const { return path_; }
  const YAML::Mark& mark() const { return mark_; }

 private:
  const document* doc_;
  std::string path_;
  YAML::Mark mark_;
  std::map<std::string, value> entries_;
};

inline value root_of(const document& doc, const YAML::Node& node) {
  return value{&doc, node, "", node.Mark()};
}

}  // namespace trib::conf_detail
