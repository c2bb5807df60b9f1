// The README and docs/ link to each other by file and heading; a page moved
// or a heading renamed must not leave a reader at a dead link.

#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace fs = std::filesystem;

namespace {

const fs::path root = TRIB_SOURCE_DIR;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A heading's anchor as GitHub makes it: lower case, punctuation dropped,
/// spaces as hyphens.
std::string anchor_of(const std::string& heading) {
  std::string out;
  for (unsigned char c : heading) {
    if (std::isalnum(c) || c == '-' || c == '_')
      out += static_cast<char>(std::tolower(c));
    else if (c == ' ')
      out += '-';
    else if (c >= 0x80)
      out += static_cast<char>(c);  // letters beyond ASCII stay
  }
  return out;
}

std::set<std::string> anchors(const fs::path& page) {
  std::set<std::string> out;
  std::istringstream lines(read(page));
  std::string line;
  bool code = false;
  while (std::getline(lines, line)) {
    if (line.rfind("```", 0) == 0) code = !code;
    if (code || line.empty() || line[0] != '#') continue;
    auto start = line.find_first_not_of('#');
    if (start == std::string::npos) continue;
    out.insert(anchor_of(line.substr(line.find_first_not_of(' ', start))));
  }
  return out;
}

}  // namespace

TEST(docs_links, every_relative_link_reaches_its_file_and_heading) {
  std::vector<fs::path> pages{root / "README.md", root / "ops/bench/HISTORY.md"};
  for (const auto& e : fs::directory_iterator(root / "docs"))
    if (e.path().extension() == ".md") pages.push_back(e.path());
  ASSERT_GT(pages.size(), 2u) << "no pages under docs/";
  std::regex link(R"(\]\(([^)\s]+)\))");
  int checked = 0;
  for (const auto& page : pages) {
    std::string text = read(page);
    ASSERT_FALSE(text.empty()) << "cannot read " << page;
    for (std::sregex_iterator m(text.begin(), text.end(), link), end; m != end; ++m) {
      std::string target = (*m)[1];
      if (target.find("://") != std::string::npos) continue;
      auto hash = target.find('#');
      std::string file = target.substr(0, hash);
      fs::path dest = file.empty() ? page : page.parent_path() / file;
      ++checked;
      if (!fs::exists(dest)) {
        ADD_FAILURE() << page << ": link to " << target << ": no such file";
        continue;
      }
      if (hash != std::string::npos && anchors(dest).count(target.substr(hash + 1)) == 0)
        ADD_FAILURE() << page << ": link to " << target << ": no such heading in " << dest;
    }
  }
  EXPECT_GT(checked, 10);
}
