// The Redis protocol, free of any connection: error classification, the
// reply parser (hiredis's reader building redis_reply values), command
// encoding and the XADDs of the atomic batch write (by hand: it is the hot
// path, one XADD and two replies per row, and its RESP shape is fixed), and
// what a transaction's replies say was written.

#include "actors/sink/redis_client.hpp"
#include "actors/sink/resp_batch.hpp"

#include <hiredis/hiredis.h>

#include <charconv>
#include <cstring>

namespace trib {

// -- classification ----------------------------------------------------------

failure_code classify_redis_error(const std::string& message) {
  // Redis error replies start with an upper-case code word ("WRONGTYPE
  // Operation against a key ..."); the rest is prose that may change.
  auto end = message.find(' ');
  std::string code = message.substr(0, end);
  // MOVED and ASK reach a caller only when its slot map is stale (a
  // failover, a resharding): retried with the map learned again.
  for (const char* busy : {"LOADING", "BUSY", "TRYAGAIN", "OOM", "CLUSTERDOWN",
                           "MASTERDOWN", "READONLY", "MOVED", "ASK"})
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

using detail::append_bulk;

void detail::append_bulk(std::string& out, const std::string& s) {
  char num[24];
  auto res = std::to_chars(num, num + sizeof num, s.size());
  out += '$';
  out.append(num, res.ptr);
  out += "\r\n";
  out += s;
  out += "\r\n";
}

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

}  // namespace trib
