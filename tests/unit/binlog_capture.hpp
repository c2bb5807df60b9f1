#pragma once
// Reading the binlog files captured by tests/data/binlog/capture.sh, for
// the decoder's unit tests.

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "actors/source/binlog_cells.hpp"
#include "actors/source/binlog_decoder.hpp"
#include "messages/row.hpp"
#include "messages/table.hpp"

namespace trib::test {

/// The bytes of tests/data/binlog/<name>.bin.
inline std::string binlog_file(const std::string& name) {
  std::ifstream in(std::string(TRIB_SOURCE_DIR) + "/tests/data/binlog/" + name + ".bin",
                   std::ios::binary);
  EXPECT_TRUE(in) << "missing tests/data/binlog/" << name << ".bin (see capture.sh there)";
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Each event of a captured file, as its own bytes.
inline std::vector<std::string> binlog_events(const std::string& name) {
  std::string file = binlog_file(name);
  std::vector<std::string> out;
  for (auto [at, size] : binlog::split_binlog_file(file)) out.push_back(file.substr(at, size));
  return out;
}

/// A decoded event with the table map its rows (if any) were decoded with.
struct decoded {
  binlog::event ev;
  binlog::table_map map;
  binlog::transaction_facts trx;
};

/// Decodes a whole captured file with one decoder, as a dump would deliver
/// it (the file name comes from the test: files start without a ROTATE).
inline std::vector<decoded> decode_all(const std::string& name, const std::string& file_name) {
  binlog::decoder d;
  d.set_file(file_name);
  std::vector<decoded> out;
  for (const auto& bytes : binlog_events(name)) {
    decoded x;
    x.ev = d.decode(bytes);
    if (auto* r = std::get_if<binlog::rows_event>(&x.ev.body)) x.map = *d.table(r->table_id);
    x.trx = d.transaction();
    out.push_back(std::move(x));
  }
  return out;
}

/// A schema column as mariadb_catalog.cpp lists it.
inline column_info col(const std::string& name, value_kind kind, int32_t precision = 0,
                       int32_t scale = 0, std::vector<std::string> allowed = {}) {
  column_info c;
  c.name = name;
  c.kind = kind;
  c.precision = precision;
  c.scale = scale;
  c.allowed = std::move(allowed);
  return c;
}

inline table_schema schema(const std::string& table, std::vector<column_info> cols) {
  table_schema t;
  t.id = table_id{"binlog_capture", "", table};
  t.columns = std::move(cols);
  return t;
}

/// Expected cells: "\\N" stands for NULL.
inline row cells(std::vector<std::string> texts) {
  row r;
  for (auto& t : texts) r.cells.push_back(t == "\\N" ? null_cell() : make_cell(t));
  return r;
}

/// Readable form of a row for failure messages.
inline std::string show(const row& r) {
  std::string out;
  for (const auto& c : r.cells) out += (out.empty() ? "" : " | ") + (c.null ? "NULL" : c.text);
  return out;
}

#define EXPECT_ROW(actual, expected) EXPECT_EQ(show(actual), show(expected))

/// The rows events of `table` in a decoded file.
inline std::vector<const decoded*> rows_of(const std::vector<decoded>& all,
                                           const std::string& table) {
  std::vector<const decoded*> out;
  for (const auto& d : all)
    if (std::holds_alternative<binlog::rows_event>(d.ev.body) && d.map.table == table)
      out.push_back(&d);
  return out;
}

inline const binlog::rows_event& rows(const decoded* d) {
  return std::get<binlog::rows_event>(d->ev.body);
}

}  // namespace trib::test
