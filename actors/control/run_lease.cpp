#include "actors/control/run_lease.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <ctime>
#include <fstream>
#include <random>

#include <boost/json.hpp>

#include "actors/control/retry_policy.hpp"
#include "actors/log.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/sink/redis_cluster.hpp"

namespace trib {

namespace json = boost::json;

namespace {

std::mutex current_mutex;
std::shared_ptr<write_fence> current;

// What this run may assume about its lease after a renewal: the TTL less
// a margin for the time the renewal took to reach Redis.
constexpr std::chrono::milliseconds lease_margin{2000};

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string random_token() {
  std::random_device rd;
  std::string out;
  static const char* hex = "0123456789abcdef";
  for (int i = 0; i < 4; ++i) {
    uint32_t v = rd();
    for (int j = 0; j < 8; ++j) out.push_back(hex[(v >> (j * 4)) & 0xf]);
  }
  return out;
}

// Whether a tributary process with this pid runs on this host. A pid that
// now belongs to another program means the holder is gone.
bool process_running(int64_t pid) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  if (comm && std::getline(comm, name)) return name == "tributary";
  return true;
}

std::string describe(const lease_holder& h) {
  return "host " + h.host + ", pid " + std::to_string(h.pid) + ", since " + h.since;
}

redis_reply checked(redis_client& c, const std::vector<std::string>& argv) {
  return command_or_throw(c, argv);
}

// MULTI on its own, its answer awaited before the commands it guards are
// sent: were it refused (an ACL changed during the run), they would run at
// once, outside the transaction and its WATCH.
void begin_transaction(redis_client& c) {
  checked(c, {"MULTI"});
}

}  // namespace

std::string lease_key(const std::string& group, const std::string& id) {
  return "replicate_io_lease_" + group + "_" + id;
}

std::string lease_alive_key(const std::string& group, const std::string& id, bool cluster) {
  auto key = "replicate_io_lease_alive_" + group + "_" + id;
  return cluster ? stream_scoped_key(key, lease_key(group, id)) : key;
}

std::string lease_epoch_key(const std::string& group, const std::string& id) {
  return stream_scoped_key("replicate_io_lease_epoch_" + group + "_" + id, lease_key(group, id));
}

int64_t lease_copy_epoch(const std::string& value) {
  int64_t epoch = 0;
  auto r = std::from_chars(value.data(), value.data() + value.size(), epoch);
  return r.ec == std::errc{} && r.ptr != value.data() && *r.ptr == ' ' ? epoch : 0;
}

void stamp_lease_copy(redis_client& c, write_fence& fence, const std::string& stream) {
  auto key = stream_scoped_key(fence.key, stream);
  for (;;) {
    checked(c, {"WATCH", key});
    auto held = checked(c, {"GET", key});
    if (held.type == redis_reply::kind::string && held.str == fence.copy_holder) {
      checked(c, {"UNWATCH"});
      return;
    }
    if (held.type == redis_reply::kind::string && lease_copy_epoch(held.str) > fence.epoch) {
      checked(c, {"UNWATCH"});
      fence.lose("replication's lease was taken by a newer run: " + key + " holds " + held.str +
                 "; stops writing");
      throw error(failure_code::target_lost, fence.reason());
    }
    begin_transaction(c);
    auto r = c.pipeline({{"SET", key, fence.copy_holder}, {"EXEC"}});
    if (r.back().type == redis_reply::kind::array) return;
    if (r.back().type == redis_reply::kind::error)
      throw error(classify_redis_error(r.back().str),
                  "redis refuses SET " + key + ": " + r.back().str);
    // Aborted: another run stamped it meanwhile; look again.
  }
}

std::string encode_lease_holder(const lease_holder& h) {
  json::object o;
  o["host"] = h.host;
  o["pid"] = h.pid;
  o["since"] = h.since;
  o["token"] = h.token;
  return json::serialize(o);
}

std::optional<lease_holder> decode_lease_holder(const std::string& text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  auto str = [&](const char* k) -> const json::string* {
    auto* f = o.if_contains(k);
    return f && f->is_string() ? &f->get_string() : nullptr;
  };
  auto* pid = o.if_contains("pid");
  if (!str("host") || !str("since") || !str("token") || !pid || !pid->is_int64())
    return std::nullopt;
  return lease_holder{std::string(*str("host")), pid->get_int64(), std::string(*str("since")),
                      std::string(*str("token"))};
}

bool lease_takeover_allowed(const lease_holder& holder, bool alive, const std::string& my_host,
                            bool holder_running) {
  if (!alive) return true;
  return holder.host == my_host && !holder_running;
}

void write_fence::lose(const std::string& why) {
  {
    std::lock_guard<std::mutex> lk(mutex_);
    if (lost) return;
    reason_ = why;
  }
  lost = true;
}

std::string write_fence::reason() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return reason_;
}

std::shared_ptr<write_fence> current_write_fence() {
  std::lock_guard<std::mutex> lk(current_mutex);
  return current;
}

run_lease::run_lease(const redis_config& target, const std::string& group, const std::string& id)
  : target_(target),
    id_(id),
    key_(lease_key(group, id)),
    alive_key_(lease_alive_key(group, id, target.cluster)) {
  me_ = lease_holder{host_name(), static_cast<int64_t>(getpid()), utc_now(), random_token()};
  fence_ = std::make_shared<write_fence>();
  fence_->key = key_;
  fence_->holder = encode_lease_holder(me_);
  auto ttl = std::to_string(lease_ttl.count());
  int64_t started = 0;
  with_retries(retry_policy_for(target_), "taking the lease of replication " + id_, [&] {
    auto c = redis_client::connect(target_);
    // The transactions below and every write WATCH the holder key.
    check_write_access(*c, target_, "", "", key_);
    for (;;) {
      started = lease_clock_now();
      checked(*c, {"WATCH", key_, alive_key_});
      auto held = checked(*c, {"GET", key_});
      auto alive = checked(*c, {"GET", alive_key_});
      if (held.type == redis_reply::kind::string) {
        auto h = decode_lease_holder(held.str);
        bool is_alive = alive.type == redis_reply::kind::string &&
                        (!h || alive.str == h->token);
        bool running = h && h->host == me_.host && process_running(h->pid);
        if (h ? !lease_takeover_allowed(*h, is_alive, me_.host, running) : is_alive) {
          c->command({"UNWATCH"});
          throw error(failure_code::state_exists,
                      "replication '" + id_ + "' (group '" + group +
                        "') is being run by another process: its lease " + key_ + " is held by " +
                        (h ? describe(*h) : held.str) +
                        ". Wait for that run to end; a run that died gives its lease up " +
                        std::to_string(lease_ttl.count() / 1000) +
                        " s after it stopped renewing it (at once to a run on the same host)");
        }
        log::info("takes over the lease of replication " + id_ + " from " +
                  (h ? describe(*h) : held.str) +
                  (is_alive ? " (its process is gone)" : " (it expired)"));
      }
      begin_transaction(*c);
      std::vector<std::vector<std::string>> take{{"SET", key_, fence_->holder},
                                                 {"SET", alive_key_, me_.token, "PX", ttl}};
      if (target_.cluster) take.push_back({"INCR", lease_epoch_key(group, id)});
      take.push_back({"EXEC"});
      auto r = c->pipeline(take);
      if (r.back().type == redis_reply::kind::array) {
        if (target_.cluster) {
          const auto& done = r.back().elements;
          if (done.size() != 3 || done[2].type != redis_reply::kind::integer)
            throw error(failure_code::bad_data, "redis answers the taking of the lease " + key_ +
                                                  " oddly");
          fence_->per_stream = true;
          fence_->epoch = done[2].integer;
          fence_->copy_holder = std::to_string(fence_->epoch) + " " + fence_->holder;
        }
        break;
      }
      if (r.back().type == redis_reply::kind::error)
        throw error(classify_redis_error(r.back().str),
                    "redis refuses taking the lease " + key_ + ": " + r.back().str);
      // EXEC was aborted: another run changed the lease meanwhile; look again.
    }
    return 0;
  });
  fence_->valid_until = started + std::chrono::nanoseconds(lease_ttl - lease_margin).count();
  {
    std::lock_guard<std::mutex> lk(current_mutex);
    current = fence_;
  }
  log::info("takes the lease " + key_ + " of replication " + id_ + " (" + describe(me_) + ")");
  renewer_ = std::thread([this] { renew_loop(); });
}

void run_lease::renew_loop() {
  std::unique_ptr<redis_client> c;
  bool warned = false;
  auto ttl = std::to_string(lease_ttl.count());
  std::unique_lock<std::mutex> lk(mutex_);
  while (!stopping_) {
    wake_.wait_for(lk, lease_renewal, [&] { return stopping_; });
    if (stopping_) break;
    lk.unlock();
    int64_t sent = lease_clock_now();
    try {
      if (!c) c = redis_client::connect(target_, 5000, 5000);
      checked(*c, {"WATCH", key_});
      auto held = checked(*c, {"GET", key_});
      if (held.type != redis_reply::kind::string || held.str != fence_->holder) {
        c->command({"UNWATCH"});
        std::string why;
        if (held.type != redis_reply::kind::string) {
          why = "redis lost writes it had acknowledged: the lease " + key_ + " of replication '" +
                id_ + "' is gone (redis restarted without persistence, or the key was deleted)";
        } else {
          auto h = decode_lease_holder(held.str);
          why = "replication '" + id_ + "' lost its lease " + key_ + " to " +
                (h ? describe(*h) : held.str) + " (this run did not renew it for " +
                std::to_string(lease_ttl.count() / 1000) + " s)";
        }
        fence_->lose(why + "; stops writing. Run with --resume once the other run ended, or "
                           "--overwrite to rewrite the replication if redis lost data");
        log::error("loses the lease of replication " + id_ + ": " + why);
        lk.lock();
        break;
      }
      begin_transaction(*c);
      auto r = c->pipeline({{"SET", alive_key_, me_.token, "PX", ttl}, {"EXEC"}});
      if (r.back().type == redis_reply::kind::array) {
        fence_->valid_until = sent + std::chrono::nanoseconds(lease_ttl - lease_margin).count();
        warned = false;
      }
      // An aborted EXEC: the holder key changed meanwhile; the next round
      // sees to whom.
    } catch (const std::exception& e) {
      c.reset();
      if (!warned)
        log::warn("cannot renew the lease " + key_ + " of replication " + id_ + ": " + e.what());
      warned = true;
    }
    lk.lock();
  }
}

run_lease::~run_lease() {
  {
    std::lock_guard<std::mutex> lk(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (renewer_.joinable()) renewer_.join();
  {
    std::lock_guard<std::mutex> lk(current_mutex);
    if (current == fence_) current.reset();
  }
  if (fence_->lost) return;
  // Gives the lease back, unless another run holds it by now.
  try {
    auto c = redis_client::connect(target_, 2000, 2000);
    checked(*c, {"WATCH", key_});
    auto held = checked(*c, {"GET", key_});
    if (held.type == redis_reply::kind::string && held.str == fence_->holder) {
      begin_transaction(*c);
      c->pipeline({{"DEL", key_, alive_key_}, {"EXEC"}});
    } else {
      c->command({"UNWATCH"});
    }
  } catch (const std::exception& e) {
    log::warn("cannot give back the lease " + key_ + " of replication " + id_ + " (it expires in " +
              std::to_string(lease_ttl.count() / 1000) + " s): " + e.what());
  }
}

}  // namespace trib
