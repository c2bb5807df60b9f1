// Every metric the Grafana dashboard and the alert rules query is one that
// actors/metrics/metrics.cpp registers (or computes at scrape: the
// checkpoint ages and the process_* metrics).

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  EXPECT_TRUE(f.good()) << path;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::set<std::string> metric_names_in(const std::string& text) {
  std::set<std::string> out;
  std::regex re("(tributary|process)_[a-z_]+");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re);
       it != std::sregex_iterator(); ++it) {
    std::string name = it->str();
    for (const char* suffix : {"_bucket", "_count", "_sum"}) {
      std::string s = suffix;
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0)
        name.erase(name.size() - s.size());
    }
    out.insert(name);
  }
  return out;
}

std::set<std::string> registered() {
  std::string src = slurp(std::string(TRIB_SOURCE_DIR) + "/actors/metrics/metrics.cpp");
  std::set<std::string> out;
  // A metric's name is a string literal of its own in metrics.cpp.
  std::regex re("\"((tributary|process)_[a-z_]+)\"");
  for (auto it = std::sregex_iterator(src.begin(), src.end(), re);
       it != std::sregex_iterator(); ++it)
    out.insert((*it)[1].str());
  return out;
}

}  // namespace

TEST(dashboard, every_panel_queries_a_registered_metric) {
  auto known = registered();
  ASSERT_GE(known.size(), 8u);
  auto used = metric_names_in(slurp(std::string(TRIB_SOURCE_DIR) + "/ops/grafana/tributary.json"));
  ASSERT_FALSE(used.empty());
  for (const auto& m : used) EXPECT_TRUE(known.count(m)) << m << " is not registered";
}

TEST(dashboard, every_alert_queries_a_registered_metric) {
  auto known = registered();
  auto used = metric_names_in(slurp(std::string(TRIB_SOURCE_DIR) + "/ops/prometheus/alerts.yml"));
  ASSERT_FALSE(used.empty());
  for (const auto& m : used) EXPECT_TRUE(known.count(m)) << m << " is not registered";
}

TEST(dashboard, the_per_node_row_repeats_over_the_node_variable_and_its_panels_select_it) {
  auto text = slurp(std::string(TRIB_SOURCE_DIR) + "/ops/grafana/tributary.json");
  // The variable takes the node label of what every process exports.
  EXPECT_NE(text.find("\"label_values(process_start_time_seconds{job=\\\"tributary\\\"}, node)\""),
            std::string::npos);
  auto row = text.find("\"repeat\": \"node\"");
  ASSERT_NE(row, std::string::npos) << "no row repeated per node";
  // Every query after the row (its panels) selects the row's node.
  size_t queries = 0;
  std::regex expr("\"expr\": \"([^\\n]*)\"");
  auto tail = text.substr(row);
  for (auto it = std::sregex_iterator(tail.begin(), tail.end(), expr);
       it != std::sregex_iterator(); ++it) {
    ++queries;
    EXPECT_NE((*it)[1].str().find("node=~\\\"$node\\\""), std::string::npos) << (*it)[1].str();
  }
  EXPECT_GE(queries, 4u);
}
