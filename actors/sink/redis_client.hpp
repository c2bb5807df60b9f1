#pragma once
// The one Redis client layer: RESP encoding (hiredis's encoder for single
// commands, a hand-written one for the hot batch write) and a reply parser
// over the project's own socket. The transport (plain TCP now, TLS later) is
// separate from the protocol. Blocking; used from detached writer actors and
// from the command line. Failures throw trib::error with a classified code:
// connection/server_busy (LOADING, BUSY, TRYAGAIN, OOM) are retryable;
// auth (NOPERM, WRONGPASS), wrong_type (WRONGTYPE), bad_data are not.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/tuning.hpp"
#include "conf/config.hpp"
#include "messages/batch.hpp"
#include "messages/failure.hpp"

struct redisReader;

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

class redis_client;

/// One command whose error reply becomes a trib::error naming the command
/// and its key (and, for NOPERM, the access the target user needs).
redis_reply command_or_throw(redis_client& c, const std::vector<std::string>& argv);

/// Plain TCP connection with a connect timeout (non-blocking connect, then
/// blocking I/O with TCP_NODELAY and a read timeout). Throws
/// trib::error{connection, "cannot connect to redis at host:port: ..."}.
std::unique_ptr<transport> connect_tcp(const std::string& host, int port,
                                       int timeout_ms,
                                       int read_timeout_ms = tuning::redis_read_timeout_ms);

/// Incremental RESP2 reply parser: hiredis's redisReader with object
/// functions that build redis_reply values directly (array elements in place
/// in their parent, the top-level reply in one reused slot), so parsing a
/// batch's replies allocates no object per reply.
class reply_reader {
public:
  reply_reader();
  ~reply_reader();
  reply_reader(const reply_reader&) = delete;
  reply_reader& operator=(const reply_reader&) = delete;

  /// Appends received bytes.
  void feed(const char* data, size_t size);
  /// Bytes fed but not parsed yet.
  size_t buffered() const;
  /// The next complete reply, or nothing when more bytes are needed. Throws
  /// trib::error{connection} on a protocol error: the byte stream can no
  /// longer be trusted, so the connection must be dropped.
  std::optional<redis_reply> next();

private:
  friend struct reply_builder;
  ::redisReader* reader_;
  /// The top-level reply being built; moved out by next().
  redis_reply slot_;
};

/// Appends one command in RESP (*N, then $len/arg per argument) to `out`.
void encode_command(std::string& out, const std::vector<std::string>& argv);

/// Redis's default proto-max-bulk-len: the longest argument it accepts.
constexpr uint64_t default_max_bulk_bytes = 512ull << 20;

/// The server's proto-max-bulk-len (CONFIG GET), or the default when the
/// user may not read the configuration.
uint64_t max_bulk_bytes(redis_client& c);

/// Encodes `XADD <stream> * key <k> value <v>` commands for one stream: the
/// part before the key is computed once, so an entry costs two length
/// headers and two copies.
class xadd_encoder {
public:
  explicit xadd_encoder(const std::string& stream);
  void append(std::string& out, const std::string& key, const std::string& value) const;
  /// Bytes append() adds for a key and value of these sizes, a little over.
  size_t size(size_t key, size_t value) const { return head_.size() + 48 + key + value; }

  /// The same command with the key and value written straight into `out` by
  /// `key(out)` and `value(out)`, which only append: no copy of either. If
  /// one throws, `out` holds part of the command and must be cut back.
  template <class Key, class Value>
  void append_built(std::string& out, Key&& key, Value&& value) {
    out += head_;
    bulk_in_place(out, key_digits_, key);
    out += "$5\r\nvalue\r\n";
    bulk_in_place(out, value_digits_, value);
  }

private:
  // "$<length>\r\n<bytes>\r\n" with the bytes appended by `write`. Room
  // for the length is left by the digit count of the previous one (entries
  // of a table are of similar size); when the count differs the bytes move.
  template <class Write>
  static void bulk_in_place(std::string& out, size_t& digits, Write&& write) {
    size_t head = out.size();
    out.push_back('$');
    out.append(digits, '0');
    out.append("\r\n", 2);
    size_t start = out.size();
    write(out);
    size_t len = out.size() - start;
    digits = set_bulk_length(out, head, digits, len);
    out.append("\r\n", 2);
  }

  // Writes `len` into the room of `room` digits after out[head] ('$'),
  // widening or narrowing it; returns the digit count of `len`.
  static size_t set_bulk_length(std::string& out, size_t head, size_t room, size_t len);

  std::string head_;
  size_t key_digits_ = 2;
  size_t value_digits_ = 3;
};

/// The entries of a batch, the pre-encoded ones decoded (for tests and
/// diagnostics). Throws trib::error{bad_data} on bytes that are not XADDs of
/// key and value.
std::vector<stream_entry> batch_entries(const write_batch& b);

/// What an atomic write did. Redis does not roll back a transaction whose
/// commands fail inside EXEC (WRONGTYPE on one key): the others stay applied,
/// so a failure can still leave entries in the stream, and those are listed
/// here for the caller to undo (XDEL) or log as in doubt.
struct write_outcome {
  /// One per entry, in entry order, when commands ran; an empty string where
  /// that entry's XADD failed. Empty when nothing was applied (EXECABORT,
  /// a discarded transaction) -- and after a clean commit read without
  /// asking for the IDs (see receive_write).
  std::vector<std::string> ids;
  /// Entries added, and the ID of the last one (empty when none was).
  uint64_t added = 0;
  std::string last_id;
  /// Whether the HSET of the checkpoint was applied. Redis runs it even when
  /// the XADDs before it failed inside EXEC, so this can be true while no
  /// entry was added: the caller must then write its previous checkpoint back.
  bool checkpoint_written = false;
  /// Set when any part failed; the code is the first real Redis error's.
  std::optional<failure> error;
  /// The reply to the WAIT after EXEC (see wait_in_writes): how many
  /// replicas acknowledged the write; -1 when no WAIT was sent.
  long long replicas = -1;

  /// The IDs of entries that are in the stream (nonempty entries of `ids`).
  std::vector<std::string> added_ids() const;
};

/// Reads the entries + 3 replies of a batch write (MULTI, the QUEUED per
/// command, EXEC; see redis_client::send_write) and says what happened.
/// Pure; `stream` only names the stream in messages.
write_outcome interpret_write_replies(const std::string& stream, size_t entries,
                                      const std::vector<redis_reply>& replies);

class redis_client {
public:
  explicit redis_client(std::unique_ptr<transport> t);
  ~redis_client();

  /// Connects per the config, authenticates (a failed AUTH is fatal: the
  /// connection would otherwise stay logged in as `default`) and PINGs.
  /// In mode: CLUSTER the client is the cluster: command() and pipeline()
  /// go to the node that owns each command's key (cluster_client::routed),
  /// cluster() gives the cluster, and writes (send_write) are refused:
  /// writers write on one node's connection.
  static std::unique_ptr<redis_client> connect(const redis_config& cfg);

  /// Like connect(cfg) with explicit timeouts (tests, health checks).
  static std::unique_ptr<redis_client> connect(const redis_config& cfg,
                                               int connect_timeout_ms,
                                               int read_timeout_ms);

  /// One command, one reply (error replies are returned, not thrown).
  redis_reply command(const std::vector<std::string>& argv);

  /// Sends all commands in one write, then reads one reply per command.
  std::vector<redis_reply> pipeline(
    const std::vector<std::vector<std::string>>& commands);

  /// MULTI (its answer awaited); XADD <stream> * key <k> value <v> per
  /// entry; HSET <checkpoint_key> <checkpoint_field> <checkpoint_value>;
  /// EXEC.
  /// Returns the IDs Redis gave the entries, in entry order. Throws
  /// trib::error when any part fails. When a command is rejected before EXEC
  /// (NOPERM, OOM: EXECABORT) nothing is visible; when one fails inside EXEC
  /// (WRONGTYPE) the rest stay applied -- use try_write_atomically to learn
  /// which entries those are.
  std::vector<std::string> write_atomically(const write_batch& b);

  /// write_atomically without throwing on Redis error replies: the outcome
  /// lists what was applied and the failure. Still throws
  /// trib::error{connection} when the connection fails; then whether EXEC
  /// ran is unknown and the caller must consult the checkpoint.
  write_outcome try_write_atomically(const write_batch& b, bool want_ids = true);

  /// The two halves of try_write_atomically, so that a caller can do other
  /// work before reading a write's replies. send_write first sends MULTI
  /// (after WATCH and GET of the lease key, see watch_in_writes) and waits
  /// for its answer, so the replies of every write sent before must have
  /// been read; a refused MULTI, or a lease not this run's, throws before
  /// any entry is sent, with the connection dropped. Then it encodes and
  /// sends the rest in pieces of a few hundred KB, so no copy of the whole
  /// batch is made. Every send_write must be followed by one receive_write
  /// of the same batch. Both throw trib::error{connection} when the
  /// connection fails.
  /// receive_write reads a clean commit (+QUEUED..., EXEC's IDs and the
  /// HSET's integer) straight from the received bytes without building a
  /// reply per entry, and keeps only the count and the last ID unless
  /// `want_ids`; any other shape is parsed in full.
  void send_write(const write_batch& b);
  write_outcome receive_write(const write_batch& b, bool want_ids = true);

  /// From now on every send_write begins with WATCH `key` and GET `key`,
  /// and sends nothing more unless `key` holds `holder` (else
  /// failure_code::target_lost): once WATCHed and found to be this run's,
  /// any change of it by another client makes the EXEC commit nothing,
  /// reported as failure_code::target_lost too. Empty `key`: none. `check`
  /// runs right before each WATCH is sent and throws to stop the write (the
  /// lease is not known to be this run's).
  void watch_in_writes(const std::string& key, const std::string& holder,
                       std::function<void()> check = {});

  /// From now on every send_write ends with WAIT `replicas` `timeout_ms`
  /// after its EXEC, and receive_write reports the count in
  /// write_outcome::replicas (0 replicas: none).
  void wait_in_writes(int replicas, int timeout_ms);

  /// The watch key of stream `stream`'s writes, when watch_in_writes was
  /// given a key per stream (`base:{stream}`, mode: CLUSTER).
  void watch_per_stream(bool on);

  /// False once the connection failed or was closed on purpose (a reply
  /// stream out of step, a transaction left open); reconnect then.
  bool usable() const;

  /// The cluster behind a client of mode: CLUSTER; nullptr for one server.
  class cluster_client* cluster();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The first command a write needs that the connected user may not run, in
/// words ("MULTI (NOPERM ...)"); nullopt when it may run them all. Writes
/// nothing: MULTI alone (its answer awaited, since every command after a
/// refused MULTI would run at once), EXEC of the empty transaction, then
/// MULTI again with XADD on `stream`, HSET/HGET on `checkpoint_key` and XDEL
/// queued, and DISCARD -- Redis checks ACLs when it queues a command, so a
/// forbidden one is answered NOPERM and nothing runs (refusals for keys out
/// of the user's reach are not counted). With an empty `stream`
/// only MULTI and EXEC are checked; with a `watch_key`, WATCH on it too.
std::optional<std::string> refused_write_command(redis_client& c, const std::string& stream,
                                                 const std::string& checkpoint_key,
                                                 const std::string& watch_key = "");

/// Throws trib::error{config} naming the user (`cfg.username`, or
/// `default`) and the first command refused_write_command finds refused.
/// Key permissions are not its business: a key out of the user's reach
/// fails the write to it (a skipped table), as before.
void check_write_access(redis_client& c, const redis_config& cfg, const std::string& stream,
                        const std::string& checkpoint_key, const std::string& watch_key = "");

}  // namespace trib
