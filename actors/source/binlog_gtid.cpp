// GTID positions and sets; see binlog_gtid.hpp.

#include "actors/source/binlog_gtid.hpp"

#include <algorithm>
#include <cctype>

#include "actors/source/binlog_cursor.hpp"

namespace trib::binlog {

namespace {

std::string without_space(const std::string& s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

/// A decimal number of at most 19 digits, or -1.
int64_t number(const std::string& s) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
    return -1;
  return static_cast<int64_t>(std::stoull(s));
}

bool is_uuid(const std::string& u) {
  if (u.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? u[i] != '-' : !std::isxdigit(static_cast<unsigned char>(u[i]))) return false;
  }
  return true;
}

std::string uuid_bytes(const std::string& u) {
  std::string out;
  for (size_t i = 0; i < u.size(); i += 2) {
    if (u[i] == '-') ++i;
    out += static_cast<char>(std::stoi(u.substr(i, 2), nullptr, 16));
  }
  return out;
}

void put_le(std::string& out, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

std::string uuid_text(const char* b) {
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += cursor::hex(static_cast<unsigned char>(b[i]));
  }
  return out;
}

mariadb_gtid_position mariadb_gtid_position::parse(const std::string& text) {
  mariadb_gtid_position p;
  std::string t = without_space(text);
  if (t.empty()) return p;
  for (const auto& part : split(t, ',')) {
    auto f = split(part, '-');
    int64_t d = f.size() == 3 ? number(f[0]) : -1, s = f.size() == 3 ? number(f[1]) : -1,
            q = f.size() == 3 ? number(f[2]) : -1;
    if (d < 0 || s < 0 || q < 0 || d > UINT32_MAX || s > UINT32_MAX)
      fail("bad MariaDB GTID '" + part + "' in '" + text + "' (domain-server-sequence expected)");
    gtid_event g;
    g.domain_id = static_cast<uint32_t>(d);
    g.server_id = static_cast<uint32_t>(s);
    g.seq_no = static_cast<uint64_t>(q);
    if (p.by_domain_.count(g.domain_id))
      fail("MariaDB GTID position '" + text + "' names domain " + std::to_string(d) + " twice");
    p.by_domain_[g.domain_id] = g;
  }
  return p;
}

void mariadb_gtid_position::apply(const gtid_event& g) { by_domain_[g.domain_id] = g; }

std::string mariadb_gtid_position::text() const {
  std::string out;
  for (const auto& [d, g] : by_domain_) out += (out.empty() ? "" : ",") + g.text();
  return out;
}

void mysql_gtid_set::add_interval(const std::string& uuid, int64_t first, int64_t last) {
  auto& list = sets_[uuid];
  list.emplace_back(first, last);
  std::sort(list.begin(), list.end());
  std::vector<std::pair<int64_t, int64_t>> merged;
  for (const auto& iv : list) {
    if (!merged.empty() && iv.first <= merged.back().second + 1)
      merged.back().second = std::max(merged.back().second, iv.second);
    else
      merged.push_back(iv);
  }
  list = std::move(merged);
}

mysql_gtid_set mysql_gtid_set::parse(const std::string& text) {
  mysql_gtid_set s;
  std::string t = without_space(text);
  if (t.empty()) return s;
  for (const auto& part : split(t, ',')) {
    auto f = split(part, ':');
    std::string uuid = f[0];
    std::transform(uuid.begin(), uuid.end(), uuid.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!is_uuid(uuid) || f.size() < 2)
      fail("bad MySQL GTID set part '" + part + "' in '" + text + "' (uuid:interval expected)");
    for (size_t i = 1; i < f.size(); ++i) {
      auto ends = split(f[i], '-');
      int64_t first = ends.size() <= 2 ? number(ends[0]) : -1;
      int64_t last = ends.size() == 2 ? number(ends[1]) : first;
      if (first < 1 || last < first)
        fail("bad interval '" + f[i] + "' in MySQL GTID set '" + text + "'");
      s.add_interval(uuid, first, last);
    }
  }
  return s;
}

mysql_gtid_set mysql_gtid_set::decode(cursor& in) {
  mysql_gtid_set s;
  uint64_t sids = in.u64("GTID set count");
  if (sids > in.left() / 24) fail("bad GTID set count " + std::to_string(sids));
  for (uint64_t i = 0; i < sids; ++i) {
    std::string uuid = uuid_text(in.take(16, "GTID set source id"));
    uint64_t n = in.u64("GTID set interval count");
    if (n > in.left() / 16) fail("bad GTID set interval count " + std::to_string(n));
    for (uint64_t k = 0; k < n; ++k) {
      auto start = static_cast<int64_t>(in.u64("GTID set interval"));
      auto end = static_cast<int64_t>(in.u64("GTID set interval"));
      // Stored half-open: [start, end).
      if (start < 1 || end <= start)
        fail("bad GTID set interval [" + std::to_string(start) + ", " + std::to_string(end) + ")");
      s.add_interval(uuid, start, end - 1);
    }
  }
  return s;
}

std::string mysql_gtid_set::encode() const {
  std::string out;
  put_le(out, sets_.size(), 8);
  for (const auto& [uuid, list] : sets_) {
    out += uuid_bytes(uuid);
    put_le(out, list.size(), 8);
    for (const auto& [first, last] : list) {
      put_le(out, static_cast<uint64_t>(first), 8);
      put_le(out, static_cast<uint64_t>(last) + 1, 8);
    }
  }
  return out;
}

void mysql_gtid_set::add(const std::string& uuid, int64_t gno) {
  if (!is_uuid(uuid) || gno < 1) fail("bad MySQL GTID " + uuid + ":" + std::to_string(gno));
  add_interval(uuid, gno, gno);
}

bool mysql_gtid_set::contains(const std::string& uuid, int64_t gno) const {
  auto it = sets_.find(uuid);
  if (it == sets_.end()) return false;
  for (const auto& [first, last] : it->second)
    if (gno >= first && gno <= last) return true;
  return false;
}

std::string mysql_gtid_set::text() const {
  std::string out;
  for (const auto& [uuid, list] : sets_) {
    out += (out.empty() ? "" : ",") + uuid;
    for (const auto& [first, last] : list)
      out += ":" + std::to_string(first) + (last > first ? "-" + std::to_string(last) : "");
  }
  return out;
}

std::string mysql_dump_gtid_command(uint32_t server_id, const mysql_gtid_set& executed,
                                    const std::string& file, uint64_t position, uint16_t flags) {
  // COM_BINLOG_DUMP_GTID: command, flags (BINLOG_THROUGH_GTID = 4 says the
  // set follows), server id, file name length and name, position, set size
  // and the set.
  std::string out(1, '\x1e');
  put_le(out, flags | 4u, 2);
  put_le(out, server_id, 4);
  put_le(out, file.size(), 4);
  out += file;
  put_le(out, position, 8);
  std::string set = executed.encode();
  put_le(out, set.size(), 4);
  return out + set;
}

}  // namespace trib::binlog
