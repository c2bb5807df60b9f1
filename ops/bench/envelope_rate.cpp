// How fast the envelope builder makes snapshot entries for an 8-column row
// (TPC-H orders), schemas included: a benchmark, not a test, since the
// machine is shared. Built as the target envelope_rate; run it with
//   build/ops/bench/envelope_rate [ENTRIES]     (default 200,000)
// The entries are checked, so the loop cannot be optimised away and a
// broken builder is not reported as fast; exit 1 when they are wrong.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "actors/apply/envelope.hpp"

using namespace trib;

namespace {

column_info col(std::string name, value_kind kind, bool not_null = false) {
  column_info c;
  c.name = std::move(name);
  c.kind = kind;
  c.not_null = not_null;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 200000;
  if (n <= 0) {
    std::fprintf(stderr, "envelope_rate: ENTRIES must be a positive number, got '%s'\n", argv[1]);
    return 2;
  }
  table_schema t;
  t.id = {"tpch", "", "orders"};
  t.columns = {col("o_orderkey", value_kind::int64, true),
               col("o_custkey", value_kind::int32, true),
               col("o_orderstatus", value_kind::text, true),
               col("o_totalprice", value_kind::decimal, true),
               col("o_orderdate", value_kind::date, true),
               col("o_orderpriority", value_kind::text, true),
               col("o_shippriority", value_kind::int32, true),
               col("o_comment", value_kind::text)};
  t.primary_key = {"o_orderkey"};
  source_facts facts;
  facts.kind = source_kind::mysql;
  facts.version = "5.7.24";
  facts.server_id = 1;
  envelope_builder b{t, message_config{}, facts};
  row r{{make_cell("600000"), make_cell("36901"), make_cell("O"), make_cell("173665.47"),
         make_cell("1996-01-02"), make_cell("5-LOW"), make_cell("0"),
         make_cell("nstructions sleep furiously among the final deposits")}};
  source_position pos;
  pos.binlog_file = "mysql-bin.000042";
  pos.binlog_pos = 1337;

  size_t bytes = 0;
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    auto e = b.snapshot_entry(r, pos, snapshot_mark::yes, 1700000000000 + i);
    bytes += e.key.size() + e.value.size();
  }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;

  auto last = boost::json::parse(b.snapshot_entry(r, pos, snapshot_mark::yes, 7).value);
  const auto& after = last.at("payload").at("after");
  if (after.at("o_totalprice") != "173665.47" || after.at("o_orderdate") != 9497 ||
      bytes < static_cast<size_t>(n) * 1000) {
    std::fprintf(stderr, "envelope_rate: the entries are wrong: %s\n",
                 boost::json::serialize(last).c_str());
    return 1;
  }
  std::printf("%ld entries in %.3f s: %.0f entries/s, %.0f bytes each\n", n, took.count(),
              static_cast<double>(n) / took.count(), static_cast<double>(bytes) / n);
  return 0;
}
