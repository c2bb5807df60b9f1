#pragma once
// Memory backpressure (design section 11, memory-threshold-percentage): a
// writer pauses while Redis's used_memory is above a share of its
// maxmemory, instead of collecting OOM replies from a full server. Pure
// logic, no I/O and no CAF: the writer asks INFO memory when this says a
// reading is due and feeds the reading back.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "messages/batch.hpp"

namespace trib {

/// used_memory and maxmemory of INFO memory (maxmemory 0: no limit).
struct redis_memory {
  uint64_t used = 0;
  uint64_t max = 0;
};

/// Reads used_memory and maxmemory from the text of INFO (memory section);
/// nullopt when either is missing or not a number.
std::optional<redis_memory> parse_info_memory(const std::string& info);

/// Bytes a write puts on the wire for its entries, about (keys and values).
uint64_t write_bytes(const write_batch& b);

class memory_gate {
 public:
  using clock = std::chrono::steady_clock;

  /// `percentage` of maxmemory above which writes pause; 0: never.
  explicit memory_gate(int percentage = 0) : percentage_(percentage) {}

  bool enabled() const { return percentage_ > 0; }
  int percentage() const { return percentage_; }

  /// Counts `bytes` about to be written; true when Redis's memory must be
  /// read before they are. A reading is due when the bytes written since the
  /// last one use up a share of the room that reading left below the
  /// threshold (so checks come often only near it), or when it is older
  /// than tuning::redis_memory_check_interval (other clients write too).
  bool due(uint64_t bytes, clock::time_point now);

  /// Takes a reading; true when writes must pause (used memory above the
  /// threshold). Sets the budget of bytes until the next reading.
  bool over(const redis_memory& m, clock::time_point now);

  /// The threshold in bytes for `m` (0 when Redis has no maxmemory).
  uint64_t threshold(const redis_memory& m) const;

  /// Stops checking (the user may not run INFO).
  void disable() { percentage_ = 0; }

 private:
  int percentage_;
  /// Bytes that may be written before the next reading.
  uint64_t budget_ = 0;
  clock::time_point next_reading_{};
  bool read_once_ = false;
};

}  // namespace trib
