#include "actors/control/slot_ownership.hpp"

#include <cctype>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace trib {

std::string default_slot_name(const std::string& group, const std::string& id) {
  std::string s = "tributary_" + group + "_" + id;
  for (auto& ch : s) {
    auto c = static_cast<unsigned char>(ch);
    ch = std::isalnum(c) ? static_cast<char>(std::tolower(c)) : '_';
  }
  return s.substr(0, 63);
}

std::string encode_slot_record(const slot_record& r) {
  boost::json::object o;
  o["slot"] = r.slot;
  o["database"] = r.database;
  o["publication"] = r.publication;
  o["system_id"] = r.system_id;
  return boost::json::serialize(o);
}

std::optional<slot_record> decode_slot_record(const std::string& text) {
  boost::json::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  slot_record r;
  for (auto [key, out] : {std::pair{"slot", &r.slot}, std::pair{"database", &r.database},
                          std::pair{"publication", &r.publication},
                          std::pair{"system_id", &r.system_id}}) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_string()) return std::nullopt;
    *out = std::string(it->value().as_string());
  }
  return r;
}

std::string slot_drop_refusal(const pg_slot_info& found, const std::optional<slot_record>& recorded,
                              const slot_record& wanted) {
  std::string what = "replication slot '" + found.name + "' (" +
                     (found.type == "logical" ? "plugin " + found.plugin + ", database " +
                                                  found.database
                                              : found.type + " slot") +
                     ")";
  std::string advice = ": name another slot in replication-slots, or drop it yourself if nothing "
                       "uses it (SELECT pg_drop_replication_slot('" + found.name + "'))";
  if (found.type != "logical" || found.plugin != "pgoutput" || found.database != wanted.database)
    return what + " is not a pgoutput slot of database " + wanted.database +
           ", so it belongs to someone else; a full run needs a new slot and will not drop it" +
           advice;
  if (!recorded || recorded->slot != wanted.slot || recorded->database != wanted.database ||
      recorded->system_id != wanted.system_id)
    return what + " was not created by this replication, so a full run will not drop it" + advice;
  if (recorded->publication != wanted.publication)
    return what + " was created by this replication for publication " + recorded->publication +
           ", not " + wanted.publication + "; a full run will not drop it" + advice;
  return "";
}

}  // namespace trib
