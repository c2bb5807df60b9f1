#include "actors/metrics/metrics.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "actors/metrics/process_stats.hpp"
#include "messages/failure.hpp"

namespace trib::metrics {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// Buckets from 1 ms to about 30 s: lag and write latency share them.
prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

prometheus::MetricFamily family(const char* name, const char* help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

prometheus::ClientMetric gauge_value(double v) {
  prometheus::ClientMetric m;
  m.gauge.value = v;
  return m;
}

// What is computed when Prometheus scrapes rather than when it happens: the
// checkpoints' ages (an age set at the write would stand still) and the
// process's resources.
class scraped : public prometheus::Collectable {
public:
  void checkpoint(const std::string& stream) {
    std::lock_guard<std::mutex> guard{mtx_};
    checkpoints_[stream] = std::chrono::steady_clock::now();
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    std::vector<prometheus::MetricFamily> out;
    auto age = family("tributary_checkpoint_age_seconds",
                      "Time since the stream's checkpoint last advanced (idle streams age too)",
                      MetricType::Gauge);
    {
      std::lock_guard<std::mutex> guard{mtx_};
      auto now = std::chrono::steady_clock::now();
      for (const auto& [stream, at] : checkpoints_) {
        auto m = gauge_value(std::chrono::duration<double>(now - at).count());
        m.label.push_back({"stream", stream});
        age.metric.push_back(std::move(m));
      }
    }
    out.push_back(std::move(age));
    auto p = sample_this_process();
    auto cpu = family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds",
                      MetricType::Counter);
    prometheus::ClientMetric c;
    c.counter.value = p.cpu_seconds;
    cpu.metric.push_back(c);
    out.push_back(std::move(cpu));
    for (auto [name, help, value] :
         {std::tuple{"process_resident_memory_bytes", "Resident memory size in bytes",
                     p.resident_bytes},
          std::tuple{"process_virtual_memory_bytes", "Virtual memory size in bytes",
                     p.virtual_bytes},
          std::tuple{"process_threads", "Number of OS threads", p.threads},
          std::tuple{"process_open_fds", "Number of open file descriptors", p.open_fds},
          std::tuple{"process_start_time_seconds",
                     "Start time of the process since the epoch in seconds",
                     p.start_time_seconds}}) {
      auto f = family(name, help, MetricType::Gauge);
      f.metric.push_back(gauge_value(value));
      out.push_back(std::move(f));
    }
    return out;
  }

private:
  mutable std::mutex mtx_;
  std::map<std::string, std::chrono::steady_clock::time_point> checkpoints_;
};

std::string host_name() {
  char name[256] = "";
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// Adds node="..." to every series of the collectables it wraps at each
// scrape, so the name may be set after series exist (a worker learns it
// from its certificate once its options are read) and no call site repeats
// it.
class node_labelled : public prometheus::Collectable {
public:
  void add(std::weak_ptr<prometheus::Collectable> c) { parts_.push_back(std::move(c)); }

  void set_name(const std::string& name) {
    std::lock_guard<std::mutex> guard{mtx_};
    name_ = name;
  }

  std::string name() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return name_;
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    auto node = name();
    std::vector<prometheus::MetricFamily> out;
    for (auto& weak : parts_) {
      auto part = weak.lock();
      if (!part) continue;
      for (auto& f : part->Collect()) {
        for (auto& m : f.metric) m.label.push_back({"node", node});
        out.push_back(std::move(f));
      }
    }
    return out;
  }

private:
  mutable std::mutex mtx_;
  std::string name_ = host_name();
  std::vector<std::weak_ptr<prometheus::Collectable>> parts_;
};

struct state {
  state() {
    labelled->add(registry);
    labelled->add(at_scrape);
  }
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& rows =
    BuildCounter().Name("tributary_rows_written_total")
      .Help("Rows committed to Redis streams, by table, phase and op").Register(*registry);
  prometheus::Family<prometheus::Counter>& batches =
    BuildCounter().Name("tributary_batches_total")
      .Help("Batches written to Redis, by result").Register(*registry);
  prometheus::Family<prometheus::Counter>& retries =
    BuildCounter().Name("tributary_retries_total")
      .Help("Retried operations, by failure reason").Register(*registry);
  prometheus::Family<prometheus::Counter>& skipped =
    BuildCounter().Name("tributary_tables_skipped_total")
      .Help("Tables skipped after failures").Register(*registry);
  prometheus::Family<prometheus::Counter>& indoubt =
    BuildCounter().Name("tributary_indoubt_entries_total")
      .Help("Stream entries written to the in-doubt log").Register(*registry);
  prometheus::Family<prometheus::Histogram>& lag =
    BuildHistogram().Name("tributary_replication_lag_seconds")
      .Help("Source commit to Redis acknowledgement").Register(*registry);
  prometheus::Family<prometheus::Histogram>& write_latency =
    BuildHistogram().Name("tributary_redis_write_seconds")
      .Help("Duration of one MULTI/EXEC batch write").Register(*registry);
  prometheus::Family<prometheus::Gauge>& snapshot_done =
    BuildGauge().Name("tributary_snapshot_rows_done")
      .Help("Snapshot rows written, by table").Register(*registry);
  prometheus::Family<prometheus::Gauge>& snapshot_estimated =
    BuildGauge().Name("tributary_snapshot_rows_estimated")
      .Help("Source estimate of a table's rows").Register(*registry);
  prometheus::Family<prometheus::Gauge>& position =
    BuildGauge().Name("tributary_source_position")
      .Help("Source log position reached (PostgreSQL LSN or binlog offset)").Register(*registry);
  prometheus::Family<prometheus::Gauge>& nodes =
    BuildGauge().Name("tributary_nodes")
      .Help("Nodes taking part in the replication").Register(*registry);
  prometheus::Family<prometheus::Counter>& memory_paused =
    BuildCounter().Name("tributary_redis_memory_paused_seconds_total")
      .Help("Time writers spent paused because Redis's used_memory was above "
            "memory-threshold-percentage of maxmemory").Register(*registry);
  prometheus::Family<prometheus::Gauge>& memory_paused_writers =
    BuildGauge().Name("tributary_redis_memory_paused_writers")
      .Help("Writers paused now for Redis memory").Register(*registry);
  prometheus::Family<prometheus::Gauge>& backlog =
    BuildGauge().Name("tributary_source_backlog_bytes")
      .Help("Source log bytes not yet confirmed: PostgreSQL slot lag, or binlog bytes behind")
      .Register(*registry);
  prometheus::Family<prometheus::Counter>& rows_skipped =
    BuildCounter().Name("tributary_rows_skipped_total")
      .Help("Snapshot rows skipped because they could not be converted, by table")
      .Register(*registry);
  prometheus::Family<prometheus::Gauge>& group_lag =
    BuildGauge().Name("tributary_consumer_group_lag")
      .Help("Entries of a stream not yet delivered to a consumer group (XINFO GROUPS lag), "
            "read by writers with max-consumer-lag").Register(*registry);
  prometheus::Histogram& lag_h = lag.Add({}, latency_buckets());
  prometheus::Histogram& write_h = write_latency.Add({}, latency_buckets());
  // Exported at 0 from the start: increase() cannot see the step from "no
  // series" to the first value, and the dashboard shows 0 rather than nothing.
  prometheus::Counter& indoubt_c = indoubt.Add({});
  prometheus::Counter& memory_paused_c = memory_paused.Add({});
  prometheus::Gauge& memory_paused_g = memory_paused_writers.Add({});
  std::shared_ptr<scraped> at_scrape = std::make_shared<scraped>();
  std::shared_ptr<node_labelled> labelled = std::make_shared<node_labelled>();
  std::unique_ptr<prometheus::Exposer> exposer;
  std::mutex mtx;
};

state& get() {
  static state s;
  return s;
}

// Binds host:port once and lets it go, so that a port in use or an address
// that is not this machine's is named in words (the HTTP server only says
// "null context"). "" when the port can be listened on.
std::string try_bind(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return std::string("cannot resolve ") + host + ": " + ::gai_strerror(rc);
  std::string why;
  for (addrinfo* a = found; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    bool bound = ::bind(fd, a->ai_addr, a->ai_addrlen) == 0;
    if (!bound) why = std::strerror(errno);
    ::close(fd);
    if (bound) {
      why.clear();
      break;
    }
  }
  ::freeaddrinfo(found);
  return why.empty() ? why : "cannot listen there: " + why;
}

}  // namespace

void serve(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == host_port.size())
    throw error(failure_code::config,
                "--metrics " + host_port + ": expected HOST:PORT, e.g. 127.0.0.1:9464");
  auto host = host_port.substr(0, colon);
  auto port = host_port.substr(colon + 1);
  bool digits = port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) {
                  return std::isdigit(static_cast<unsigned char>(c));
                });
  if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535)
    throw error(failure_code::config,
                "--metrics " + host_port + ": port '" + port +
                  "' is not a number between 1 and 65535");
  // [::1]:9464 names an IPv6 address in brackets.
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (auto why = try_bind(host, port); !why.empty())
    throw error(failure_code::config, "--metrics " + host_port + ": " + why);
  auto& s = get();
  std::lock_guard<std::mutex> guard{s.mtx};
  try {
    s.exposer = std::make_unique<prometheus::Exposer>(host_port);
  } catch (const std::exception& e) {
    throw error(failure_code::config,
                "--metrics " + host_port + ": cannot listen: " + e.what());
  }
  s.exposer->RegisterCollectable(s.labelled);
}

void set_node_name(const std::string& name) { get().labelled->set_name(name); }

std::string node_name() { return get().labelled->name(); }

void add_rows_written(const std::string& table, const char* phase, const char* op,
                      uint64_t n) {
  get().rows.Add({{"table", table}, {"phase", phase}, {"op", op}}).Increment(static_cast<double>(n));
}

void add_batch(const char* result) { get().batches.Add({{"result", result}}).Increment(); }

void add_retry(const char* reason) { get().retries.Add({{"reason", reason}}).Increment(); }

void add_table_skipped(const std::string& table) {
  get().skipped.Add({{"table", table}}).Increment();
}

void add_indoubt_entries(uint64_t n) {
  get().indoubt_c.Increment(static_cast<double>(n));
}

void add_memory_paused(double seconds) { get().memory_paused_c.Increment(seconds); }

void set_memory_paused(bool paused) {
  if (paused)
    get().memory_paused_g.Increment();
  else
    get().memory_paused_g.Decrement();
}

void set_consumer_group_lag(const std::string& stream, const std::string& group, uint64_t lag) {
  get().group_lag.Add({{"stream", stream}, {"group", group}}).Set(static_cast<double>(lag));
}

void observe_lag(double seconds) { get().lag_h.Observe(seconds); }

void observe_redis_write(double seconds) { get().write_h.Observe(seconds); }

void set_snapshot_rows(const std::string& table, uint64_t done, uint64_t estimated) {
  auto& s = get();
  s.snapshot_done.Add({{"table", table}}).Set(static_cast<double>(done));
  s.snapshot_estimated.Add({{"table", table}}).Set(static_cast<double>(estimated));
}

void set_source_position(double position) { get().position.Add({}).Set(position); }

void set_nodes(int count) { get().nodes.Add({}).Set(count); }

void set_source_backlog_bytes(double bytes) { get().backlog.Add({}).Set(bytes); }

void note_checkpoint(const std::string& stream) { get().at_scrape->checkpoint(stream); }

void add_rows_skipped(const std::string& table, uint64_t n) {
  get().rows_skipped.Add({{"table", table}}).Increment(static_cast<double>(n));
}

}  // namespace trib::metrics
