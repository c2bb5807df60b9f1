#pragma once
// Appends JSON text to a std::string. (Named json_text, not *_writer: that
// suffix marks actor files in actors/CMakeLists.txt.) The envelope builder
// writes every payload through this instead of building a boost::json::value tree: each
// entry then costs one pass over its cells and no per-node allocation, which
// is what lets one core build a few hundred thousand entries per second.
// String escaping is Boost.JSON's own (its serializer), so the project still
// has one JSON implementation.

#include <cstdint>
#include <string>
#include <string_view>

namespace trib {

/// Appends JSON tokens to a string the caller owns.
class json_writer {
public:
  explicit json_writer(std::string& out) : out_(out) {}

  /// Appends text that is already JSON (a precomputed schema, a number).
  void raw(std::string_view text) { out_.append(text.data(), text.size()); }
  void raw(char c) { out_.push_back(c); }
  /// Appends `s` as a quoted, escaped JSON string.
  void string(std::string_view s);
  void null() { raw("null"); }
  void boolean(bool b) { raw(b ? std::string_view{"true"} : "false"); }
  void number(int64_t v);
  void number(uint64_t v);
  /// Shortest text that reads back as `v`; NaN and infinities become the
  /// strings "NaN", "Infinity", "-Infinity" since JSON has no such numbers.
  void number(double v);
  /// Same for single precision, so 1.1f prints as 1.1, not 1.100000023841858.
  void number(float v);
  /// Appends `"name":` with the name escaped.
  void key(std::string_view name) {
    string(name);
    out_.push_back(':');
  }

  std::string& buffer() { return out_; }

private:
  std::string& out_;
};

/// `s` as a quoted, escaped JSON string.
std::string json_quote(std::string_view s);

/// Standard base64 with padding (RFC 4648), as Kafka Connect's JSON converter
/// writes bytes.
void append_base64(std::string& out, std::string_view bytes);
std::string base64_encode(std::string_view bytes);
/// Decodes standard base64; returns false on malformed input.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace trib
