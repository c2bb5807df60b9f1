// A table reader refills the rows its applier hands back: their cells keep
// their text buffers, except buffers too long to keep, and the pool is
// bounded.

#include <gtest/gtest.h>

#include "actors/source/source_session.hpp"

namespace trib {
namespace {

/// The pool of table_reader without a database behind it.
class pool_only : public table_reader {
public:
  std::vector<row> next(size_t) override { return {}; }
};

row row_of(std::initializer_list<size_t> sizes) {
  row r;
  for (size_t n : sizes) {
    cell c;
    c.null = false;
    c.text.assign(n, 'x');
    r.cells.push_back(std::move(c));
  }
  return r;
}

TEST(row_pool, refilled_rows_keep_short_buffers_and_drop_long_ones) {
  pool_only reader;
  std::vector<row> back;
  back.push_back(row_of({100, 4000, 3}));
  reader.give_back(std::move(back));
  row r = reader.take_row(4);
  ASSERT_EQ(r.cells.size(), 4u);
  EXPECT_GE(r.cells[0].text.capacity(), 100u);
  EXPECT_LE(r.cells[1].text.capacity(), table_reader::max_spare_cell_bytes);
  // Whatever a refilled cell held before, fill_cell sets it whole.
  fill_cell(r.cells[0], "ab", 2);
  fill_cell(r.cells[2], nullptr, 0);
  EXPECT_EQ(r.cells[0].text, "ab");
  EXPECT_FALSE(r.cells[0].null);
  EXPECT_TRUE(r.cells[2].null);
  EXPECT_TRUE(r.cells[2].text.empty());
  // The pool is empty again: a new row has fresh, short buffers.
  row fresh = reader.take_row(1);
  EXPECT_LT(fresh.cells[0].text.capacity(), 100u);
}

TEST(row_pool, keeps_at_most_max_spare_rows) {
  pool_only reader;
  for (int round = 0; round < 2; ++round) {
    std::vector<row> back;
    for (size_t i = 0; i < table_reader::max_spare_rows; ++i) back.push_back(row_of({100}));
    reader.give_back(std::move(back));
  }
  size_t refilled = 0;
  for (size_t i = 0; i < 2 * table_reader::max_spare_rows; ++i)
    if (reader.take_row(1).cells[0].text.capacity() >= 100) ++refilled;
  EXPECT_EQ(refilled, table_reader::max_spare_rows);
}

TEST(row_pool, keeps_no_more_than_a_reader_limits_it_to) {
  pool_only reader;
  std::vector<row> back;
  for (size_t i = 0; i < 50; ++i) back.push_back(row_of({100}));
  reader.give_back(std::move(back));
  // A smaller limit drops what the pool holds beyond it, and later rows too.
  reader.limit_spare(10);
  back.clear();
  for (size_t i = 0; i < 50; ++i) back.push_back(row_of({100}));
  reader.give_back(std::move(back));
  size_t refilled = 0;
  for (size_t i = 0; i < 100; ++i)
    if (reader.take_row(1).cells[0].text.capacity() >= 100) ++refilled;
  EXPECT_EQ(refilled, 10u);
  // No limit above max_spare_rows.
  reader.limit_spare(10 * table_reader::max_spare_rows);
  back.clear();
  for (size_t i = 0; i < 2 * table_reader::max_spare_rows; ++i) back.push_back(row_of({100}));
  reader.give_back(std::move(back));
  refilled = 0;
  for (size_t i = 0; i < 2 * table_reader::max_spare_rows; ++i)
    if (reader.take_row(1).cells[0].text.capacity() >= 100) ++refilled;
  EXPECT_EQ(refilled, table_reader::max_spare_rows);
}

}  // namespace
}  // namespace trib
