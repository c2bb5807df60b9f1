// The change reader's incremental snapshots on a double of the source: the
// order of watermarks and chunk reads, the rows and markers put at the high
// watermark, the progress from chunk to chunk, a reconnect that lost the
// unsent rows, and the signal rows' shape.

#include <gtest/gtest.h>

#include "actors/source/incremental_snapshots.hpp"
#include "messages/failure.hpp"

using namespace trib;

namespace {

// A table of ids 1..n (column id is the key, v a value) and what was done.
struct fake_source : chunk_source {
  int rows = 0;
  std::vector<std::string> calls;
  void write_mark(const std::string& mark) override { calls.push_back("mark " + mark); }
  std::vector<row> read(const table_schema&, const std::vector<std::string>& after,
                        size_t limit) override {
    int from = after.empty() ? 1 : std::stoi(after.at(0)) + 1;
    calls.push_back("read after " + (after.empty() ? std::string("start") : after[0]));
    std::vector<row> out;
    for (int id = from; id <= rows && out.size() < limit; ++id)
      out.push_back(row{{make_cell(std::to_string(id)), make_cell("v")}});
    return out;
  }
};

std::vector<table_schema> schema() {
  table_schema t;
  t.id = table_id{"db", "public", "t"};
  t.columns.resize(2);
  t.columns[0].name = "id";
  t.columns[1].name = "v";
  t.primary_key = {"id"};
  return {t};
}

struct harness {
  fake_source* source = nullptr;
  std::unique_ptr<incremental_snapshots> snaps;
  explicit harness(int rows) {
    auto s = std::make_unique<fake_source>();
    s->rows = rows;
    source = s.get();
    auto holder = std::make_shared<std::unique_ptr<chunk_source>>(std::move(s));
    snaps = std::make_unique<incremental_snapshots>(
      [holder] { return std::move(*holder); }, "run1", 3);
  }
  // Reads the next chunk and plays its two watermarks back, with `between`
  // changes in the window; returns what goes at the high watermark.
  std::vector<row_change> chunk(const std::vector<row_change>& between = {}) {
    snaps->start_chunk(schema());
    auto marks = source->calls;
    std::string low, high;
    for (const auto& c : marks)
      if (c.rfind("mark ", 0) == 0) (c.find(":low") != std::string::npos ? low : high) = c.substr(5);
    EXPECT_TRUE(snaps->on_mark(low, change_source{}).empty());
    for (const auto& c : between) snaps->note(c);
    return snaps->on_mark(high, change_source{});
  }
};

std::vector<std::string> ids(const std::vector<row_change>& out) {
  std::vector<std::string> r;
  for (const auto& c : out) {
    if (c.has_after) r.push_back(c.after.cells[0].text);
    else if (c.has_before) r.push_back("end@" + c.before.cells[0].text);
    else r.push_back("done");
  }
  return r;
}

}  // namespace

TEST(incremental_snapshots, reads_each_chunk_between_its_watermarks_and_goes_on_after_its_last_key) {
  harness h(7);
  h.snaps->add(0, {});
  EXPECT_EQ(ids(h.chunk()), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(h.source->calls,
            (std::vector<std::string>{"mark run1:1:low", "read after start", "mark run1:1:high"}));
  h.source->calls.clear();
  EXPECT_EQ(ids(h.chunk()), (std::vector<std::string>{"4", "5", "6"}));
  h.source->calls.clear();
  // A short chunk is the last: its rows, then the table is done.
  EXPECT_EQ(ids(h.chunk()), (std::vector<std::string>{"7", "done"}));
  EXPECT_FALSE(h.snaps->busy());
  EXPECT_EQ(h.snaps->rows_read(0), 7u);
}

TEST(incremental_snapshots, a_chunk_whose_last_row_was_touched_ends_with_a_marker_of_its_key) {
  harness h(9);
  h.snaps->add(0, {});
  row_change c;
  c.op = change_op::update;
  c.has_before = c.has_after = true;
  c.before = c.after = row{{make_cell("3"), make_cell("w")}};
  // The change stream has row 3; the progress still moves past it.
  EXPECT_EQ(ids(h.chunk({c})), (std::vector<std::string>{"1", "2", "end@3"}));
  h.source->calls.clear();
  h.chunk();
  EXPECT_EQ(h.source->calls.at(1), "read after 3");
}

TEST(incremental_snapshots, marks_of_an_earlier_run_or_out_of_order_emit_nothing) {
  harness h(5);
  h.snaps->add(0, {"2"});
  h.snaps->start_chunk(schema());
  EXPECT_EQ(h.source->calls.at(1), "read after 2");
  EXPECT_TRUE(h.snaps->on_mark("run0:1:low", change_source{}).empty());
  EXPECT_TRUE(h.snaps->on_mark("run0:1:high", change_source{}).empty());
  // The high watermark before the low one's window opened: not this chunk's.
  EXPECT_TRUE(h.snaps->on_mark("run1:1:high", change_source{}).empty());
  EXPECT_TRUE(h.snaps->on_mark("run1:1:low", change_source{}).empty());
  EXPECT_EQ(ids(h.snaps->on_mark("run1:1:high", change_source{})),
            (std::vector<std::string>{"3", "4", "5"}));
}

TEST(incremental_snapshots, a_chunk_lost_before_it_was_sent_is_read_again) {
  harness h(9);
  h.snaps->add(0, {});
  h.chunk();
  h.snaps->sent();
  h.chunk();  // rows 4..6, not sent
  h.snaps->lost();
  h.source->calls.clear();
  EXPECT_EQ(ids(h.chunk()), (std::vector<std::string>{"4", "5", "6"}));
  EXPECT_EQ(h.source->calls.at(1), "read after 3");
}

TEST(incremental_snapshots, a_table_is_queued_once) {
  harness h(2);
  EXPECT_TRUE(h.snaps->add(0, {}));
  EXPECT_FALSE(h.snaps->add(0, {"5"}));
  EXPECT_TRUE(h.snaps->busy());
}

TEST(signal_rows, execute_snapshot_names_its_collections_and_other_types_are_ignored) {
  EXPECT_EQ(signal_collections("execute-snapshot",
                               "{\"data-collections\": [\"shop.public.orders\", \"items\"]}"),
            (std::vector<std::string>{"shop.public.orders", "items"}));
  EXPECT_TRUE(signal_collections("log", "{\"message\": \"hi\"}").empty());
  EXPECT_THROW(signal_collections("execute-snapshot", "{\"tables\": []}"), error);
  EXPECT_THROW(signal_collections("execute-snapshot", "not json"), error);
  table_id orders{"shop", "public", "orders"};
  EXPECT_TRUE(collection_names("shop.public.orders", orders));
  EXPECT_TRUE(collection_names("public.orders", orders));
  EXPECT_TRUE(collection_names("orders", orders));
  EXPECT_FALSE(collection_names("other.public.orders", orders));
  EXPECT_FALSE(collection_names("orders", table_id{"shop", "sales", "orders"}));
}
