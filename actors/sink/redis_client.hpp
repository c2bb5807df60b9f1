#pragma once
// The one Redis client layer: hiredis's command encoder and reply parser over
// the project's own socket. The transport (plain TCP now, TLS later) is
// separate from the protocol. Blocking; used from detached writer actors and
// from the command line. Failures throw trib::error with a classified code:
// connection/server_busy (LOADING, BUSY, TRYAGAIN, OOM) are retryable;
// auth (NOPERM, WRONGPASS), wrong_type (WRONGTYPE), bad_data are not.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "messages/batch.hpp"
#include "messages/failure.hpp"

namespace trib {

/// A parsed Redis reply.
struct redis_reply {
  enum class kind { string, status, error, integer, nil, array };
  kind type = kind::nil;
  std::string str;       // string, status, error
  long long integer = 0; // integer
  std::vector<redis_reply> elements;  // array
};

/// Code for a Redis error reply ("WRONGTYPE ...", "NOPERM ...", "LOADING ...").
failure_code classify_redis_error(const std::string& message);

/// Moves bytes; the protocol layer does not know whether they are encrypted.
class transport {
public:
  virtual ~transport() = default;
  /// Writes all bytes or throws trib::error{connection}.
  virtual void write_all(const char* data, size_t size) = 0;
  /// Reads at least one byte (blocking) or throws trib::error{connection}.
  virtual size_t read_some(char* data, size_t size) = 0;
};

/// Plain TCP connection with a connect timeout.
std::unique_ptr<transport> connect_tcp(const std::string& host, int port,
                                       int timeout_ms);

class redis_client {
public:
  explicit redis_client(std::unique_ptr<transport> t);
  ~redis_client();

  /// Connects per the config, authenticates (a failed AUTH is fatal: the
  /// connection would otherwise stay logged in as `default`) and PINGs.
  static std::unique_ptr<redis_client> connect(const redis_config& cfg);

  /// One command, one reply (error replies are returned, not thrown).
  redis_reply command(const std::vector<std::string>& argv);

  /// Sends all commands in one write, then reads one reply per command.
  std::vector<redis_reply> pipeline(
    const std::vector<std::vector<std::string>>& commands);

  /// MULTI; XADD <stream> * key <k> value <v> per entry; HSET <checkpoint_key>
  /// <checkpoint_field> <checkpoint_value>; EXEC -- pipelined in one write.
  /// Returns the IDs Redis gave the entries. Throws trib::error when EXEC
  /// aborts or any part fails; then nothing of the batch is visible.
  std::vector<std::string> write_atomically(const write_batch& b);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace trib
