#include "actors/source/pg_checks.hpp"

#include <memory>

#include <libpq-fe.h>

#include "actors/source/pg_connect.hpp"
#include "actors/source/session_common.hpp"
#include "messages/failure.hpp"

namespace trib {

namespace {

// "a.x, a.y, b.z" with at most five names, then "and N more".
std::string name_list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < 5; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 5) out += " and " + std::to_string(names.size() - 5) + " more";
  return out;
}

std::string qualified(const pg_table_rights& t) { return t.schema + "." + t.table; }

}  // namespace

connection_check pg_replication_right(const std::string& user, bool replication,
                                      bool superuser) {
  connection_check c{"REPLICATION attribute", replication || superuser, ""};
  if (superuser) c.detail = user + " is a superuser";
  else if (replication) c.detail = user + " has it";
  else c.detail = user + " lacks it, which a replication connection needs; grant with "
                  "ALTER ROLE " + user + " REPLICATION";
  return c;
}

connection_check pg_wal_level(const std::string& wal_level) {
  connection_check c{"wal_level", wal_level == "logical", ""};
  c.detail = c.ok ? "logical"
                  : "is " + wal_level + ", logical decoding needs logical; set "
                    "wal_level = logical in postgresql.conf and restart the server";
  return c;
}

connection_check pg_free_slots(const std::string& slot, bool slot_exists, int max_slots,
                               int used_slots) {
  connection_check c{"replication slot", false, ""};
  if (slot_exists) {
    c.ok = true;
    c.detail = "slot " + slot + " exists";
  } else if (used_slots < max_slots) {
    c.ok = true;
    c.detail = std::to_string(max_slots - used_slots) + " of max_replication_slots " +
               std::to_string(max_slots) + " free for slot " + slot;
  } else {
    c.detail = "all " + std::to_string(max_slots) + " of max_replication_slots are in use, "
               "none left for slot " + slot + "; drop an unused slot "
               "(pg_drop_replication_slot) or raise max_replication_slots and restart";
  }
  return c;
}

connection_check pg_select_rights(const std::string& user,
                                  const std::vector<pg_table_rights>& tables) {
  std::vector<std::string> missing;
  for (const auto& t : tables)
    if (!t.select) missing.push_back(qualified(t));
  connection_check c{"SELECT on the tables", missing.empty() && !tables.empty(), ""};
  if (tables.empty())
    c.detail = "the database has no table the filter lets through";
  else if (missing.empty())
    c.detail = "on all " + std::to_string(tables.size()) + " tables";
  else
    c.detail = "not on " + name_list(missing) + "; grant with GRANT SELECT ON " +
               (missing.size() == 1 ? missing[0] : "ALL TABLES IN SCHEMA <schema>") + " TO " +
               user;
  return c;
}

connection_check pg_publication_rights(const std::string& user, const std::string& publication,
                                       bool exists, bool superuser, bool create_on_database,
                                       const std::string& database,
                                       const std::vector<pg_table_rights>& tables) {
  connection_check c{"publication", false, ""};
  if (exists) {
    c.ok = true;
    c.detail = publication + " exists";
    return c;
  }
  if (superuser) {
    c.ok = true;
    c.detail = publication + " does not exist yet; " + user + " (superuser) may create it";
    return c;
  }
  std::vector<std::string> not_owned;
  for (const auto& t : tables)
    if (!t.owner) not_owned.push_back(qualified(t));
  c.ok = create_on_database && not_owned.empty();
  if (c.ok) {
    c.detail = publication + " does not exist yet; " + user +
               " may create it (CREATE on the database, owner of the tables)";
    return c;
  }
  c.detail = publication + " does not exist and " + user + " may not create it:";
  if (!create_on_database)
    c.detail += " grant with GRANT CREATE ON DATABASE " + database + " TO " + user + ";";
  if (!not_owned.empty())
    c.detail += " only a table's owner may publish it, and " + user + " does not own " +
                name_list(not_owned) + ";";
  c.detail += " or create it as its owner: CREATE PUBLICATION " + publication +
              " FOR TABLE ...";
  return c;
}

namespace {

using result_ptr = std::unique_ptr<PGresult, decltype(&PQclear)>;

result_ptr query(PGconn* conn, const std::string& sql, const std::vector<std::string>& params,
                 const std::string& where, const char* what) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  result_ptr r(PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                            values.data(), nullptr, nullptr, 0),
               PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
    throw error(failure_code::source_state, "cannot " + std::string(what) + " on postgresql at " +
                                              where + ": " +
                                              pg_one_line(PQresultErrorMessage(r.get())));
  return r;
}

}  // namespace

std::vector<connection_check> check_postgres(const source_config& cfg, const std::string& slot,
                                             const std::string& publication,
                                             const filter_config& filter) {
  std::string where = cfg.host + ":" + std::to_string(source_detail::effective_port(cfg));
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(pg_connect(cfg, "", false), PQfinish);
  PGconn* c = conn.get();
  std::vector<connection_check> out;
  const char* version = PQparameterStatus(c, "server_version");
  out.push_back({"connection", true,
                 "postgresql " + std::string(version ? version : "?") + " at " +
                   where + " as " + cfg.username + ", database " + cfg.database});

  auto role = query(c,
                    "SELECT current_user, r.rolreplication, r.rolsuper, "
                    "current_setting('wal_level'), "
                    "current_setting('max_replication_slots')::int, "
                    "(SELECT count(*) FROM pg_replication_slots), "
                    "EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1), "
                    "has_database_privilege(current_database(), 'CREATE'), "
                    "EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $2) "
                    "FROM pg_roles r WHERE r.rolname = current_user",
                    {slot, publication}, where, "read the user's attributes and settings");
  if (PQntuples(role.get()) != 1)
    throw error(failure_code::source_state,
                "postgresql at " + where + " lists no role for the current user");
  auto get = [&](int col) { return std::string(PQgetvalue(role.get(), 0, col)); };
  std::string user = get(0);
  bool superuser = get(2) == "t";
  out.push_back(pg_replication_right(user, get(1) == "t", superuser));
  out.push_back(pg_wal_level(get(3)));
  out.push_back(pg_free_slots(slot, get(6) == "t", std::stoi(get(4)), std::stoi(get(5))));

  // Partitions are read through their parent, as the catalog listing does.
  auto tables = query(c,
                      "SELECT n.nspname, c.relname, has_table_privilege(c.oid, 'SELECT'), "
                      "pg_has_role(c.relowner, 'USAGE') "
                      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                      "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
                      "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                      "AND n.nspname NOT LIKE 'pg\\_toast%' ORDER BY 1, 2",
                      {}, where, "list the tables and the user's rights on them");
  std::vector<pg_table_rights> rights;
  for (int i = 0; i < PQntuples(tables.get()); ++i) {
    pg_table_rights t;
    t.schema = PQgetvalue(tables.get(), i, 0);
    t.table = PQgetvalue(tables.get(), i, 1);
    if (!source_detail::filter_allows(filter, table_id{cfg.database, t.schema, t.table}))
      continue;
    t.select = std::string(PQgetvalue(tables.get(), i, 2)) == "t";
    t.owner = std::string(PQgetvalue(tables.get(), i, 3)) == "t";
    rights.push_back(std::move(t));
  }
  out.push_back(pg_select_rights(user, rights));
  out.push_back(pg_publication_rights(user, publication, get(8) == "t", superuser, get(7) == "t",
                                      cfg.database, rights));
  return out;
}

}  // namespace trib
