// Helpers shared by the source session tests (pg_session_test.cpp,
// mariadb_session_test.cpp): test database names, schema lookups, reading a
// whole table in chunks and the failure code of an open.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/source/source_session.hpp"
#include "messages/failure.hpp"
#include "tests/integration/test_env.hpp"

namespace trib::test {

inline std::string test_database(const char* prefix) {
  std::string name = prefix;
  name += ::testing::UnitTest::GetInstance()->current_test_info()->name();
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

inline const table_schema* find_table(const std::vector<table_schema>& ts, const std::string& name) {
  for (const auto& t : ts)
    if (t.id.table == name) return &t;
  return nullptr;
}

inline const column_info& column(const table_schema& t, const std::string& name) {
  int i = column_index(t, name);
  if (i < 0) throw std::runtime_error("no column " + name);
  return t.columns[static_cast<size_t>(i)];
}

inline std::vector<std::string> names(const table_schema& t) {
  std::vector<std::string> out;
  for (const auto& c : t.columns) out.push_back(c.name);
  return out;
}

/// Every row of `t` in chunks of `chunk`, starting after `after_key`.
inline std::vector<row> read_all(source_session& s, const table_schema& t, size_t chunk,
                          const std::vector<cell>& after_key = {},
                          const std::string& conditions = "") {
  auto reader = s.open_table(t, after_key, conditions);
  std::vector<row> out;
  for (;;) {
    auto rows = reader->next(chunk);
    if (rows.empty()) break;
    EXPECT_LE(rows.size(), chunk);
    for (auto& r : rows) out.push_back(std::move(r));
  }
  return out;
}

inline std::vector<cell> key_of(const table_schema& t, const row& r) {
  std::vector<cell> out;
  for (size_t i : order_columns(t)) out.push_back(r.cells[i]);
  return out;
}

inline failure_code code_of_open(const source_config& cfg, std::string* what = nullptr) {
  try {
    open_source(cfg);
  } catch (const error& e) {
    if (what) *what = e.what();
    return e.code();
  }
  return failure_code::internal;  // "no failure" is never what a test expects
}

}  // namespace trib::test
