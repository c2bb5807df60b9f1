#pragma once
// The MariaDB / MySQL source session over mariadb-connector-c and the text
// protocol, shared by its three files: mariadb_session.cpp (the connection,
// statements, the snapshot and its binlog position), mariadb_catalog.cpp
// (list_tables from information_schema) and mariadb_readers.cpp (the table
// readers). Include only from those; the rest of Tributary opens a session
// through open_source (source_session.hpp).
//
// Decisions:
// - TINYINT(1) stays int8: MariaDB has no boolean type, and a TINYINT(1)
//   holds -128..127 like any other TINYINT.
// - A table without order columns streams with mysql_use_result; while it is
//   open the session can run nothing else, so only one such reader may be
//   open at a time (a second query throws failure_code::internal).
// - Key values of ENUM and SET columns are compared by index / bit mask, the
//   order ORDER BY uses, not by label.

#include <mysql.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/source/session_common.hpp"

namespace trib::source_detail {

using result_ptr = std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)>;

/// `name` quoted with backticks; `catalog`.`table`.
std::string quote_ident(const std::string& name);
std::string qualified(const table_id& id);
/// ASCII lower case.
std::string lower(std::string s);

class my_session : public source_session {
public:
  my_session(MYSQL* m, const source_config& cfg);
  ~my_session() override { mysql_close(m_); }

  source_facts facts() override {
    source_facts f;
    f.kind = kind_;
    f.version = version_;
    f.server_id = server_id_;
    return f;
  }

  std::vector<table_schema> list_tables(const filter_config& filter,
                                        const extractor_config& ex) override;

  source_position begin_snapshot() override;

  std::unique_ptr<table_reader> open_table(const table_schema& t,
                                           const std::vector<cell>& after_key,
                                           const std::string& conditions) override;

  void end_snapshot() override {
    if (!in_txn_) return;
    in_txn_ = false;
    query("COMMIT", "end the snapshot");
  }

  std::optional<std::pair<std::string, std::string>> integer_range(
    const table_schema& t, const std::string& column, const std::string& conditions) override;

  /// Runs a statement; throws a classified trib::error.
  void query(const std::string& sql, const std::string& doing);
  result_ptr store(const std::string& sql, const std::string& doing);
  /// Starts a query whose rows are read as they arrive.
  result_ptr stream(const std::string& sql, const std::string& doing);
  [[noreturn]] void fail(const std::string& doing);

  /// A SQL literal for a key value in canonical text, typed so that the
  /// comparison is exact (an integer against a quoted string would compare
  /// as doubles and lose precision above 2^53).
  std::string literal(const cell& c, const column_info& col);
  /// A quoted, escaped string literal.
  std::string quote(const std::string& v);

  MYSQL* handle() { return m_; }
  void set_streaming(bool on) { streaming_ = on; }

private:
  MYSQL* m_;
  source_kind kind_;
  std::string where_;
  std::string version_;
  int64_t server_id_ = 0;
  bool mariadb_ = false;
  bool in_txn_ = false;
  bool streaming_ = false;
};

}  // namespace trib::source_detail
