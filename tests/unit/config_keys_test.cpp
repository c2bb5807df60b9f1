// The configuration reference (docs/configuration.md) documents exactly the
// keys the loader accepts (conf/keys.cpp, the table the loader reads its valid
// keys from): a key on one side only fails, named with its file kind.

#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "conf/keys.hpp"

using namespace trib;

namespace {

/// Heading -> the keys its table rows name: the first cell of a row, when it
/// is one `code` span.
std::map<std::string, std::set<std::string>> documented_keys(const std::string& page) {
  std::ifstream in(page);
  if (!in) throw std::runtime_error("cannot read " + page);
  std::map<std::string, std::set<std::string>> out;
  std::string heading, line;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      heading = line.substr(3);
      out[heading];
      continue;
    }
    if (line.rfind("| `", 0) != 0) continue;
    auto close = line.find('`', 3);
    auto cell_end = line.find('|', 1);
    // A first cell of one code span only: "| `a`, `b` |" would hide a key.
    if (close == std::string::npos || line.find_first_not_of(' ', close + 1) != cell_end) {
      ADD_FAILURE() << page << ": under '" << heading << "', a table row's first cell is not one key: "
                    << line;
      continue;
    }
    out[heading].insert(line.substr(3, close - 3));
  }
  return out;
}

const std::string page = std::string(TRIB_SOURCE_DIR) + "/docs/configuration.md";

}  // namespace

TEST(config_keys, the_reference_documents_every_accepted_key_and_no_other) {
  auto documented = documented_keys(page);
  for (const auto& kind : accepted_keys()) {
    auto section = documented.find(kind.file);
    if (section == documented.end()) {
      ADD_FAILURE() << page << " has no section '## " << kind.file << "'";
      continue;
    }
    std::set<std::string> accepted(kind.paths.begin(), kind.paths.end());
    for (const auto& key : accepted)
      if (section->second.count(key) == 0)
        ADD_FAILURE() << kind.file << ": '" << key << "' is accepted by the loader but not in " << page;
    for (const auto& key : section->second)
      if (accepted.count(key) == 0)
        ADD_FAILURE() << kind.file << ": '" << key << "' is in " << page
                      << " but the loader does not accept it (conf/keys.cpp)";
  }
  // Key rows under any other heading would be a file kind the loader lacks.
  for (const auto& [heading, keys] : documented) {
    bool known = false;
    for (const auto& kind : accepted_keys()) known = known || kind.file == heading;
    if (!known && !keys.empty())
      ADD_FAILURE() << page << ": section '" << heading << "' documents keys ('" << *keys.begin()
                    << "', ...) of no file kind the loader reads";
  }
}

TEST(config_keys, the_keys_of_a_map_are_its_direct_children) {
  EXPECT_EQ(keys_under("Applier", ""),
            (std::vector<std::string>{"snapshot", "realtime", "split-stream", "message",
                                      "stream-max-length", "trim", "max-consumer-lag"}));
  EXPECT_EQ(keys_under("Target connection", "ssl"),
            (std::vector<std::string>{"enable", "trust-store", "key-store"}));
  // `[]` marks list items: the list's own key has no brackets.
  EXPECT_EQ(keys_under("Extractor", "snapshot"),
            (std::vector<std::string>{"threads", "fetch-size-rows", "per-table-config"}));
  EXPECT_EQ(keys_under("Filter", "allow[].allow.<table>"),
            (std::vector<std::string>{"allow", "conditions"}));
  // A prefix matches whole names only: "realtime.thread" is not "realtime.threads".
  EXPECT_THROW(keys_under("Applier", "realtime.thread"), std::logic_error);
  EXPECT_THROW(keys_under("Applier", "nothing"), std::logic_error);
  EXPECT_THROW(keys_under("Sink", ""), std::logic_error);
}
