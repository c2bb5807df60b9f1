// The chunk/window merge of incremental snapshots: which rows of a chunk
// read between two watermarks go into the stream (op r, at the high
// watermark), given the changes the log holds between the watermarks.

#include <gtest/gtest.h>

#include "actors/control/checkpoint_math.hpp"
#include "actors/control/incremental_window.hpp"

using namespace trib;

namespace {

// Rows of a table (id, name) whose key is id.
row r(const std::string& id, const std::string& name) {
  return row{{make_cell(id), make_cell(name)}};
}

row_change change(change_op op, const row* before, const row* after, uint32_t table = 0) {
  row_change c;
  c.table = table;
  c.op = op;
  if (before) {
    c.has_before = true;
    c.before = *before;
  }
  if (after) {
    c.has_after = true;
    c.after = *after;
  }
  return c;
}

// The chunk keys 2..6 of a table with rows 1..9, read between watermarks.
incremental_window chunk() {
  incremental_window w{0, {0}};
  w.set_rows({r("2", "b"), r("3", "c"), r("4", "d"), r("5", "e"), r("6", "f")});
  return w;
}

std::vector<std::string> emitted_ids(const incremental_window& w) {
  change_source high;
  std::vector<std::string> out;
  for (const auto& c : w.emit(high)) out.push_back(c.after.cells[0].text);
  return out;
}

}  // namespace

TEST(incremental_window, emits_every_row_of_a_quiet_window_in_key_order_at_the_high_watermark) {
  auto w = chunk();
  change_source high;
  high.position.lsn = 0x5000;
  auto out = w.emit(high);
  ASSERT_EQ(out.size(), 5u);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].op, change_op::read);
    EXPECT_EQ(out[i].table, 0u);
    EXPECT_TRUE(out[i].has_after);
    EXPECT_FALSE(out[i].has_before);
    EXPECT_EQ(out[i].source.position.lsn, 0x5000u);
  }
  EXPECT_EQ(emitted_ids(w), (std::vector<std::string>{"2", "3", "4", "5", "6"}));
}

TEST(incremental_window, drops_a_row_whose_key_an_update_inside_the_window_touched) {
  auto w = chunk();
  row before = r("3", "c"), after = r("3", "c2");
  w.note(change(change_op::update, &before, &after));
  EXPECT_EQ(emitted_ids(w), (std::vector<std::string>{"2", "4", "5", "6"}));
  EXPECT_TRUE(w.touched(r("3", "anything")));
}

TEST(incremental_window, drops_a_row_an_insert_inside_the_window_wrote_after_the_read) {
  // The chunk read the row the insert made: the change stream has it.
  auto w = chunk();
  row after = r("4", "d");
  w.note(change(change_op::insert, nullptr, &after));
  EXPECT_EQ(emitted_ids(w), (std::vector<std::string>{"2", "3", "5", "6"}));
}

TEST(incremental_window, drops_a_row_deleted_inside_the_window) {
  auto w = chunk();
  row before = r("6", "f");
  w.note(change(change_op::erase, &before, nullptr));
  EXPECT_EQ(emitted_ids(w), (std::vector<std::string>{"2", "3", "4", "5"}));
}

TEST(incremental_window, a_key_update_drops_the_rows_of_its_old_and_its_new_key) {
  // 2 -> 5, both inside the chunk's range: the chunk may hold the row under
  // either key, depending on when it read.
  auto w = chunk();
  row before = r("2", "b"), after = r("5", "b");
  w.note(change(change_op::update, &before, &after));
  EXPECT_EQ(emitted_ids(w), (std::vector<std::string>{"3", "4", "6"}));
}

TEST(incremental_window, a_key_update_across_the_range_drops_only_the_key_inside_it) {
  auto w = chunk();
  // Out of the range: 3 -> 42.
  row before = r("3", "c"), after = r("42", "c");
  w.note(change(change_op::update, &before, &after));
  // Into the range: 1 -> 4 (the chunk read 4 after the move).
  row before2 = r("1", "a"), after2 = r("4", "a");
  w.note(change(change_op::update, &before2, &after2));
  EXPECT_EQ(emitted_ids(w), (std::vector<std::string>{"2", "5", "6"}));
}

TEST(incremental_window, changes_outside_the_chunk_or_of_other_tables_drop_nothing) {
  auto w = chunk();
  row one = r("1", "a"), nine = r("9", "i"), nine2 = r("9", "i2"), ten = r("10", "j");
  w.note(change(change_op::update, &nine, &nine2));
  w.note(change(change_op::erase, &one, nullptr));
  w.note(change(change_op::insert, nullptr, &ten));
  // Keys of the chunk, but another table's.
  row three = r("3", "c");
  w.note(change(change_op::erase, &three, nullptr, 7));
  w.note(change(change_op::truncate, nullptr, nullptr, 7));
  EXPECT_EQ(emitted_ids(w), (std::vector<std::string>{"2", "3", "4", "5", "6"}));
}

TEST(incremental_window, a_truncate_inside_the_window_drops_the_whole_chunk) {
  auto w = chunk();
  w.note(change(change_op::truncate, nullptr, nullptr));
  EXPECT_TRUE(emitted_ids(w).empty());
}

TEST(incremental_window, compares_whole_keys_of_several_columns) {
  // Key (a, b): ("1", "23") and ("12", "3") are different rows.
  incremental_window w{0, {0, 1}};
  w.set_rows({row{{make_cell("1"), make_cell("23"), make_cell("x")}},
              row{{make_cell("12"), make_cell("3"), make_cell("y")}}});
  row before{{make_cell("12"), make_cell("3"), make_cell("y")}};
  w.note(change(change_op::erase, &before, nullptr));
  auto out = w.emit(change_source{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].after.cells[2].text, "x");
  EXPECT_NE(chunk_key_text(row{{make_cell("1"), make_cell("23")}}, {0, 1}),
            chunk_key_text(row{{make_cell("12"), make_cell("3")}}, {0, 1}));
}

TEST(snapshot_progress, rides_in_the_stream_checkpoint_and_round_trips) {
  stream_checkpoint c{1000, 3, {}};
  c.snapshots["public.orders"] = snapshot_progress{{"1024"}, false};
  c.snapshots["public.\"odd\""] = snapshot_progress{{"a\"b", "7"}, true};
  auto text = encode_stream_checkpoint(c);
  EXPECT_EQ(decode_stream_checkpoint(text), c);
  // Without snapshots the text is the plain one earlier versions read.
  EXPECT_EQ(encode_stream_checkpoint(stream_checkpoint{1000, 3, {}}),
            "{\"commit\":1000,\"index\":3}");
  // A checkpoint with progress orders by its position like any other.
  EXPECT_FALSE(checkpoint_behind(encode_stream_checkpoint({1000, 3, {}}), text));
}
