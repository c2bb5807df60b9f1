#pragma once
// A bounds-checked reader over one binlog event's bytes. Every read checks
// the remaining length first and throws trib::error{bad_data} naming what it
// was reading and the offset in the event, so malformed or truncated input
// never reads past the end.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "messages/failure.hpp"

namespace trib::binlog {

/// Throws trib::error{bad_data, "binlog: <what>"}.
[[noreturn]] void fail(const std::string& what);

class cursor {
public:
  /// `base` is the offset of `data` inside the event, for messages.
  cursor(const char* data, size_t size, size_t base = 0) : p_(data), n_(size), base_(base) {}

  size_t left() const { return n_ - at_; }
  size_t offset() const { return base_ + at_; }
  bool empty() const { return at_ == n_; }
  const char* here() const { return p_ + at_; }

  /// Takes `len` bytes, or throws "truncated <what> at offset N".
  const char* take(size_t len, const char* what) {
    if (len > left())
      fail("truncated " + std::string(what) + " at offset " + std::to_string(offset()) +
           " (needs " + std::to_string(len) + " bytes, " + std::to_string(left()) + " left)");
    const char* out = p_ + at_;
    at_ += len;
    return out;
  }
  void skip(size_t len, const char* what) { take(len, what); }

  /// Little-endian unsigned integer of `len` (1..8) bytes.
  uint64_t le(size_t len, const char* what) {
    auto* b = reinterpret_cast<const unsigned char*>(take(len, what));
    uint64_t v = 0;
    for (size_t i = len; i-- > 0;) v = (v << 8) | b[i];
    return v;
  }
  /// Big-endian unsigned integer of `len` (1..8) bytes.
  uint64_t be(size_t len, const char* what) {
    auto* b = reinterpret_cast<const unsigned char*>(take(len, what));
    uint64_t v = 0;
    for (size_t i = 0; i < len; ++i) v = (v << 8) | b[i];
    return v;
  }
  uint8_t u8(const char* what) { return static_cast<uint8_t>(le(1, what)); }
  uint16_t u16(const char* what) { return static_cast<uint16_t>(le(2, what)); }
  uint32_t u32(const char* what) { return static_cast<uint32_t>(le(4, what)); }
  uint64_t u64(const char* what) { return le(8, what); }

  /// The protocol's length-encoded integer (1, 3, 4 or 9 bytes).
  uint64_t packed(const char* what) {
    uint8_t first = u8(what);
    if (first < 0xfb) return first;
    if (first == 0xfc) return le(2, what);
    if (first == 0xfd) return le(3, what);
    if (first == 0xfe) return le(8, what);
    fail("bad length-encoded integer (0x" + hex(first) + ") in " + what + " at offset " +
         std::to_string(offset() - 1));
  }
  /// A length-encoded count that must fit what is left (one byte at least
  /// per item), so a corrupt count cannot ask for a huge allocation.
  size_t count(const char* what, size_t bytes_per_item = 1) {
    size_t at = offset();
    uint64_t n = packed(what);
    if (bytes_per_item && n > left() / bytes_per_item)
      fail("bad " + std::string(what) + " " + std::to_string(n) + " at offset " +
           std::to_string(at) + " (only " + std::to_string(left()) + " bytes follow)");
    return static_cast<size_t>(n);
  }

  std::string str(size_t len, const char* what) { return std::string(take(len, what), len); }
  /// A length-encoded string.
  std::string packed_str(const char* what) { return str(count(what, 1), what); }
  /// The rest of the bytes.
  std::string rest() { return str(left(), "rest"); }

  static std::string hex(unsigned v) {
    const char* d = "0123456789abcdef";
    return std::string{d[(v >> 4) & 15], d[v & 15]};
  }

private:
  const char* p_;
  size_t n_;
  size_t base_;
  size_t at_ = 0;
};

}  // namespace trib::binlog
