#pragma once
// Reading the binlog files captured by tests/data/binlog/capture.sh, for
// the decoder's unit tests.

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "actors/source/binlog_decoder.hpp"

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

}  // namespace trib::test
