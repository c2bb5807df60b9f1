// Redis Cluster routing: key slots, the slot map, redirections, and the
// per-node connections of cluster_client.

#include "actors/sink/redis_cluster.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <stdexcept>

#include "conf/loader.hpp"

namespace trib {

// -- pure parts --------------------------------------------------------------

uint16_t crc16_xmodem(std::string_view bytes) {
  uint16_t crc = 0;
  for (unsigned char byte : bytes) {
    crc ^= static_cast<uint16_t>(byte) << 8;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
  }
  return crc;
}

uint16_t key_slot(std::string_view key) {
  // Redis hashes only the tag when one '{' is followed later by a '}' with
  // at least one byte between them; "{}" and an unclosed '{' hash the key.
  auto open = key.find('{');
  if (open != std::string_view::npos) {
    auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1)
      key = key.substr(open + 1, close - open - 1);
  }
  return crc16_xmodem(key) & (cluster_slots - 1);
}

std::string hash_tag(const std::string& text) {
  return "{" + text + "}";
}

std::string stream_scoped_key(const std::string& base, const std::string& stream) {
  std::string_view tag = stream;
  auto open = tag.find('{');
  if (open != std::string_view::npos) {
    auto close = tag.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) tag = tag.substr(open + 1, close - open - 1);
  }
  std::string key = base + ":" + hash_tag(std::string(tag));
  if (key_slot(key) != key_slot(stream))
    throw error(failure_code::config,
                "stream " + stream + " cannot share a slot with its checkpoint in a redis cluster "
                "(its name holds a '}' that is not part of a hash tag); rename it with the map file");
  return key;
}

namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::optional<std::string> command_key(const std::vector<std::string>& argv) {
  if (argv.empty()) return std::nullopt;
  static const std::set<std::string> keyless{
    "PING", "INFO", "CLUSTER", "CLIENT", "CONFIG", "ACL", "AUTH", "SCAN", "MULTI", "EXEC",
    "DISCARD", "UNWATCH", "DBSIZE", "FLUSHALL", "FLUSHDB", "KEYS", "SCRIPT", "WAIT", "TIME",
    "COMMAND", "ASKING", "READONLY", "HELLO", "ECHO", "SELECT", "ROLE", "LASTSAVE"};
  auto name = upper(argv[0]);
  if (keyless.count(name)) return std::nullopt;
  if (name == "XINFO" || name == "XGROUP" || name == "OBJECT" || name == "MEMORY")
    return argv.size() > 2 ? std::optional<std::string>(argv[2]) : std::nullopt;
  if (name == "XREAD" || name == "XREADGROUP") {
    for (size_t i = 1; i + 1 < argv.size(); ++i)
      if (upper(argv[i]) == "STREAMS") return argv[i + 1];
    return std::nullopt;
  }
  if (name == "EVAL" || name == "EVALSHA")
    return argv.size() > 3 && argv[2] != "0" ? std::optional<std::string>(argv[3]) : std::nullopt;
  return argv.size() > 1 ? std::optional<std::string>(argv[1]) : std::nullopt;
}

size_t slot_map::uncovered() const {
  size_t n = 0;
  for (auto i : owner)
    if (i < 0) ++n;
  return n;
}

void slot_map::assign(uint16_t slot, const cluster_node& n) {
  for (size_t i = 0; i < masters.size(); ++i)
    if (masters[i] == n) {
      owner[slot] = static_cast<int16_t>(i);
      return;
    }
  masters.push_back(n);
  owner[slot] = static_cast<int16_t>(masters.size() - 1);
}

namespace {

[[noreturn]] void bad_slots(const std::string& what) {
  throw error(failure_code::bad_data, "cannot read the reply to CLUSTER SLOTS: " + what);
}

}  // namespace

slot_map parse_cluster_slots(const redis_reply& r, const std::string& fallback_host) {
  if (r.type != redis_reply::kind::array) bad_slots("not an array");
  slot_map m;
  for (const auto& range : r.elements) {
    if (range.type != redis_reply::kind::array || range.elements.size() < 3)
      bad_slots("a slot range is not [first, last, master, ...]");
    const auto& first = range.elements[0];
    const auto& last = range.elements[1];
    const auto& master = range.elements[2];
    if (first.type != redis_reply::kind::integer || last.type != redis_reply::kind::integer ||
        first.integer < 0 || last.integer >= cluster_slots || first.integer > last.integer)
      bad_slots("a slot range's bounds are not slots");
    if (master.type != redis_reply::kind::array || master.elements.size() < 2 ||
        master.elements[0].type != redis_reply::kind::string ||
        master.elements[1].type != redis_reply::kind::integer)
      bad_slots("a slot range's master is not [host, port, ...]");
    cluster_node n{master.elements[0].str, static_cast<int>(master.elements[1].integer)};
    if (n.host.empty() || n.host == "?") n.host = fallback_host;
    for (auto s = first.integer; s <= last.integer; ++s) m.assign(static_cast<uint16_t>(s), n);
  }
  return m;
}

cluster_node parse_node_address(const std::string& text) {
  auto [host, port] = split_host_port(text);
  return cluster_node{host, port};
}

std::optional<cluster_redirect> parse_redirect(const std::string& error,
                                               const std::string& fallback_host) {
  cluster_redirect out;
  std::string_view rest;
  if (error.rfind("MOVED ", 0) == 0) {
    rest = std::string_view(error).substr(6);
  } else if (error.rfind("ASK ", 0) == 0) {
    out.ask = true;
    rest = std::string_view(error).substr(4);
  } else {
    return std::nullopt;
  }
  auto space = rest.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  unsigned slot = 0;
  auto r = std::from_chars(rest.data(), rest.data() + space, slot);
  if (r.ec != std::errc{} || r.ptr != rest.data() + space || slot >= cluster_slots)
    return std::nullopt;
  out.slot = static_cast<uint16_t>(slot);
  std::string addr(rest.substr(space + 1));
  // ":6381" has no host; "::1:6381" is IPv6.
  if (!addr.empty() && addr[0] == ':' && addr.find(':', 1) == std::string::npos)
    addr = fallback_host + addr;
  try {
    out.to = parse_node_address(addr);
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
  return out;
}

redis_config node_config(const redis_config& cfg, const cluster_node& n) {
  redis_config c = cfg;
  c.host = n.host;
  c.port = n.port;
  c.cluster = false;
  c.cluster_seeds.clear();
  return c;
}

// -- cluster_client ----------------------------------------------------------

cluster_client::cluster_client(const redis_config& cfg) : cfg_(cfg) {
  seeds_.push_back({cfg.host, cfg.port});
  for (const auto& s : cfg.cluster_seeds) {
    auto n = parse_node_address(s);
    if (!(n == seeds_.front())) seeds_.push_back(n);
  }
  refresh();
}

cluster_client::~cluster_client() = default;

void cluster_client::refresh() {
  // Masters known first (they know the newest map after a failover), then
  // the seeds: a seed may be a replica promoted or one gone.
  std::vector<cluster_node> ask = slots_.masters;
  for (const auto& s : seeds_)
    if (std::find(ask.begin(), ask.end(), s) == ask.end()) ask.push_back(s);
  std::string problems;
  for (const auto& n : ask) {
    try {
      auto r = connection(n).command({"CLUSTER", "SLOTS"});
      if (r.type == redis_reply::kind::error) {
        if (r.str.rfind("ERR This instance has cluster support disabled", 0) == 0)
          throw error(failure_code::config,
                      "redis at " + n.name() + " is not a cluster node (mode: CLUSTER): " + r.str);
        throw error(classify_redis_error(r.str),
                    "redis at " + n.name() + " refuses CLUSTER SLOTS: " + r.str);
      }
      auto m = parse_cluster_slots(r, n.host);
      // A node that lost its view of the cluster answers an empty map;
      // another may know better.
      if (m.masters.empty()) {
        problems += "; " + n.name() + " knows no slots";
        continue;
      }
      slots_ = std::move(m);
      // Connections to nodes no longer masters are of no more use.
      for (auto it = conns_.begin(); it != conns_.end();) {
        bool master = std::find(slots_.masters.begin(), slots_.masters.end(), it->first) !=
                      slots_.masters.end();
        bool seed = std::find(seeds_.begin(), seeds_.end(), it->first) != seeds_.end();
        it = master || seed ? std::next(it) : conns_.erase(it);
      }
      return;
    } catch (const error& e) {
      if (e.code() == failure_code::config || e.code() == failure_code::auth) throw;
      drop(n);
      problems += "; " + std::string(e.what());
    }
  }
  throw error(failure_code::connection,
              "cannot learn the slots of the redis cluster from any of its nodes" + problems);
}

cluster_node cluster_client::node_for_key(std::string_view key) const {
  auto slot = key_slot(key);
  if (const auto* n = slots_.node_for(slot)) return *n;
  throw error(failure_code::server_busy,
              "no node of the redis cluster serves slot " + std::to_string(slot) +
                " (of key " + std::string(key) + ")");
}

redis_client& cluster_client::connection(const cluster_node& n) {
  auto& c = conns_[n];
  if (!c || !c->usable()) {
    c.reset();
    c = redis_client::connect(node_config(cfg_, n));
  }
  return *c;
}

void cluster_client::drop(const cluster_node& n) {
  conns_.erase(n);
}

redis_reply cluster_client::command(std::string_view key, const std::vector<std::string>& argv) {
  auto n = node_for_key(key);
  bool asking = false;
  // A resharding moves a slot in steps: a MOVED, then an ASK while keys
  // migrate; five hops is more than a healthy cluster needs.
  for (int hop = 0; hop < 5; ++hop) {
    auto& c = connection(n);
    redis_reply r;
    if (asking) {
      auto replies = c.pipeline({{"ASKING"}, argv});
      r = std::move(replies[1]);
    } else {
      r = c.command(argv);
    }
    if (r.type != redis_reply::kind::error) return r;
    auto to = parse_redirect(r.str, n.host);
    if (!to) return r;
    asking = to->ask;
    if (!to->ask) {
      slots_.assign(to->slot, to->to);
      refresh();
    }
    n = to->to;
  }
  throw error(failure_code::server_busy,
              "the redis cluster redirects " + (argv.empty() ? std::string() : argv[0]) + " on " +
                std::string(key) + " again and again (a resharding under way?)");
}

std::vector<std::pair<cluster_node, redis_reply>> cluster_client::on_every_master(
  const std::vector<std::string>& argv) {
  std::vector<std::pair<cluster_node, redis_reply>> out;
  for (const auto& n : slots_.masters) out.emplace_back(n, connection(n).command(argv));
  return out;
}

std::vector<std::string> cluster_client::scan(const std::string& pattern) {
  std::vector<std::string> keys;
  for (const auto& n : slots_.masters) {
    std::string cursor = "0";
    do {
      auto r = connection(n).command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
      if (r.type == redis_reply::kind::error)
        throw error(classify_redis_error(r.str), "redis at " + n.name() + " refuses SCAN: " + r.str);
      if (r.type != redis_reply::kind::array || r.elements.size() != 2)
        throw error(failure_code::bad_data, "redis at " + n.name() + " answers SCAN oddly");
      cursor = r.elements[0].str;
      for (auto& k : r.elements[1].elements) keys.push_back(std::move(k.str));
    } while (cursor != "0");
  }
  return keys;
}

redis_reply cluster_client::routed(const std::vector<std::string>& argv) {
  if (argv.empty()) throw error(failure_code::internal, "an empty redis command");
  auto name = upper(argv[0]);
  auto first_master = [&]() -> cluster_node {
    if (slots_.masters.empty()) refresh();
    return slots_.masters.front();
  };
  // A transaction's connection: a failure on it ends the transaction too.
  auto on_pinned = [&](const cluster_node& n, const std::vector<std::string>& cmd) {
    try {
      return connection(n).command(cmd);
    } catch (...) {
      pinned_.reset();
      in_multi_ = false;
      drop(n);
      throw;
    }
  };
  if (name == "WATCH" && argv.size() > 1 && !in_multi_) {
    auto n = node_for_key(argv[1]);
    if (pinned_ && !(*pinned_ == n))
      return redis_reply{redis_reply::kind::error,
                         "CROSSSLOT WATCH of keys on two nodes of the redis cluster", 0, {}};
    pinned_ = n;
    return on_pinned(n, argv);
  }
  if (name == "MULTI") {
    in_multi_ = true;
    // Without a WATCH the transaction's node is its first key's: MULTI is
    // sent there with that command.
    if (!pinned_) return redis_reply{redis_reply::kind::status, "OK", 0, {}};
    return on_pinned(*pinned_, argv);
  }
  if (in_multi_ && !pinned_ && (name == "EXEC" || name == "DISCARD")) {
    in_multi_ = false;  // an empty transaction, never sent
    if (name == "DISCARD") return redis_reply{redis_reply::kind::status, "OK", 0, {}};
    return redis_reply{redis_reply::kind::array, "", 0, {}};
  }
  if (in_multi_ && !pinned_) {
    auto key = command_key(argv);
    pinned_ = key ? node_for_key(*key) : first_master();
    auto multi = on_pinned(*pinned_, {"MULTI"});
    if (multi.type == redis_reply::kind::error) {
      pinned_.reset();
      in_multi_ = false;
      return multi;
    }
  }
  if (name == "EXEC" || name == "DISCARD" || name == "UNWATCH") {
    if (!pinned_) return connection(first_master()).command(argv);
    auto n = *pinned_;
    auto r = on_pinned(n, argv);
    if (name != "UNWATCH" || !in_multi_) {
      pinned_.reset();
      in_multi_ = false;
    }
    return r;
  }
  if (pinned_) return on_pinned(*pinned_, argv);
  if ((name == "DEL" || name == "UNLINK" || name == "EXISTS") && argv.size() > 2) {
    redis_reply sum{redis_reply::kind::integer, "", 0, {}};
    for (size_t i = 1; i < argv.size(); ++i) {
      auto r = command(argv[i], {argv[0], argv[i]});
      if (r.type != redis_reply::kind::integer) return r;
      sum.integer += r.integer;
    }
    return sum;
  }
  auto key = command_key(argv);
  if (!key) return connection(first_master()).command(argv);
  return command(*key, argv);
}

}  // namespace trib
