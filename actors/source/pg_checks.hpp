#pragma once
// What `tributary test-connection` checks on PostgreSQL: the rights and
// settings logical replication needs. Each check is a pure function from the
// server's answers to a report line (tested directly); check_postgres runs
// the queries. CAF-free.

#include <string>
#include <vector>

#include "conf/config.hpp"
#include "messages/connection_check.hpp"

namespace trib {

/// The REPLICATION attribute (or superuser) that a replication connection
/// needs.
connection_check pg_replication_right(const std::string& user, bool replication,
                                      bool superuser);

/// wal_level must be logical.
connection_check pg_wal_level(const std::string& wal_level);

/// A slot for this replication: it exists already, or one of
/// max_replication_slots is free.
connection_check pg_free_slots(const std::string& slot, bool slot_exists, int max_slots,
                               int used_slots);

/// One table of the database and the user's rights on it.
struct pg_table_rights {
  std::string schema, table;
  bool select = false;
  /// The user owns it (directly or through a role it belongs to).
  bool owner = false;
};

/// SELECT on every table the run reads (the snapshot, the catalog).
connection_check pg_select_rights(const std::string& user,
                                  const std::vector<pg_table_rights>& tables);

/// The publication: it exists, or the user may create it for the tables
/// (CREATE on the database and ownership of each table, or superuser).
connection_check pg_publication_rights(const std::string& user, const std::string& publication,
                                       bool exists, bool superuser, bool create_on_database,
                                       const std::string& database,
                                       const std::vector<pg_table_rights>& tables);

/// Connects as `cfg` says and checks all of the above for slot `slot` and
/// publication `publication`, on the tables `filter` lets through. A failed
/// connection throws trib::error as pg_connect does.
std::vector<connection_check> check_postgres(const source_config& cfg, const std::string& slot,
                                             const std::string& publication,
                                             const filter_config& filter);

}  // namespace trib
