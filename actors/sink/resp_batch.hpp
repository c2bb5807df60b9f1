#pragma once
// The RESP pieces of a batch write, for the client's send path
// (redis_client::send_write; MULTI itself goes out on its own first).
// Internal to actors/sink.

#include <string>

#include "actors/sink/redis_client.hpp"

namespace trib::detail {

/// Appends "$<len>\r\n<data>\r\n".
void append_bulk(std::string& out, const std::string& s);

/// The pieces of a batch write after MULTI: one XADD per entry, HSET of
/// the checkpoint and EXEC.
class batch_encoder {
public:
  explicit batch_encoder(const write_batch& b) : b_(b), xadd_(b.stream) {}

  /// Bytes of entry i's XADD, a little over.
  size_t entry_size(size_t i) const {
    return xadd_.size(b_.entries[i].key.size(), b_.entries[i].value.size());
  }

  void entry(std::string& out, size_t i) const {
    xadd_.append(out, b_.entries[i].key, b_.entries[i].value);
  }

  void end(std::string& out) const {
    out += "*4\r\n$4\r\nHSET\r\n";
    append_bulk(out, b_.checkpoint_key);
    append_bulk(out, b_.checkpoint_field);
    append_bulk(out, b_.checkpoint_value);
    out += "*1\r\n$4\r\nEXEC\r\n";
  }

  size_t end_size() const {
    return 64 + b_.checkpoint_key.size() + b_.checkpoint_field.size() +
           b_.checkpoint_value.size();
  }

private:
  const write_batch& b_;
  xadd_encoder xadd_;
};

}  // namespace trib::detail
