// The Redis client: one connection over a transport, single commands and
// pipelines, and the atomic batch write (sent in pieces, its replies read
// straight from the received bytes when it committed cleanly). The protocol
// itself lives in redis_protocol.cpp.

#include "actors/sink/redis_client.hpp"
#include "actors/sink/redis_cluster.hpp"
#include "actors/sink/resp_batch.hpp"
#include "actors/sink/tls_transport.hpp"
#include "actors/tuning.hpp"

#include <charconv>
#include <functional>
#include <string_view>

namespace trib {

using detail::batch_encoder;


// -- the client --------------------------------------------------------------

namespace {

// The transports name the server; this adds the user to what they throw,
// so that a connection lost mid-run names both.
class user_named_transport : public transport {
public:
  user_named_transport(std::unique_ptr<transport> t, std::string user)
    : t_(std::move(t)), user_(std::move(user)) {}
  void write_all(const char* data, size_t size) override {
    try {
      t_->write_all(data, size);
    } catch (const error& e) {
      rethrow(e);
    }
  }
  size_t read_some(char* data, size_t size) override {
    try {
      return t_->read_some(data, size);
    } catch (const error& e) {
      rethrow(e);
    }
  }

private:
  [[noreturn]] void rethrow(const error& e) const {
    throw error(e.code(), std::string(e.what()) + " (connected as user " + user_ + ")");
  }
  std::unique_ptr<transport> t_;
  std::string user_;
};

}  // namespace

struct redis_client::impl {
  std::unique_ptr<transport> conn;
  /// Encoding buffer, reused so that a steady flow of batches does not
  /// allocate once it reached its size.
  std::string out;
  std::vector<char> in = std::vector<char>(tuning::redis_read_buffer_bytes);
  std::unique_ptr<reply_reader> reader = std::make_unique<reply_reader>();
  /// Bytes received for the fast path of receive_write, from raw_pos on not
  /// consumed yet; handed to `reader` when a reply takes the full parser.
  std::string raw;
  size_t raw_pos = 0;
  /// WATCHed before every write, after watch_check passed, and read right
  /// after: it must hold watch_holder (see watch_in_writes).
  std::string watch_key;
  std::string watch_holder;
  std::function<void()> watch_check;
  /// Mode CLUSTER: the watch key is watch_key:{stream} (stream_scoped_key).
  bool watch_per_stream = false;
  /// WAIT after every write's EXEC (wait_in_writes); 0: none.
  int wait_replicas = 0;
  int wait_timeout_ms = 0;
  /// Mode CLUSTER: the cluster this client routes to (no conn of its own).
  std::unique_ptr<cluster_client> cluster;

  std::string watched(const std::string& stream) const {
    return watch_per_stream ? stream_scoped_key(watch_key, stream) : watch_key;
  }

  void check_usable() const {
    if (!conn)
      throw error(failure_code::connection,
                  "the redis connection was closed after an earlier failure");
  }

  /// Drops the connection: after a failed read or write the reply stream is
  /// out of step with the commands, and nothing on it can be trusted.
  void drop() {
    conn.reset();
    out.clear();
    reader = std::make_unique<reply_reader>();
    raw.clear();
    raw_pos = 0;
  }

  /// Receives more bytes into `raw`.
  void fill() {
    size_t n = conn->read_some(in.data(), in.size());
    raw.append(in.data(), n);
  }

  /// The line (without CRLF) that starts at `p` in `raw`, receiving until
  /// it is complete; `p` moves past it.
  std::string_view line(size_t& p) {
    size_t from = p;
    for (;;) {
      auto crlf = raw.find("\r\n", from);
      if (crlf != std::string::npos) {
        std::string_view l(raw.data() + p, crlf - p);
        p = crlf + 2;
        return l;
      }
      from = raw.size() > p ? raw.size() - 1 : p;
      fill();
    }
  }

  /// Reads the replies of a clean commit of `entries` XADDs plus HSET from
  /// `raw` without building them: entries + 1 times +QUEUED, then
  /// EXEC's array of `entries` bulk IDs and the HSET's integer. Returns
  /// false, consuming nothing, at the first byte of another shape. Waits
  /// only for bytes the shape read so far promises.
  bool fast_commit(size_t entries, write_outcome& o) {
    if (reader->buffered() != 0) return false;
    if (raw_pos == raw.size()) {
      raw.clear();
      raw_pos = 0;
    }
    size_t p = raw_pos;
    for (size_t i = 0; i <= entries; ++i)
      if (line(p) != "+QUEUED") return false;
    auto head = line(p);
    if (head.size() < 2 || head[0] != '*') return false;
    size_t count = 0;
    auto res = std::from_chars(head.data() + 1, head.data() + head.size(), count);
    if (res.ec != std::errc{} || res.ptr != head.data() + head.size() || count != entries + 1)
      return false;
    std::string_view last;
    size_t last_at = 0;
    for (size_t i = 0; i < entries; ++i) {
      auto bulk = line(p);
      size_t len = 0;
      if (bulk.size() < 2 || bulk[0] != '$') return false;
      auto r = std::from_chars(bulk.data() + 1, bulk.data() + bulk.size(), len);
      if (r.ec != std::errc{} || r.ptr != bulk.data() + bulk.size()) return false;
      while (raw.size() < p + len + 2) fill();
      if (raw.compare(p + len, 2, "\r\n") != 0) return false;
      last_at = p;
      last = std::string_view(raw.data() + p, len);
      p += len + 2;
    }
    auto hset = line(p);
    if (hset.empty() || hset[0] != ':') return false;
    o.added = entries;
    o.last_id.assign(raw, last_at, last.size());
    o.checkpoint_written = true;
    raw_pos = p;
    if (raw_pos == raw.size()) {
      raw.clear();
      raw_pos = 0;
    }
    return true;
  }

  /// Hands the bytes the fast path left to the full parser.
  void hand_over() {
    if (raw_pos < raw.size()) reader->feed(raw.data() + raw_pos, raw.size() - raw_pos);
    raw.clear();
    raw_pos = 0;
  }

  /// Sends bytes that live elsewhere (a batch's pre-encoded entries).
  void send_raw(const char* data, size_t size) {
    try {
      conn->write_all(data, size);
    } catch (...) {
      drop();
      throw;
    }
  }

  void send() {
    if (!out.empty()) send_raw(out.data(), out.size());
    // Keep a moderate buffer; give back what one huge batch made it grow to.
    if (out.capacity() > (64u << 20))
      std::string().swap(out);
    else
      out.clear();
  }

  void read_replies(size_t count, std::vector<redis_reply>& replies) {
    replies.reserve(replies.size() + count);
    try {
      hand_over();
      while (count > 0) {
        if (auto r = reader->next()) {
          replies.push_back(std::move(*r));
          --count;
          continue;
        }
        size_t n = conn->read_some(in.data(), in.size());
        reader->feed(in.data(), n);
      }
    } catch (...) {
      drop();
      throw;
    }
  }

  /// Opens a write's transaction and waits for Redis to accept it, before
  /// any of its commands is sent: were MULTI refused (an ACL changed during
  /// the run), every command sent behind it would run at once, outside a
  /// transaction. With a lease, WATCH and GET of its key come first: the
  /// GET shows the key still this run's once the WATCH is in place, so a
  /// takeover before the WATCH cannot go unseen (a check of the clock alone
  /// misses a process stopped between the check and its WATCH, by SIGSTOP
  /// say) and one after it aborts the EXEC. Throws with the connection
  /// dropped when any of them is refused; nothing was written then.
  void open(const std::string& stream) {
    bool watched = !watch_key.empty();
    std::string key = watched ? this->watched(stream) : std::string();
    if (watched) {
      if (watch_check) watch_check();
      encode_command(out, {"WATCH", key});
      encode_command(out, {"GET", key});
    }
    out += "*1\r\n$5\r\nMULTI\r\n";
    send();
    std::vector<redis_reply> replies;
    read_replies(watched ? 3 : 1, replies);
    auto fail = [&](failure_code code, const std::string& what) {
      drop();
      throw error(code, what + "; nothing of the write to " + stream + " was sent");
    };
    auto refused = [&](const redis_reply& r, const std::string& command) {
      if (r.type == redis_reply::kind::error)
        fail(classify_redis_error(r.str), "redis refused " + command + ": " + r.str);
    };
    if (watched) {
      refused(replies[0], "WATCH " + key);
      refused(replies[1], "GET " + key);
      if (replies[1].type != redis_reply::kind::string)
        fail(failure_code::target_lost,
             "the lease " + key + " is gone (redis lost it, or it was deleted)");
      if (replies[1].str != watch_holder)
        fail(failure_code::target_lost,
             "the lease " + key + " is held by another run (" + replies[1].str + ")");
    }
    refused(replies.back(), "MULTI");
    if (replies.back().type != redis_reply::kind::status || replies.back().str != "OK")
      fail(failure_code::internal, "redis answered MULTI with " + replies.back().str);
  }
};

redis_client::redis_client(std::unique_ptr<transport> t) : impl_(std::make_unique<impl>()) {
  impl_->conn = std::move(t);
}

redis_client::~redis_client() = default;

bool redis_client::usable() const {
  return impl_->conn != nullptr || impl_->cluster != nullptr;
}

cluster_client* redis_client::cluster() {
  return impl_->cluster.get();
}

void redis_client::wait_in_writes(int replicas, int timeout_ms) {
  impl_->wait_replicas = replicas;
  impl_->wait_timeout_ms = timeout_ms;
}

void redis_client::watch_per_stream(bool on) {
  impl_->watch_per_stream = on;
}

uint64_t max_bulk_bytes(redis_client& c) {
  auto r = c.command({"CONFIG", "GET", "proto-max-bulk-len"});
  // An ACL without CONFIG answers NOPERM: Redis's default then.
  if (r.type != redis_reply::kind::array || r.elements.size() != 2) return default_max_bulk_bytes;
  try {
    return std::stoull(r.elements[1].str);
  } catch (const std::exception&) {
    return default_max_bulk_bytes;
  }
}

std::unique_ptr<redis_client> redis_client::connect(const redis_config& cfg) {
  return connect(cfg, tuning::redis_connect_timeout_ms, tuning::redis_read_timeout_ms);
}

std::unique_ptr<redis_client> redis_client::connect(const redis_config& cfg,
                                                    int connect_timeout_ms,
                                                    int read_timeout_ms) {
  if (cfg.cluster) {
    auto c = std::make_unique<redis_client>(nullptr);
    c->impl_->cluster = std::make_unique<cluster_client>(cfg);
    return c;
  }
  std::string peer = cfg.host + ":" + std::to_string(cfg.port);
  std::string user = cfg.username.empty() ? std::string("default") : cfg.username;
  // The transports name the server and the cause; the user is added here.
  std::unique_ptr<redis_client> c;
  try {
    c = std::make_unique<redis_client>(
      cfg.ssl.enable
        ? connect_tls(cfg.host, cfg.port, cfg.ssl, connect_timeout_ms, read_timeout_ms)
        : connect_tcp(cfg.host, cfg.port, connect_timeout_ms, read_timeout_ms));
  } catch (const error& e) {
    // A store file that cannot be read is about the file, not the server.
    if (e.code() == failure_code::config) throw;
    throw error(e.code(), std::string(e.what()) + " (connecting as user " + user + ")");
  }
  // A TLS port drops a plain connection at its first command; say so
  // rather than only "connection closed" (the reverse case is caught in the
  // TLS handshake).
  auto first = [&](const std::vector<std::string>& argv) {
    try {
      return c->command(argv);
    } catch (const error& e) {
      if (cfg.ssl.enable || e.code() != failure_code::connection) throw;
      throw error(failure_code::connection,
                  std::string(e.what()) + " at the first command as user " + user +
                    " (is this a TLS port? ssl.enable is off)");
    }
  };
  bool authenticated = false;
  if (!cfg.username.empty() || !cfg.password.empty()) {
    std::vector<std::string> argv{"AUTH"};
    if (!cfg.username.empty())
      argv.push_back(cfg.username);
    argv.push_back(cfg.password);
    auto r = first(argv);
    authenticated = true;
    if (r.type == redis_reply::kind::error) {
      // The connection stays logged in as `default` after a failed AUTH;
      // close it so nothing can run with the wrong identity.
      c.reset();
      throw error(failure_code::auth,
                  "redis at " + peer + " refused authentication as user " + user + ": " + r.str);
    }
  }
  auto pong = authenticated ? c->command({"PING"}) : first({"PING"});
  if (pong.type == redis_reply::kind::error)
    throw error(classify_redis_error(pong.str),
                "redis at " + peer + " refused PING from user " + user + ": " + pong.str);
  if (pong.type != redis_reply::kind::status || pong.str != "PONG")
    throw error(failure_code::internal, "redis at " + peer + " answered PING with " + pong.str);
  c->impl_->conn = std::make_unique<user_named_transport>(std::move(c->impl_->conn), user);
  return c;
}

redis_reply redis_client::command(const std::vector<std::string>& argv) {
  if (impl_->cluster) return impl_->cluster->routed(argv);
  impl_->check_usable();
  encode_command(impl_->out, argv);
  impl_->send();
  std::vector<redis_reply> replies;
  impl_->read_replies(1, replies);
  return std::move(replies.front());
}

std::vector<redis_reply> redis_client::pipeline(
  const std::vector<std::vector<std::string>>& commands) {
  std::vector<redis_reply> replies;
  if (impl_->cluster) {
    // Each to its node, one after the other: setup work, not the hot path.
    for (const auto& argv : commands) replies.push_back(impl_->cluster->routed(argv));
    return replies;
  }
  impl_->check_usable();
  if (commands.empty())
    return replies;
  for (const auto& argv : commands)
    encode_command(impl_->out, argv);
  impl_->send();
  impl_->read_replies(commands.size(), replies);
  return replies;
}

void redis_client::send_write(const write_batch& b) {
  if (impl_->cluster)
    throw error(failure_code::internal,
                "a write to " + b.stream + " went to the cluster, not to the connection of its node");
  impl_->check_usable();
  batch_encoder enc{b};
  impl_->open(b.stream);
  auto& out = impl_->out;
  out.reserve(tuning::redis_send_chunk_bytes + 4096);
  for (size_t i = 0; i < b.entries.size(); ++i) {
    enc.entry(out, i);
    if (out.size() >= tuning::redis_send_chunk_bytes) impl_->send();
  }
  if (!b.encoded.empty()) {
    // Pre-encoded entries go to the socket as they are, without a copy.
    impl_->send();
    impl_->send_raw(b.encoded.data(), b.encoded.size());
  }
  enc.end(out);
  if (impl_->wait_replicas > 0)
    encode_command(out, {"WAIT", std::to_string(impl_->wait_replicas),
                         std::to_string(impl_->wait_timeout_ms)});
  impl_->send();
}

write_outcome redis_client::receive_write(const write_batch& b, bool want_ids) {
  impl_->check_usable();
  // The WAIT after EXEC answers with the replicas that hold the write.
  auto read_wait = [&](write_outcome& o) {
    if (impl_->wait_replicas <= 0) return;
    std::vector<redis_reply> r;
    impl_->read_replies(1, r);
    if (r[0].type == redis_reply::kind::integer) {
      o.replicas = r[0].integer;
    } else {
      o.replicas = 0;
      if (!o.error)
        o.error = failure{classify_redis_error(r[0].str), "redis refuses WAIT: " + r[0].str};
    }
  };
  if (!want_ids) {
    write_outcome o;
    bool fast = false;
    try {
      fast = impl_->fast_commit(b.size(), o);
    } catch (...) {
      impl_->drop();
      throw;
    }
    if (fast) {
      read_wait(o);
      return o;
    }
  }
  // MULTI was answered +OK before the body was sent (see impl::open).
  std::vector<redis_reply> replies{redis_reply{redis_reply::kind::status, "OK", 0, {}}};
  impl_->read_replies(b.size() + 2, replies);
  auto o = interpret_write_replies(b.stream, b.size(), replies);
  const auto& exec = replies.back();
  if (!impl_->watch_key.empty() && exec.type == redis_reply::kind::nil)
    o.error = failure{failure_code::target_lost,
                      "the lease " + impl_->watched(b.stream) + " changed during a write to " + b.stream +
                        ", which redis therefore discarded (nothing was written): another run "
                        "of this replication took it over, or redis lost it"};
  // EXEC that ran, was aborted by WATCH, or answered EXECABORT ended the
  // transaction. A refused EXEC may leave it open: start over on a fresh
  // connection then.
  bool clean = exec.type == redis_reply::kind::array || exec.type == redis_reply::kind::nil ||
               (exec.type == redis_reply::kind::error && exec.str.rfind("EXECABORT", 0) == 0);
  if (!clean) {
    impl_->drop();
    return o;
  }
  read_wait(o);
  return o;
}

void redis_client::watch_in_writes(const std::string& key, const std::string& holder,
                                   std::function<void()> check) {
  impl_->watch_key = key;
  impl_->watch_holder = holder;
  impl_->watch_check = std::move(check);
}

write_outcome redis_client::try_write_atomically(const write_batch& b, bool want_ids) {
  send_write(b);
  return receive_write(b, want_ids);
}

std::vector<std::string> redis_client::write_atomically(const write_batch& b) {
  auto o = try_write_atomically(b);
  if (o.error)
    throw error(o.error->code, o.error->what);
  return std::move(o.ids);
}

redis_reply command_or_throw(redis_client& c, const std::vector<std::string>& argv) {
  auto r = c.command(argv);
  if (r.type == redis_reply::kind::error) {
    std::string what = "redis refuses " + argv[0] + (argv.size() > 1 ? " " + argv[1] : "") +
                       ": " + r.str;
    if (r.str.rfind("NOPERM", 0) == 0)
      what += " (the target user needs read and write access to this replication's "
              "replicate_io_* keys and to the table streams)";
    throw error(classify_redis_error(r.str), what);
  }
  return r;
}

}  // namespace trib
