// The pure half of the Redis client: reply parsing on bytes captured from
// Redis 7.0 (ops/servers.sh's server), the reading of a MULTI/EXEC reply
// sequence, error classification, and command encoding checked against
// hiredis's own encoder -- the batch write as send_write puts it on the wire,
// through a transport that records the bytes.

#include <gtest/gtest.h>

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cstring>

#include "actors/sink/redis_client.hpp"

using namespace trib;

namespace {

using kind = redis_reply::kind;

std::vector<redis_reply> parse_all(const std::string& bytes, size_t chunk = SIZE_MAX) {
  reply_reader r;
  std::vector<redis_reply> out;
  for (size_t pos = 0; pos < bytes.size(); pos += chunk) {
    r.feed(bytes.data() + pos, std::min(chunk, bytes.size() - pos));
    while (auto reply = r.next())
      out.push_back(std::move(*reply));
  }
  return out;
}

// Replies captured from redis-server 7.0.15 for the commands named above each.

// MULTI; XADD cap_s * key k1 value v1; XADD ... k2 v2; HSET cap_ck cap_s 42; EXEC
const std::string committed =
  "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n$15\r\n1795758886094-0\r\n"
  "$15\r\n1795758886094-1\r\n:1\r\n";
// (cap_str holds a string) MULTI; XADD cap_str * key k1 value v1;
// HSET cap_ck cap_str 1; EXEC
const std::string stream_wrong_type =
  "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n-WRONGTYPE Operation against a key holding "
  "the wrong kind of value\r\n:1\r\n";
// MULTI; XADD cap_s * key k1 value v1; HSET cap_str f 1; EXEC
const std::string checkpoint_wrong_type =
  "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n$15\r\n1795758887297-0\r\n-WRONGTYPE "
  "Operation against a key holding the wrong kind of value\r\n";
// As user repl (keys acl_*): MULTI; XADD acl_cap ...; XADD cap_s ...;
// HSET acl_cap_ck f 1; EXEC
const std::string queued_noperm =
  "+OK\r\n+QUEUED\r\n-NOPERM this user has no permissions to access one of the "
  "keys used as arguments\r\n+QUEUED\r\n-EXECABORT Transaction discarded because "
  "of previous errors.\r\n";
// As user capexec: MULTI; XADD cap_exec_s ...; HSET cap_exec_ck f 1; then
// ACL SETUSER capexec -xadd from another connection; EXEC (Redis 7 checks
// ACLs again at EXEC, runs the rest and is not rolled back)
const std::string exec_noperm =
  "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n-NOPERM ACLs rules changed between the moment "
  "the transaction was accumulated and the EXEC call. This command is no longer allowed "
  "for the following reason: no permission to execute the command or subcommand\r\n:1\r\n";
// HGET cap_ck nothere; XLEN cap_s; XRANGE cap_s - + COUNT 1
const std::string mixed =
  "$-1\r\n:3\r\n*1\r\n*2\r\n$15\r\n1795758886094-0\r\n*4\r\n$3\r\nkey\r\n$2\r\nk1"
  "\r\n$5\r\nvalue\r\n$2\r\nv1\r\n";

std::string hiredis_format(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  char* cmd = nullptr;
  int n = redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()), args.data(),
                                 lens.data());
  std::string out(cmd, static_cast<size_t>(n));
  redisFreeCommand(cmd);
  return out;
}

}  // namespace

TEST(redis_reply, parses_nil_integer_and_nested_arrays) {
  auto r = parse_all(mixed);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].type, kind::nil);
  EXPECT_EQ(r[1].type, kind::integer);
  EXPECT_EQ(r[1].integer, 3);
  ASSERT_EQ(r[2].type, kind::array);
  ASSERT_EQ(r[2].elements.size(), 1u);
  const auto& entry = r[2].elements[0];
  ASSERT_EQ(entry.elements.size(), 2u);
  EXPECT_EQ(entry.elements[0].str, "1795758886094-0");
  const auto& fields = entry.elements[1].elements;
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[0].str, "key");
  EXPECT_EQ(fields[1].str, "k1");
  EXPECT_EQ(fields[2].str, "value");
  EXPECT_EQ(fields[3].str, "v1");
}

TEST(redis_reply, gives_the_same_replies_when_bytes_arrive_one_at_a_time) {
  auto whole = parse_all(committed);
  auto trickled = parse_all(committed, 1);
  ASSERT_EQ(whole.size(), 5u);
  ASSERT_EQ(trickled.size(), whole.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(trickled[i].type, whole[i].type);
    EXPECT_EQ(trickled[i].str, whole[i].str);
    EXPECT_EQ(trickled[i].elements.size(), whole[i].elements.size());
  }
  EXPECT_EQ(whole[0].type, kind::status);
  EXPECT_EQ(whole[0].str, "OK");
  EXPECT_EQ(whole[1].str, "QUEUED");
}

TEST(redis_reply, keeps_binary_bulk_strings_whole) {
  std::string bytes("$5\r\na\0\r\nb\r\n", 11);
  auto r = parse_all(bytes);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].str, std::string("a\0\r\nb", 5));
}

TEST(redis_reply, protocol_garbage_is_a_connection_failure) {
  reply_reader r;
  r.feed("?what\r\n", 7);
  try {
    r.next();
    FAIL() << "garbage parsed";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::connection);
  }
}

TEST(redis_reply, classifies_error_codes) {
  for (const char* m : {"LOADING Redis is loading the dataset in memory",
                        "BUSY Redis is busy running a script.", "TRYAGAIN Multiple keys",
                        "OOM command not allowed when used memory > 'maxmemory'.",
                        "CLUSTERDOWN The cluster is down", "MASTERDOWN Link with MASTER is down",
                        "READONLY You can't write against a read only replica.",
                        "MOVED 3999 127.0.0.1:6381", "ASK 3999 127.0.0.1:6381"})
    EXPECT_EQ(classify_redis_error(m), failure_code::server_busy) << m;
  for (const char* m : {"NOPERM this user has no permissions", "NOAUTH Authentication required.",
                        "WRONGPASS invalid username-password pair or user is disabled."})
    EXPECT_EQ(classify_redis_error(m), failure_code::auth) << m;
  EXPECT_EQ(classify_redis_error("WRONGTYPE Operation against a key holding the wrong kind"),
            failure_code::wrong_type);
  for (const char* m : {"ERR unknown command 'XADDD'", "ERR syntax error", "EXECABORT Transaction",
                        "BUSYKEY Target key name already exists.", "", "OOMX odd"})
    EXPECT_EQ(classify_redis_error(m), failure_code::bad_data) << m;
}

TEST(redis_reply, committed_transaction_gives_ids_in_order) {
  auto o = interpret_write_replies("cap_s", 2, parse_all(committed));
  EXPECT_FALSE(o.error.has_value());
  EXPECT_EQ(o.ids, (std::vector<std::string>{"1795758886094-0", "1795758886094-1"}));
  EXPECT_TRUE(o.checkpoint_written);
}

TEST(redis_reply, wrong_type_inside_exec_reports_what_stayed_applied) {
  // Redis ran the HSET even though the XADD failed: the outcome must say so.
  auto o = interpret_write_replies("cap_str", 1, parse_all(stream_wrong_type));
  ASSERT_TRUE(o.error.has_value());
  EXPECT_EQ(o.error->code, failure_code::wrong_type);
  EXPECT_EQ(o.ids, std::vector<std::string>{""});
  EXPECT_TRUE(o.added_ids().empty());
  EXPECT_TRUE(o.checkpoint_written);
  EXPECT_NE(o.error->what.find("cap_str"), std::string::npos);
}

TEST(redis_reply, failed_checkpoint_inside_exec_lists_the_added_entry) {
  auto o = interpret_write_replies("cap_s", 1, parse_all(checkpoint_wrong_type));
  ASSERT_TRUE(o.error.has_value());
  EXPECT_EQ(o.error->code, failure_code::wrong_type);
  EXPECT_EQ(o.added_ids(), std::vector<std::string>{"1795758887297-0"});
  EXPECT_FALSE(o.checkpoint_written);
}

TEST(redis_reply, queue_time_rejection_is_classified_by_the_first_real_error) {
  auto o = interpret_write_replies("acl_cap", 2, parse_all(queued_noperm));
  ASSERT_TRUE(o.error.has_value());
  EXPECT_EQ(o.error->code, failure_code::auth);
  EXPECT_NE(o.error->what.find("NOPERM"), std::string::npos);
  EXPECT_TRUE(o.ids.empty());
  EXPECT_FALSE(o.checkpoint_written);
}

TEST(redis_reply, an_acl_change_before_exec_fails_the_write_and_lists_what_ran) {
  auto o = interpret_write_replies("cap_exec_s", 1, parse_all(exec_noperm));
  ASSERT_TRUE(o.error.has_value());
  EXPECT_EQ(o.error->code, failure_code::auth);
  EXPECT_NE(o.error->what.find("not rolled back"), std::string::npos) << o.error->what;
  EXPECT_TRUE(o.added_ids().empty());
  // The checkpoint was written without its entry: the writer writes the
  // previous one back.
  EXPECT_TRUE(o.checkpoint_written);
}

TEST(redis_reply, refused_multi_reports_commands_that_ran_alone) {
  auto replies = parse_all(
    "-NOPERM this user has no permissions to run the 'multi' command\r\n"
    "$15\r\n1795758886094-0\r\n:1\r\n-ERR EXEC without MULTI\r\n");
  auto o = interpret_write_replies("acl_s", 1, replies);
  ASSERT_TRUE(o.error.has_value());
  EXPECT_EQ(o.error->code, failure_code::auth);
  EXPECT_EQ(o.added_ids(), std::vector<std::string>{"1795758886094-0"});
  EXPECT_TRUE(o.checkpoint_written);
}

TEST(redis_reply, discarded_transaction_and_short_reply_sequences_are_failures) {
  auto nil_exec = interpret_write_replies("s", 0, parse_all("+OK\r\n+QUEUED\r\n*-1\r\n"));
  ASSERT_TRUE(nil_exec.error.has_value());
  EXPECT_EQ(nil_exec.error->code, failure_code::internal);
  EXPECT_FALSE(nil_exec.checkpoint_written);

  auto short_seq = interpret_write_replies("s", 2, parse_all(committed.substr(0, 20)));
  ASSERT_TRUE(short_seq.error.has_value());
  EXPECT_EQ(short_seq.error->code, failure_code::internal);

  // An EXEC array of the wrong length cannot be matched to the entries.
  auto odd = interpret_write_replies("s", 1, parse_all("+OK\r\n+QUEUED\r\n+QUEUED\r\n*1\r\n:1\r\n"));
  ASSERT_TRUE(odd.error.has_value());
  EXPECT_EQ(odd.error->code, failure_code::internal);
}

TEST(redis_reply, encode_command_matches_resp) {
  std::string out;
  encode_command(out, {"HGET", "ck", ""});
  EXPECT_EQ(out, "*3\r\n$4\r\nHGET\r\n$2\r\nck\r\n$0\r\n\r\n");
}

namespace {

// The socket side of redis_client::send_write: records the bytes sent and
// answers with `replies` (what Redis said to the commands sent before the
// entries: MULTI, or WATCH, GET and MULTI).
class recording_transport : public transport {
public:
  recording_transport(std::string& sent, std::string replies)
    : sent_(sent), replies_(std::move(replies)) {}
  void write_all(const char* data, size_t size) override { sent_.append(data, size); }
  size_t read_some(char* data, size_t size) override {
    if (replies_.empty()) throw error(failure_code::connection, "no more replies recorded");
    size_t n = std::min(size, replies_.size());
    std::memcpy(data, replies_.data(), n);
    replies_.erase(0, n);
    return n;
  }

private:
  std::string& sent_;
  std::string replies_;
};

// What send_write puts on the wire for `b`.
std::string sent_by_write(const write_batch& b) {
  std::string sent;
  redis_client c(std::make_unique<recording_transport>(sent, "+OK\r\n"));
  c.send_write(b);
  return sent;
}

}  // namespace

TEST(redis_reply, the_write_path_sends_what_hiredis_encodes_command_by_command) {
  write_batch b;
  b.stream = "shop_public_orders";
  b.entries = {{"{\"id\":1}", "{\"after\":{\"id\":1}}"},
               {std::string("bin\0\r\nary", 9), ""},
               {"", std::string(70000, 'v')}};
  b.checkpoint_key = "replicate_io_checkpoint_default_default";
  b.checkpoint_field = b.stream;
  b.checkpoint_value = "{\"lsn\":\"0/16B3748\"}";
  std::string expected = hiredis_format({"MULTI"});
  for (const auto& e : b.entries)
    expected += hiredis_format({"XADD", b.stream, "*", "key", e.key, "value", e.value});
  expected += hiredis_format({"HSET", b.checkpoint_key, b.checkpoint_field, b.checkpoint_value});
  expected += hiredis_format({"EXEC"});
  EXPECT_EQ(sent_by_write(b), expected);
}

TEST(redis_reply, the_write_path_sends_a_batch_larger_than_its_send_chunk_whole) {
  // Entries past tuning::redis_send_chunk_bytes go out in several sends;
  // together they are the same commands.
  write_batch b;
  b.stream = "big";
  for (size_t i = 0; b.entries.size() * 1000 < 3 * tuning::redis_send_chunk_bytes; ++i)
    b.entries.push_back({"k" + std::to_string(i), std::string(1000, static_cast<char>('a' + i % 26))});
  b.checkpoint_key = "ck";
  b.checkpoint_field = "big";
  b.checkpoint_value = "9";
  std::string expected = hiredis_format({"MULTI"});
  for (const auto& e : b.entries)
    expected += hiredis_format({"XADD", "big", "*", "key", e.key, "value", e.value});
  expected += hiredis_format({"HSET", "ck", "big", "9"});
  expected += hiredis_format({"EXEC"});
  EXPECT_EQ(sent_by_write(b), expected);
}

TEST(redis_reply, a_watched_write_sends_watch_and_get_of_the_lease_before_multi) {
  write_batch b;
  b.stream = "s";
  b.entries = {{"k", "v"}};
  b.checkpoint_key = "ck";
  b.checkpoint_field = "s";
  b.checkpoint_value = "1";
  std::string sent;
  redis_client c(
    std::make_unique<recording_transport>(sent, "+OK\r\n$3\r\nrun\r\n+OK\r\n"));
  c.watch_in_writes("lease", "run");
  c.send_write(b);
  EXPECT_EQ(sent, hiredis_format({"WATCH", "lease"}) + hiredis_format({"GET", "lease"}) +
                    hiredis_format({"MULTI"}) +
                    hiredis_format({"XADD", "s", "*", "key", "k", "value", "v"}) +
                    hiredis_format({"HSET", "ck", "s", "1"}) + hiredis_format({"EXEC"}));
}

TEST(redis_reply, pre_encoded_entries_follow_the_plain_ones_and_decode_back) {
  write_batch b;
  b.stream = "s";
  b.entries = {{"k1", "v1"}};
  xadd_encoder enc{b.stream};
  enc.append(b.encoded, "k2", std::string("v\r\n2", 4));
  enc.append(b.encoded, "", "v3");
  b.encoded_count = 2;
  b.checkpoint_key = "ck";
  b.checkpoint_field = "s";
  b.checkpoint_value = "7";
  EXPECT_EQ(b.size(), 3u);
  std::string expected = hiredis_format({"MULTI"});
  expected += hiredis_format({"XADD", "s", "*", "key", "k1", "value", "v1"});
  expected += hiredis_format({"XADD", "s", "*", "key", "k2", "value", std::string("v\r\n2", 4)});
  expected += hiredis_format({"XADD", "s", "*", "key", "", "value", "v3"});
  expected += hiredis_format({"HSET", "ck", "s", "7"});
  expected += hiredis_format({"EXEC"});
  EXPECT_EQ(sent_by_write(b), expected);
  auto entries = batch_entries(b);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1].key, "k2");
  EXPECT_EQ(entries[1].value, std::string("v\r\n2", 4));
  EXPECT_EQ(entries[2].value, "v3");
}

TEST(redis_reply, entries_built_in_place_match_hiredis_whatever_their_length) {
  // Lengths whose digit counts go up and down, so the room left for each
  // length is too small, too large and right.
  const size_t lengths[] = {5, 123, 7, 0, 10000, 99, 100, 9, 1234567, 12};
  xadd_encoder enc{"orders"};
  std::string out = "prefix", expected = "prefix";
  for (size_t i = 0; i < std::size(lengths); ++i) {
    std::string key(lengths[(i + 3) % std::size(lengths)] % 1000, 'k');
    std::string value(lengths[i], static_cast<char>('a' + i));
    enc.append_built(out, [&](std::string& o) { o += key; }, [&](std::string& o) { o += value; });
    expected += hiredis_format({"XADD", "orders", "*", "key", key, "value", value});
    ASSERT_EQ(out, expected) << "entry " << i;
  }
}

// -- receive_write over a scripted transport ---------------------------------

namespace {

/// Hands out `incoming` `chunk` bytes per read; appends what is written to
/// `*written` when given.
class script_transport : public transport {
public:
  script_transport(std::string incoming, size_t chunk, std::string* written = nullptr)
    : incoming_(std::move(incoming)), chunk_(chunk), written_(written) {}
  void write_all(const char* data, size_t size) override {
    if (written_) written_->append(data, size);
  }
  size_t read_some(char* data, size_t size) override {
    if (pos_ >= incoming_.size())
      throw error(failure_code::connection, "script: no more bytes");
    size_t n = std::min({size, chunk_, incoming_.size() - pos_});
    std::memcpy(data, incoming_.data() + pos_, n);
    pos_ += n;
    return n;
  }

private:
  std::string incoming_;
  size_t chunk_;
  std::string* written_;
  size_t pos_ = 0;
};

/// The replies of a transaction after MULTI's +OK, which send_write reads
/// before it sends the rest.
std::string after_multi(const std::string& replies) {
  EXPECT_EQ(replies.rfind("+OK\r\n", 0), 0u);
  return replies.substr(5);
}

write_batch two_entries(const std::string& stream) {
  write_batch b;
  b.stream = stream;
  b.entries = {{"k1", "v1"}, {"k2", "v2"}};
  b.checkpoint_key = "cap_ck";
  b.checkpoint_field = stream;
  b.checkpoint_value = "42";
  return b;
}

}  // namespace

TEST(redis_reply, clean_commits_are_read_without_their_ids_in_any_chunking) {
  // Two pipelined commits, then the reply to a plain command after them.
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{4096}}) {
    redis_client c(std::make_unique<script_transport>(after_multi(committed) + after_multi(committed) + ":3\r\n", chunk));
    auto b = two_entries("cap_s");
    auto first = c.receive_write(b, false);
    auto second = c.receive_write(b, false);
    for (const auto* o : {&first, &second}) {
      EXPECT_FALSE(o->error.has_value()) << "chunk " << chunk;
      EXPECT_EQ(o->added, 2u);
      EXPECT_EQ(o->last_id, "1795758886094-1");
      EXPECT_TRUE(o->ids.empty());
      EXPECT_TRUE(o->checkpoint_written);
    }
    // What the fast path received beyond the commits goes to the full parser.
    EXPECT_EQ(c.command({"XLEN", "cap_s"}).integer, 3) << "chunk " << chunk;
  }
}

TEST(redis_reply, a_failed_transaction_leaves_the_fast_path_for_the_full_parser) {
  for (size_t chunk : {size_t{1}, size_t{4096}}) {
    redis_client c(std::make_unique<script_transport>(after_multi(stream_wrong_type) + after_multi(committed), chunk));
    write_batch one = two_entries("cap_str");
    one.entries.pop_back();
    auto o = c.receive_write(one, false);
    ASSERT_TRUE(o.error.has_value()) << "chunk " << chunk;
    EXPECT_EQ(o.error->code, failure_code::wrong_type);
    EXPECT_EQ(o.ids, std::vector<std::string>{""});
    EXPECT_EQ(o.added, 0u);
    EXPECT_TRUE(o.checkpoint_written);
    // The next transaction's replies are intact.
    auto next = c.receive_write(two_entries("cap_s"), false);
    EXPECT_FALSE(next.error.has_value());
    EXPECT_EQ(next.added, 2u);
  }
  redis_client c(std::make_unique<script_transport>(after_multi(queued_noperm), 3));
  write_batch two = two_entries("acl_cap");
  auto o = c.receive_write(two, false);
  ASSERT_TRUE(o.error.has_value());
  EXPECT_EQ(o.error->code, failure_code::auth);
  EXPECT_EQ(o.added, 0u);
}

TEST(redis_reply, asking_for_ids_gives_every_id) {
  redis_client c(std::make_unique<script_transport>(after_multi(committed), 5));
  auto o = c.receive_write(two_entries("cap_s"), true);
  EXPECT_EQ(o.ids, (std::vector<std::string>{"1795758886094-0", "1795758886094-1"}));
  EXPECT_EQ(o.added, 2u);
  EXPECT_EQ(o.last_id, "1795758886094-1");
}

// -- send_write: nothing of a write goes out before MULTI is accepted -------

TEST(redis_reply, a_refused_multi_sends_none_of_the_write) {
  std::string written;
  redis_client c(std::make_unique<script_transport>(
    "-NOPERM this user has no permissions to run the 'multi' command\r\n", 64, &written));
  try {
    c.send_write(two_entries("acl_s"));
    FAIL() << "a refused MULTI must fail the write";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::auth);
    EXPECT_NE(std::string(e.what()).find("MULTI"), std::string::npos) << e.what();
  }
  EXPECT_EQ(written, "*1\r\n$5\r\nMULTI\r\n");
  EXPECT_FALSE(c.usable());
}

TEST(redis_reply, a_lease_held_by_another_run_sends_none_of_the_write) {
  for (const std::string& held : {std::string("$5\r\nother\r\n"), std::string("$-1\r\n")}) {
    std::string written;
    redis_client c(std::make_unique<script_transport>("+OK\r\n" + held + "+OK\r\n", 64, &written));
    c.watch_in_writes("cap_lease", "mine");
    try {
      c.send_write(two_entries("cap_s"));
      FAIL() << "a lease not this run's must fail the write";
    } catch (const error& e) {
      EXPECT_EQ(e.code(), failure_code::target_lost);
      EXPECT_NE(std::string(e.what()).find("cap_lease"), std::string::npos) << e.what();
    }
    EXPECT_EQ(written.find("XADD"), std::string::npos) << written;
    EXPECT_FALSE(c.usable());
  }
  // Held by this run: the entries follow.
  std::string written;
  redis_client c(std::make_unique<script_transport>("+OK\r\n$4\r\nmine\r\n+OK\r\n", 64, &written));
  c.watch_in_writes("cap_lease", "mine");
  c.send_write(two_entries("cap_s"));
  EXPECT_EQ(written.rfind("*2\r\n$5\r\nWATCH\r\n$9\r\ncap_lease\r\n*2\r\n$3\r\nGET\r\n", 0), 0u)
    << written;
  EXPECT_NE(written.find("XADD"), std::string::npos);
}
