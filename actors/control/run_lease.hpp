#pragma once
// The lease a run holds on its replication id in Redis, so that two runs of
// one id never write at the same time (on one machine or two). CAF-free.
//
// Two keys: `replicate_io_lease_<group>_<id>` names the holder (host, pid,
// since, a random token) and changes only when a run takes the lease or
// gives it back; `replicate_io_lease_alive_<group>_<id>` holds the token
// with a TTL of lease_ttl that
// the holder renews every lease_renewal. Writers WATCH the first key in
// every transaction, so a run whose lease another run took cannot commit;
// renewals touch only the second, so they abort no write.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "conf/config.hpp"

namespace trib {

class redis_client;

/// How long a lease lives without renewal, and how often it is renewed.
constexpr std::chrono::milliseconds lease_ttl{10000};
constexpr std::chrono::milliseconds lease_renewal{2000};

/// Who holds a lease.
struct lease_holder {
  std::string host;
  int64_t pid = 0;
  std::string since;  // ISO-8601 UTC
  std::string token;
};

/// JSON text of a holder, and back (nullopt for anything else).
std::string encode_lease_holder(const lease_holder& h);
std::optional<lease_holder> decode_lease_holder(const std::string& text);

/// Whether a run on `my_host` may take a lease held by `holder`: when the
/// holder stopped renewing it (`alive` false: its TTL key expired), or when
/// the holder ran on this host and `holder_running` says its process is
/// gone (a kill -9), so a resumed run need not wait for the TTL.
bool lease_takeover_allowed(const lease_holder& holder, bool alive, const std::string& my_host,
                            bool holder_running);

/// The steady clock in nanoseconds, the unit of write_fence::valid_until.
inline int64_t lease_clock_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

/// What the writers of a run check before each write. Shared between the
/// lease's renewal thread and the writers' threads.
struct write_fence {
  /// The holder key, WATCHed in every write.
  std::string key;
  /// The holder value of this run, what `key` must hold.
  std::string holder;
  /// Until when (steady clock, nanoseconds since its epoch) the lease is
  /// certainly this run's: the last renewal sent, plus the TTL, minus a
  /// margin. A writer that finds it passed waits for a renewal.
  std::atomic<int64_t> valid_until{0};
  /// Set once the lease is lost for good; `reason` says why.
  std::atomic<bool> lost{false};
  /// Mode CLUSTER: `key` lives on one node, and a write on another cannot
  /// WATCH it. Each stream then has a copy, `key:{stream}` in the stream's
  /// slot, holding `copy_holder` ("<epoch> <holder>"), which the stream's
  /// writes WATCH instead (stamp_lease_copy). `epoch` counts the takings
  /// of the lease, so a run never overwrites the copy of a newer one.
  bool per_stream = false;
  int64_t epoch = 0;
  std::string copy_holder;

  void lose(const std::string& why);
  std::string reason() const;

private:
  mutable std::mutex mutex_;
  std::string reason_;
};

/// The fence of the lease this process holds now; nullptr when it holds
/// none (tests that drive a writer directly).
std::shared_ptr<write_fence> current_write_fence();

/// Takes the lease for the run's lifetime: refuses (trib::error
/// state_exists, exit code 2) when another live run holds it, naming the
/// id, the key and the holder; renews it on a thread of its own; gives it
/// back when destroyed.
class run_lease {
public:
  run_lease(const redis_config& target, const std::string& group, const std::string& id);
  ~run_lease();
  run_lease(const run_lease&) = delete;
  run_lease& operator=(const run_lease&) = delete;

private:
  void renew_loop();

  redis_config target_;
  std::string id_;
  std::string key_;
  std::string alive_key_;
  lease_holder me_;
  std::shared_ptr<write_fence> fence_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread renewer_;
};

/// The holder key of a replication, and the key its holder keeps alive
/// (in mode CLUSTER in the holder key's slot, `...:{<holder key>}`, since
/// both are in one transaction); the counter of takings (CLUSTER only).
std::string lease_key(const std::string& group, const std::string& id);
std::string lease_alive_key(const std::string& group, const std::string& id,
                            bool cluster = false);
std::string lease_epoch_key(const std::string& group, const std::string& id);

/// The epoch of a lease copy's value ("<epoch> <holder>"); 0 for another.
int64_t lease_copy_epoch(const std::string& value);

/// Mode CLUSTER, before the first write to `stream` on a connection `c` to
/// its node: makes the stream's lease copy hold this run's copy_holder,
/// unless it holds a newer run's (then the lease is lost: throws
/// trib::error{target_lost}). Idle connection; throws on Redis failures.
void stamp_lease_copy(redis_client& c, write_fence& fence, const std::string& stream);

}  // namespace trib
