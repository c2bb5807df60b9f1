// The Redis protocol over a transport: hiredis encodes single commands and
// parses every reply (into redis_reply directly); the atomic batch write is
// encoded here by hand, because that is the hot path (one XADD and two
// replies per row) and its RESP shape is fixed.

#include "actors/sink/redis_client.hpp"
#include "actors/sink/tls_transport.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>
#include <string_view>

namespace trib {

// -- classification ----------------------------------------------------------

failure_code classify_redis_error(const std::string& message) {
  // Redis error replies start with an upper-case code word ("WRONGTYPE
  // Operation against a key ..."); the rest is prose that may change.
  auto end = message.find(' ');
  std::string code = message.substr(0, end);
  for (const char* busy : {"LOADING", "BUSY", "TRYAGAIN", "OOM", "CLUSTERDOWN",
                           "MASTERDOWN", "READONLY"})
    if (code == busy)
      return failure_code::server_busy;
  for (const char* auth : {"NOPERM", "NOAUTH", "WRONGPASS"})
    if (code == auth)
      return failure_code::auth;
  if (code == "WRONGTYPE")
    return failure_code::wrong_type;
  return failure_code::bad_data;
}

// -- parsing -----------------------------------------------------------------

namespace {

[[noreturn]] void protocol_error(const std::string& what) {
  throw error(failure_code::connection, "cannot parse the reply from redis: " + what);
}

}  // namespace

/// hiredis calls these while it parses; each returns where the value lives.
struct reply_builder {
  /// The redis_reply a task fills: the reader's slot for a top-level reply,
  /// otherwise its place among the parent's elements (sized by createArray).
  static redis_reply* place(const redisReadTask* task) {
    if (task->parent == nullptr) {
      auto* self = static_cast<reply_reader*>(task->privdata);
      self->slot_ = redis_reply{};
      return &self->slot_;
    }
    auto* parent = static_cast<redis_reply*>(task->parent->obj);
    return &parent->elements[static_cast<size_t>(task->idx)];
  }

  static void* create_string(const redisReadTask* task, char* str, size_t len) {
    redis_reply* r = place(task);
    switch (task->type) {
      case REDIS_REPLY_ERROR: r->type = redis_reply::kind::error; break;
      case REDIS_REPLY_STATUS: r->type = redis_reply::kind::status; break;
      default: r->type = redis_reply::kind::string; break;
    }
    r->str.assign(str, len);
    return r;
  }

  static void* create_array(const redisReadTask* task, int elements) {
    redis_reply* r = place(task);
    r->type = redis_reply::kind::array;
    r->elements.resize(static_cast<size_t>(elements));
    return r;
  }

  static void* create_integer(const redisReadTask* task, long long value) {
    redis_reply* r = place(task);
    r->type = redis_reply::kind::integer;
    r->integer = value;
    return r;
  }

  static void* create_nil(const redisReadTask* task) {
    redis_reply* r = place(task);
    r->type = redis_reply::kind::nil;
    return r;
  }

  // Every value lives in the reader's slot or inside it: nothing to free.
  static void free_object(void*) {
  }
};

namespace {

redisReplyObjectFunctions reply_functions = {
  reply_builder::create_string, reply_builder::create_array, reply_builder::create_integer,
  reply_builder::create_nil, reply_builder::free_object};

}  // namespace

reply_reader::reply_reader() : reader_(redisReaderCreateWithFunctions(&reply_functions)) {
  if (!reader_) throw std::bad_alloc();
  reader_->privdata = this;
  // hiredis keeps up to maxbuf unused bytes around; a batch's replies are
  // read in 64 KB pieces, so keep the buffer rather than reallocating it.
  reader_->maxbuf = 0;
}

reply_reader::~reply_reader() {
  redisReaderFree(reader_);
}

void reply_reader::feed(const char* data, size_t size) {
  if (redisReaderFeed(reader_, data, size) != REDIS_OK)
    protocol_error(reader_->errstr);
}

size_t reply_reader::buffered() const {
  return reader_->len - reader_->pos;
}

std::optional<redis_reply> reply_reader::next() {
  void* obj = nullptr;
  if (redisReaderGetReply(reader_, &obj) != REDIS_OK) protocol_error(reader_->errstr);
  if (obj == nullptr) return std::nullopt;
  return std::move(slot_);
}

// -- encoding ----------------------------------------------------------------

void encode_command(std::string& out, const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  char* cmd = nullptr;
  int n = redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()), args.data(),
                                 lens.data());
  if (n < 0)
    throw std::bad_alloc();
  out.append(cmd, static_cast<size_t>(n));
  redisFreeCommand(cmd);
}

namespace {

/// Appends "$<len>\r\n<data>\r\n".
void append_bulk(std::string& out, const std::string& s) {
  char num[24];
  auto res = std::to_chars(num, num + sizeof num, s.size());
  out += '$';
  out.append(num, res.ptr);
  out += "\r\n";
  out += s;
  out += "\r\n";
}

/// The pieces of a batch write: MULTI, one XADD per entry, HSET of the
/// checkpoint and EXEC.
class batch_encoder {
public:
  explicit batch_encoder(const write_batch& b) : b_(b), xadd_(b.stream) {}

  /// Bytes of entry i's XADD, a little over.
  size_t entry_size(size_t i) const {
    return xadd_.size(b_.entries[i].key.size(), b_.entries[i].value.size());
  }

  void begin(std::string& out) const { out += "*1\r\n$5\r\nMULTI\r\n"; }

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

/// A batch goes to the socket in pieces of about this size, so that the
/// encoding buffer stays small (and in cache) however large the batch is.
constexpr size_t send_chunk_bytes = 256 * 1024;

}  // namespace

xadd_encoder::xadd_encoder(const std::string& stream) {
  head_ = "*7\r\n$4\r\nXADD\r\n";
  append_bulk(head_, stream);
  head_ += "$1\r\n*\r\n$3\r\nkey\r\n";
}

size_t xadd_encoder::set_bulk_length(std::string& out, size_t head, size_t room,
                                     size_t len) {
  char num[24];
  auto res = std::to_chars(num, num + sizeof num, len);
  auto digits = static_cast<size_t>(res.ptr - num);
  if (digits > room)
    out.insert(head + 1, digits - room, '0');
  else if (digits < room)
    out.erase(head + 1, room - digits);
  std::memcpy(&out[head + 1], num, digits);
  return digits;
}

void xadd_encoder::append(std::string& out, const std::string& key,
                          const std::string& value) const {
  out += head_;
  append_bulk(out, key);
  out += "$5\r\nvalue\r\n";
  append_bulk(out, value);
}

void encode_write_batch(std::string& out, const write_batch& b) {
  batch_encoder enc{b};
  size_t need = 32 + enc.end_size() + b.encoded.size();
  for (size_t i = 0; i < b.entries.size(); ++i) need += enc.entry_size(i);
  out.reserve(out.size() + need);
  enc.begin(out);
  for (size_t i = 0; i < b.entries.size(); ++i) enc.entry(out, i);
  out += b.encoded;
  enc.end(out);
}

std::vector<stream_entry> batch_entries(const write_batch& b) {
  std::vector<stream_entry> out = b.entries;
  // The encoded commands are RESP arrays of bulk strings: the reply parser
  // reads that shape as well.
  reply_reader r;
  r.feed(b.encoded.data(), b.encoded.size());
  for (uint64_t i = 0; i < b.encoded_count; ++i) {
    std::optional<redis_reply> cmd;
    try {
      cmd = r.next();
    } catch (const error& e) {
      throw error(failure_code::bad_data, std::string("encoded entries: ") + e.what());
    }
    if (!cmd || cmd->elements.size() != 7 || cmd->elements[0].str != "XADD" ||
        cmd->elements[3].str != "key" || cmd->elements[5].str != "value")
      throw error(failure_code::bad_data, "encoded entries: not an XADD of key and value");
    out.push_back(stream_entry{cmd->elements[4].str, cmd->elements[6].str});
  }
  return out;
}

// -- interpreting a transaction ----------------------------------------------

std::vector<std::string> write_outcome::added_ids() const {
  std::vector<std::string> out;
  for (const auto& id : ids)
    if (!id.empty())
      out.push_back(id);
  return out;
}

namespace {

bool is_error(const redis_reply& r) {
  return r.type == redis_reply::kind::error;
}

std::string count_text(const write_outcome& o, size_t entries) {
  size_t added = 0;
  for (const auto& id : o.ids)
    added += id.empty() ? 0 : 1;
  return std::to_string(added) + " of " + std::to_string(entries) +
         " entries were added, checkpoint " +
         (o.checkpoint_written ? "written" : "not written");
}

/// Fills ids/checkpoint_written from the results of the n XADDs and the HSET
/// (EXEC's array, or the direct replies when MULTI failed); returns the first
/// error among them.
const redis_reply* collect_results(write_outcome& o, size_t entries,
                                   const redis_reply* results) {
  const redis_reply* first_error = nullptr;
  o.ids.assign(entries, std::string());
  for (size_t i = 0; i < entries; ++i) {
    const auto& r = results[i];
    if (r.type == redis_reply::kind::string) {
      o.ids[i] = r.str;
      o.last_id = r.str;
      ++o.added;
    } else if (is_error(r) && first_error == nullptr) {
      first_error = &r;
    }
  }
  const auto& hset = results[entries];
  if (hset.type == redis_reply::kind::integer)
    o.checkpoint_written = true;
  else if (is_error(hset) && first_error == nullptr)
    first_error = &hset;
  return first_error;
}

}  // namespace

write_outcome interpret_write_replies(const std::string& stream, size_t entries,
                                      const std::vector<redis_reply>& replies) {
  write_outcome o;
  auto fail = [&](failure_code code, std::string what) {
    o.error = failure{code, std::move(what)};
    return o;
  };
  if (replies.size() != entries + 3)
    return fail(failure_code::internal,
                "expected " + std::to_string(entries + 3) + " replies from redis for " +
                  stream + ", got " + std::to_string(replies.size()));
  const auto& multi = replies.front();
  const auto& exec = replies.back();
  if (is_error(multi)) {
    // Without MULTI every command ran on its own: report what they did.
    collect_results(o, entries, &replies[1]);
    return fail(classify_redis_error(multi.str),
                "redis refused MULTI for " + stream + ": " + multi.str + "; " +
                  count_text(o, entries) + " outside a transaction");
  }
  // Errors at queue time (NOPERM, OOM, unknown command) make EXEC discard
  // the whole transaction with EXECABORT; the first one says why.
  const redis_reply* queue_error = nullptr;
  for (size_t i = 1; i <= entries + 1; ++i) {
    if (is_error(replies[i])) {
      if (queue_error == nullptr)
        queue_error = &replies[i];
    } else if (replies[i].type != redis_reply::kind::status || replies[i].str != "QUEUED") {
      return fail(failure_code::internal,
                  "unexpected reply to a queued command for " + stream + ": " + replies[i].str);
    }
  }
  switch (exec.type) {
    case redis_reply::kind::error: {
      const auto& cause = queue_error != nullptr ? *queue_error : exec;
      return fail(classify_redis_error(cause.str),
                  "redis rejected the transaction on " + stream +
                    " before EXEC, nothing was written: " + cause.str);
    }
    case redis_reply::kind::nil:
      return fail(failure_code::internal,
                  "redis discarded the transaction on " + stream + " (EXEC returned nil)");
    case redis_reply::kind::array:
      break;
    default:
      return fail(failure_code::internal, "unexpected reply to EXEC for " + stream);
  }
  if (exec.elements.size() != entries + 1)
    return fail(failure_code::internal,
                "EXEC for " + stream + " returned " + std::to_string(exec.elements.size()) +
                  " results, expected " + std::to_string(entries + 1));
  // Failures inside EXEC (WRONGTYPE) are not rolled back: the other
  // commands stayed applied, and the outcome says which.
  if (const redis_reply* err = collect_results(o, entries, exec.elements.data()))
    return fail(classify_redis_error(err->str),
                "redis failed part of the transaction on " + stream +
                  " (not rolled back): " + err->str + "; " + count_text(o, entries));
  return o;
}

// -- the client --------------------------------------------------------------

struct redis_client::impl {
  std::unique_ptr<transport> conn;
  /// Encoding buffer, reused so that a steady flow of batches does not
  /// allocate once it reached its size.
  std::string out;
  std::vector<char> in = std::vector<char>(64 * 1024);
  std::unique_ptr<reply_reader> reader = std::make_unique<reply_reader>();
  /// Bytes received for the fast path of receive_write, from raw_pos on not
  /// consumed yet; handed to `reader` when a reply takes the full parser.
  std::string raw;
  size_t raw_pos = 0;
  /// WATCHed before every write, after watch_check passed (see
  /// watch_in_writes).
  std::string watch_key;
  std::function<void()> watch_check;

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
  /// `raw` without building them: +OK, entries + 1 times +QUEUED, then
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
    if (!watch_key.empty() && line(p) != "+OK") return false;
    if (line(p) != "+OK") return false;
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
};

redis_client::redis_client(std::unique_ptr<transport> t) : impl_(std::make_unique<impl>()) {
  impl_->conn = std::move(t);
}

redis_client::~redis_client() = default;

bool redis_client::usable() const {
  return impl_->conn != nullptr;
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
  return connect(cfg, default_redis_connect_timeout_ms, default_redis_read_timeout_ms);
}

std::unique_ptr<redis_client> redis_client::connect(const redis_config& cfg,
                                                    int connect_timeout_ms,
                                                    int read_timeout_ms) {
  std::string peer = cfg.host + ":" + std::to_string(cfg.port);
  auto c = std::make_unique<redis_client>(
    cfg.ssl.enable
      ? connect_tls(cfg.host, cfg.port, cfg.ssl, connect_timeout_ms, read_timeout_ms)
      : connect_tcp(cfg.host, cfg.port, connect_timeout_ms, read_timeout_ms));
  // A TLS port drops a plain connection at its first command; say so
  // rather than only "connection closed" (the reverse case is caught in the
  // TLS handshake).
  auto first = [&](const std::vector<std::string>& argv) {
    try {
      return c->command(argv);
    } catch (const error& e) {
      if (cfg.ssl.enable || e.code() != failure_code::connection) throw;
      throw error(failure_code::connection,
                  std::string(e.what()) + " at the first command (is this a TLS port? " +
                    "ssl.enable is off)");
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
                  "redis at " + peer + " refused authentication as " +
                    (cfg.username.empty() ? std::string("default") : cfg.username) + ": " +
                    r.str);
    }
  }
  auto pong = authenticated ? c->command({"PING"}) : first({"PING"});
  if (pong.type == redis_reply::kind::error)
    throw error(classify_redis_error(pong.str), "redis at " + peer + " refused PING: " + pong.str);
  if (pong.type != redis_reply::kind::status || pong.str != "PONG")
    throw error(failure_code::internal, "redis at " + peer + " answered PING with " + pong.str);
  return c;
}

redis_reply redis_client::command(const std::vector<std::string>& argv) {
  impl_->check_usable();
  encode_command(impl_->out, argv);
  impl_->send();
  std::vector<redis_reply> replies;
  impl_->read_replies(1, replies);
  return std::move(replies.front());
}

std::vector<redis_reply> redis_client::pipeline(
  const std::vector<std::vector<std::string>>& commands) {
  impl_->check_usable();
  std::vector<redis_reply> replies;
  if (commands.empty())
    return replies;
  for (const auto& argv : commands)
    encode_command(impl_->out, argv);
  impl_->send();
  impl_->read_replies(commands.size(), replies);
  return replies;
}

void redis_client::send_write(const write_batch& b) {
  impl_->check_usable();
  batch_encoder enc{b};
  auto& out = impl_->out;
  out.reserve(send_chunk_bytes + 4096);
  if (!impl_->watch_key.empty()) {
    // Checked right before WATCH leaves, and WATCH with MULTI sent on their
    // own: a WATCH that reaches Redis was sent while the lease was this
    // run's, so a takeover after it aborts the transaction.
    if (impl_->watch_check) impl_->watch_check();
    encode_command(out, {"WATCH", impl_->watch_key});
    enc.begin(out);
    impl_->send();
  } else {
    enc.begin(out);
  }
  for (size_t i = 0; i < b.entries.size(); ++i) {
    enc.entry(out, i);
    if (out.size() >= send_chunk_bytes) impl_->send();
  }
  if (!b.encoded.empty()) {
    // Pre-encoded entries go to the socket as they are, without a copy.
    impl_->send();
    impl_->send_raw(b.encoded.data(), b.encoded.size());
  }
  enc.end(out);
  impl_->send();
}

write_outcome redis_client::receive_write(const write_batch& b, bool want_ids) {
  impl_->check_usable();
  if (!want_ids) {
    write_outcome o;
    bool fast = false;
    try {
      fast = impl_->fast_commit(b.size(), o);
    } catch (...) {
      impl_->drop();
      throw;
    }
    if (fast) return o;
  }
  std::vector<redis_reply> replies;
  bool watched = !impl_->watch_key.empty();
  impl_->read_replies(b.size() + 3 + (watched ? 1 : 0), replies);
  // A refused WATCH leaves the transaction unfenced but otherwise whole
  // (the run checked WATCH before it started): its outcome stands.
  if (watched) replies.erase(replies.begin());
  auto o = interpret_write_replies(b.stream, b.size(), replies);
  if (watched && replies.back().type == redis_reply::kind::nil)
    o.error = failure{failure_code::target_lost,
                      "the lease " + impl_->watch_key + " changed during a write to " + b.stream +
                        ", which redis therefore discarded (nothing was written): another run "
                        "of this replication took it over, or redis lost it"};
  // Three endings leave the connection in a known state: MULTI accepted
  // and EXEC ran or answered EXECABORT (which ends the transaction), and
  // MULTI refused by an ACL (no transaction was open; the commands ran on
  // their own and EXEC was refused). The writes sent after such a one ran
  // the same way: their replies are still read, so that the caller can
  // take every entry that landed outside a transaction back. Any other
  // refused MULTI may mean one was already open, and a refused EXEC may
  // leave this one open: start over on a fresh connection then.
  const auto& exec = replies.back();
  bool clean = (replies.front().type == redis_reply::kind::status &&
                (exec.type == redis_reply::kind::array || exec.type == redis_reply::kind::nil ||
                 (exec.type == redis_reply::kind::error && exec.str.rfind("EXECABORT", 0) == 0))) ||
               (replies.front().type == redis_reply::kind::error &&
                replies.front().str.rfind("NOPERM", 0) == 0 &&
                exec.type == redis_reply::kind::error);
  if (!clean)
    impl_->drop();
  return o;
}

void redis_client::watch_in_writes(const std::string& key, std::function<void()> check) {
  impl_->watch_key = key;
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
