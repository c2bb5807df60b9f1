#pragma once
// Redis Cluster in the one client layer (design section 11, mode: CLUSTER):
// which slot a key hashes to, which node serves a slot (CLUSTER SLOTS), the
// MOVED/ASK redirections, and cluster_client, which keeps one connection per
// node and sends a command to the node that owns its key. The pure parts
// (key_slot, parse_cluster_slots, parse_redirect) know no socket. Blocking,
// like redis_client; free of CAF.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/sink/redis_client.hpp"

namespace trib {

/// Slots of a Redis Cluster.
constexpr uint16_t cluster_slots = 16384;

/// CRC16 (XMODEM: polynomial 0x1021, initial 0) as Redis Cluster uses it.
uint16_t crc16_xmodem(std::string_view bytes);

/// The slot of `key`: CRC16 of the key, or of its hash tag -- the bytes
/// between the first '{' and the first '}' after it, when that is not
/// empty -- modulo 16384. Keys with the same tag share a slot, which is how
/// a stream and its checkpoint hash land on one node.
uint16_t key_slot(std::string_view key);

/// `{<text>}`: a hash tag that makes a key hash like `text`. A stream name
/// holding '{' or '}' cannot be a tag; the key then falls back to its own
/// hash (see cluster_checkpoint_key).
std::string hash_tag(const std::string& text);

/// `<base>:{<stream>}`: a key that lives in the slot of `stream` (the
/// per-stream checkpoint hash and lease copy of mode: CLUSTER, see
/// docs/redis-limits.md). A stream whose name has a hash tag of its own
/// lends that tag. Throws trib::error{config} for a stream name that cannot
/// be a tag (a '}' outside a tag of its own).
std::string stream_scoped_key(const std::string& base, const std::string& stream);

/// The key a command acts on, for routing: nullopt for commands that name
/// no key (PING, INFO, CLUSTER, SCAN, MULTI, EXEC, WAIT ...).
std::optional<std::string> command_key(const std::vector<std::string>& argv);

/// A cluster node's address.
struct cluster_node {
  std::string host;
  int port = 0;
  std::string name() const { return host + ":" + std::to_string(port); }
  bool operator==(const cluster_node& o) const { return host == o.host && port == o.port; }
  bool operator<(const cluster_node& o) const {
    return host < o.host || (host == o.host && port < o.port);
  }
};

/// Which master serves each slot.
struct slot_map {
  /// The masters, in the order CLUSTER SLOTS named them first.
  std::vector<cluster_node> masters;
  /// Per slot, an index into `masters`, or -1 when no node serves it.
  std::array<int16_t, cluster_slots> owner;

  slot_map() { owner.fill(-1); }
  /// The master of `slot`; nullptr when the cluster has none for it.
  const cluster_node* node_for(uint16_t slot) const {
    auto i = owner[slot];
    return i < 0 ? nullptr : &masters[static_cast<size_t>(i)];
  }
  /// Slots no master serves.
  size_t uncovered() const;
  /// Sets `slot` to be served by `n` (a MOVED reply says so).
  void assign(uint16_t slot, const cluster_node& n);
};

/// The slot map from a CLUSTER SLOTS reply: an array of [first, last,
/// [master-host, master-port, ...], replicas...]. A master that announces
/// an empty host (it does not know its own address) gets `fallback_host`,
/// the address the reply came from. Throws trib::error{bad_data} on a reply
/// of another shape.
slot_map parse_cluster_slots(const redis_reply& r, const std::string& fallback_host);

/// A MOVED or ASK error reply: "MOVED 3999 127.0.0.1:6381".
struct cluster_redirect {
  bool ask = false;
  uint16_t slot = 0;
  cluster_node to;
};

/// The redirection an error reply asks for; nullopt for any other error.
/// An empty host (":6381", a node that does not know its address) becomes
/// `fallback_host`.
std::optional<cluster_redirect> parse_redirect(const std::string& error,
                                               const std::string& fallback_host);

/// Keeps one connection per master, learned from the seeds of `cfg`
/// (cfg.host:cfg.port, then cfg.cluster_seeds), each opened with cfg's user,
/// password and TLS. Not thread-safe: one per writer (or command-line task).
class cluster_client {
public:
  /// Connects to the first seed that answers CLUSTER SLOTS and learns the
  /// slot map; throws trib::error{connection} when none does, or
  /// trib::error{config} when the seed is not a cluster node.
  explicit cluster_client(const redis_config& cfg);
  ~cluster_client();

  /// Learns the slot map again (after MOVED, a failover, a resharding),
  /// asking the masters it knows, then the seeds.
  void refresh();

  const slot_map& slots() const { return slots_; }

  /// The master that owns `key`'s slot.
  cluster_node node_for_key(std::string_view key) const;

  /// The connection to `n`, opened (and kept) when there is none or the
  /// last one failed.
  redis_client& connection(const cluster_node& n);

  /// Drops the connection to `n` (after a failure on it).
  void drop(const cluster_node& n);

  /// One command on the node that owns `key`, MOVED followed (the map
  /// refreshed) and ASK followed (ASKING first), a few times at most.
  /// Error replies other than redirections are returned.
  redis_reply command(std::string_view key, const std::vector<std::string>& argv);

  /// One command on every master (FLUSHALL, SCAN of keys), each reply with
  /// its node.
  std::vector<std::pair<cluster_node, redis_reply>> on_every_master(
    const std::vector<std::string>& argv);

  /// The keys matching `pattern` on every master (SCAN).
  std::vector<std::string> scan(const std::string& pattern);

  /// One command routed as a client of one server would send it: by its
  /// key (command_key) with redirections followed; a DEL, UNLINK or EXISTS
  /// of several keys split into one per key (their counts summed); keyless
  /// commands to the first master. WATCH pins the connection of its key's
  /// node; a MULTI without a WATCH is sent with the transaction's first
  /// command, to that command's node. Every command then stays on that node
  /// until EXEC, DISCARD or UNWATCH: a transaction runs on one node, and
  /// keys of another slot get Redis's own error reply there. An empty
  /// transaction is answered without being sent.
  redis_reply routed(const std::vector<std::string>& argv);

private:
  redis_config cfg_;
  std::vector<cluster_node> seeds_;
  slot_map slots_;
  std::map<cluster_node, std::unique_ptr<redis_client>> conns_;
  /// The node a WATCH or MULTI pinned commands to, until the transaction ends.
  std::optional<cluster_node> pinned_;
  bool in_multi_ = false;
};

/// The redis_config of one node: cfg with its host and port (mode:
/// STANDALONE, since a node is one server).
redis_config node_config(const redis_config& cfg, const cluster_node& n);

/// "host:port" of a cluster-seeds entry; throws std::invalid_argument with
/// the reason.
cluster_node parse_node_address(const std::string& text);

}  // namespace trib
