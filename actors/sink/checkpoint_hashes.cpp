// A replication's checkpoint hashes in either layout (see the header).

#include "actors/sink/checkpoint_hashes.hpp"

#include "actors/sink/redis_client.hpp"
#include "actors/sink/redis_cluster.hpp"

namespace trib {

std::string checkpoint_hash(redis_client& c, const std::string& base, const std::string& stream) {
  return c.cluster() ? stream_scoped_key(base, stream) : base;
}

std::string glob_escape(const std::string& text) {
  std::string out;
  for (char ch : text) {
    if (ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  return out;
}

std::vector<std::string> checkpoint_hashes(redis_client& c, const std::string& base) {
  std::vector<std::string> out;
  if (command_or_throw(c, {"EXISTS", base}).integer > 0) out.push_back(base);
  if (auto* cluster = c.cluster())
    for (auto& k : cluster->scan(glob_escape(base) + ":{*}")) out.push_back(std::move(k));
  return out;
}

std::map<std::string, std::string> read_checkpoint_fields(redis_client& c,
                                                          const std::string& base) {
  std::map<std::string, std::string> out;
  for (const auto& key : checkpoint_hashes(c, base)) {
    auto r = command_or_throw(c, {"HGETALL", key});
    for (size_t i = 0; i + 1 < r.elements.size(); i += 2)
      out[r.elements[i].str] = r.elements[i + 1].str;
  }
  return out;
}

}  // namespace trib
