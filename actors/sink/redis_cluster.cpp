// Redis Cluster routing: key slots, the slot map, redirections, and the
// per-node connections of cluster_client.

#include "actors/sink/redis_cluster.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

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
  auto colon = text.rfind(':');
  if (colon == std::string::npos)
    throw std::invalid_argument("'" + text + "' is not host:port");
  cluster_node n;
  n.host = text.substr(0, colon);
  const char* b = text.data() + colon + 1;
  const char* e = text.data() + text.size();
  auto r = std::from_chars(b, e, n.port);
  if (r.ec != std::errc{} || r.ptr != e || n.port < 1 || n.port > 65535)
    throw std::invalid_argument("'" + text + "' has no port 1-65535 after the ':'");
  if (n.host.empty()) throw std::invalid_argument("'" + text + "' has no host before the ':'");
  return n;
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

}  // namespace trib
