// --metrics HOST:PORT that cannot be served is one sentence naming why
// (actors/metrics/metrics.cpp), not the HTTP server's "null context".

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>

#include "actors/metrics/metrics.hpp"
#include "messages/failure.hpp"
#include "tests/local_http.hpp"

using namespace trib;
using trib::test::free_port;
using trib::test::scrape;

namespace {

std::string error_of(const std::string& host_port) {
  try {
    metrics::serve(host_port);
  } catch (const trib::error& e) {
    EXPECT_EQ(e.code(), failure_code::config);
    return e.what();
  }
  return "";
}

}  // namespace

TEST(metrics_serve, a_port_out_of_range_is_named) {
  EXPECT_EQ(error_of("127.0.0.1:70000"),
            "--metrics 127.0.0.1:70000: port '70000' is not a number between 1 and 65535");
  EXPECT_EQ(error_of("127.0.0.1:0"),
            "--metrics 127.0.0.1:0: port '0' is not a number between 1 and 65535");
  EXPECT_EQ(error_of("127.0.0.1:http"),
            "--metrics 127.0.0.1:http: port 'http' is not a number between 1 and 65535");
}

TEST(metrics_serve, a_port_in_use_is_named_in_words) {
  // Another listener holds a port the system picked.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  auto where = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  EXPECT_EQ(error_of(where),
            "--metrics " + where + ": cannot listen there: Address already in use");
  ::close(fd);
}

TEST(metrics_serve, an_address_that_is_not_this_machines_is_named) {
  auto msg = error_of("192.0.2.1:9464");  // TEST-NET-1, never local
  EXPECT_EQ(msg, "--metrics 192.0.2.1:9464: cannot listen there: Cannot assign requested address");
}

TEST(metrics_serve, a_scrape_computes_checkpoint_ages_and_the_process_metrics) {
  int port = free_port();
  metrics::serve("127.0.0.1:" + std::to_string(port));
  metrics::note_checkpoint("tpch_public_orders");
  metrics::set_source_backlog_bytes(4096);
  metrics::add_rows_skipped("tpch.public.orders", 2);
  auto text = scrape(port);
  // Every series names the node (the host name by default).
  auto node = "node=\"" + metrics::node_name() + "\"";
  EXPECT_FALSE(metrics::node_name().empty());
  for (std::string want :
       {"tributary_checkpoint_age_seconds{stream=\"tpch_public_orders\"," + node + "} ",
        "tributary_source_backlog_bytes{" + node + "} 4096",
        "tributary_rows_skipped_total{table=\"tpch.public.orders\"," + node + "} 2",
        std::string("# TYPE process_cpu_seconds_total counter"),
        "process_resident_memory_bytes{" + node + "} ", "process_open_fds{" + node + "} ",
        "process_start_time_seconds{" + node + "} ", "process_threads{" + node + "} "})
    EXPECT_NE(text.find(want), std::string::npos) << want << " missing from\n" << text;
  // The age grows between scrapes, not at writes: a quiet stream ages.
  auto age_in = [node](const std::string& t) {
    auto key = "tributary_checkpoint_age_seconds{stream=\"tpch_public_orders\"," + node + "} ";
    auto at = t.find(key);
    return at == std::string::npos ? -1.0 : std::stod(t.substr(at + key.size()));
  };
  double first = age_in(text);
  EXPECT_GE(first, 0.0);
  double later = first;
  for (int i = 0; i < 1000 && later <= first; ++i) later = age_in(scrape(port));
  EXPECT_GT(later, first);
}

TEST(metrics_serve, every_series_carries_the_node_name_set_for_this_process) {
  int port = free_port();
  metrics::serve("127.0.0.1:" + std::to_string(port));
  metrics::add_batch("committed");
  auto before = metrics::node_name();
  metrics::set_node_name("worker-2");
  auto text = scrape(port);
  metrics::set_node_name(before);
  size_t series = 0;
  std::istringstream lines{text};
  for (std::string line; std::getline(lines, line);) {
    // Tributary's series (not the HTTP headers, nor the exposer's own).
    if (line.rfind("tributary_", 0) != 0 && line.rfind("process_", 0) != 0) continue;
    ++series;
    EXPECT_NE(line.find("node=\"worker-2\""), std::string::npos) << line;
  }
  EXPECT_GT(series, 10u) << text;
  EXPECT_NE(text.find("tributary_batches_total{result=\"committed\",node=\"worker-2\"} "),
            std::string::npos) << text;
}
