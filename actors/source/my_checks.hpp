#pragma once
// What `tributary test-connection` checks on MySQL/MariaDB: the binary log
// settings and the privileges row-based capture needs, one report line each,
// judged by pure functions from what read_binlog_settings (binlog_settings.hpp)
// reads. CAF-free.

#include <string>
#include <vector>

#include "actors/source/binlog_settings.hpp"
#include "conf/config.hpp"
#include "messages/connection_check.hpp"

namespace trib {

/// log_bin must be on, binlog_format ROW, binlog_row_image FULL.
connection_check my_log_bin(const binlog_settings& s);
connection_check my_binlog_format(const binlog_settings& s);
connection_check my_binlog_row_image(const binlog_settings& s);

/// REPLICATION SLAVE (MySQL 8.0.26+ also spells it REPLICATION REPLICA):
/// reading the binary log.
connection_check my_replication_slave(const binlog_settings& s);

/// REPLICATION CLIENT, which MariaDB 10.5.2+ calls BINLOG MONITOR (SUPER
/// also does on older servers): SHOW MASTER STATUS, the snapshot's position.
connection_check my_replication_client(const binlog_settings& s);

/// MySQL only: RELOAD, for the brief read lock that gives a snapshot its
/// binlog position (MariaDB needs none).
connection_check my_reload(const binlog_settings& s);

/// A table the run would read, and whether the user may SELECT from it.
struct my_table_right {
  std::string database, table;
  bool select = false;
};

/// SELECT on every table the filter lets through (snapshots read them).
connection_check my_select_rights(const std::string& account,
                                  const std::vector<my_table_right>& tables);

/// The tables `filter` lets through and whether this user's session may
/// read each: those the server lists to it plus those the filter names, each
/// tried with a SELECT that reads no row, so that rights through the user's
/// default role count as they do for the run itself. Named tables that do
/// not exist are left out. Throws trib::error as my_connect does.
std::vector<my_table_right> read_select_rights(const source_config& cfg,
                                               const filter_config& filter);

/// Every line above for the server at `cfg` (RELOAD on MySQL only) and the
/// tables `filter` lets through. A failed connection throws trib::error as
/// my_connect does.
std::vector<connection_check> check_mysql(const source_config& cfg,
                                          const filter_config& filter = {});

}  // namespace trib
