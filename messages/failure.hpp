#pragma once
// One error type for the whole project: a code and a sentence. Blocking code
// throws trib::error; actors catch it at their boundary and pass a failure on.

#include <cstdint>
#include <stdexcept>
#include <string>

#include <caf/meta/type_name.hpp>

namespace trib {

enum class failure_code : uint8_t {
  /// Configuration or command-line error (exit code 2).
  config,
  /// Connection refused, lost, timed out: worth retrying.
  connection,
  /// Server said LOADING, BUSY, TRYAGAIN, OOM and the like: worth retrying.
  server_busy,
  /// Authentication or permission refused (NOPERM, bad password, a TLS
  /// certificate either side refuses): permanent.
  auth,
  /// The target holds something of the wrong type (WRONGTYPE): permanent.
  wrong_type,
  /// Data the source or the target rejects: permanent.
  bad_data,
  /// The source cannot serve what was asked (dropped slot, purged binlog).
  source_state,
  /// Existing state for this id without --resume or --overwrite.
  state_exists,
  /// Anything else.
  internal,
  /// The target lost writes it had acknowledged (a Redis restarted without
  /// persistence), or this run lost its lease on the replication: the whole
  /// run stops, whatever skip-tables-on-failures says.
  target_lost,
  /// The run was stopped (SIGINT/SIGTERM) before this was written (a writer
  /// paused for Redis memory): not a failure of the table; --resume writes
  /// it.
  stopped,
};

/// Short name of a code ("connection", "wrong_type", ...), for logs/metrics.
const char* to_string(failure_code c);

/// Whether retrying after a pause can help.
bool is_retryable(failure_code c);

/// A failure that travels between actors.
struct failure {
  failure_code code = failure_code::internal;
  std::string what;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, failure& x) {
  return f(caf::meta::type_name("failure"), x.code, x.what);
}

/// The exception blocking code throws; carries a failure.
class error : public std::runtime_error {
public:
  error(failure_code code, const std::string& what)
    : std::runtime_error(what), code_(code) {
  }
  failure_code code() const noexcept { return code_; }
  failure to_failure() const { return failure{code_, what()}; }

private:
  failure_code code_;
};

}  // namespace trib
