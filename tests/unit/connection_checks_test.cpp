// What test-connection's answers mean: each check of PostgreSQL, MySQL/
// MariaDB and Redis as a pure function of the server's answers, and the
// MariaDB connector's numbered messages put into words.

#include <gtest/gtest.h>

#include "actors/sink/redis_checks.hpp"
#include "actors/source/my_checks.hpp"
#include "actors/source/my_connect.hpp"
#include "actors/source/pg_checks.hpp"

using namespace trib;

namespace {

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

binlog_settings good_mariadb() {
  binlog_settings s;
  s.version = "10.11.6-MariaDB";
  s.account = "'repl'@'%'";
  s.log_bin = true;
  s.binlog_format = "ROW";
  s.binlog_row_image = "FULL";
  s.privileges = {"REPLICATION SLAVE", "BINLOG MONITOR"};
  return s;
}

}  // namespace

TEST(pg_checks, replication_needs_the_attribute_or_superuser) {
  EXPECT_TRUE(pg_replication_right("u", true, false).ok);
  EXPECT_TRUE(pg_replication_right("u", false, true).ok);
  auto no = pg_replication_right("u", false, false);
  EXPECT_FALSE(no.ok);
  EXPECT_TRUE(has(no.detail, "ALTER ROLE u REPLICATION")) << no.detail;
  EXPECT_EQ(to_string(no).rfind("MISSING  REPLICATION attribute: ", 0), 0u) << to_string(no);
}

TEST(pg_checks, wal_level_must_be_logical) {
  EXPECT_TRUE(pg_wal_level("logical").ok);
  auto no = pg_wal_level("replica");
  EXPECT_FALSE(no.ok);
  EXPECT_TRUE(has(no.detail, "is replica")) << no.detail;
  EXPECT_TRUE(has(no.detail, "wal_level = logical")) << no.detail;
}

TEST(pg_checks, a_slot_exists_or_one_is_free) {
  EXPECT_TRUE(pg_free_slots("s", true, 2, 2).ok);
  auto free = pg_free_slots("s", false, 10, 7);
  EXPECT_TRUE(free.ok);
  EXPECT_TRUE(has(free.detail, "3 of max_replication_slots 10 free")) << free.detail;
  auto full = pg_free_slots("s", false, 4, 4);
  EXPECT_FALSE(full.ok);
  EXPECT_TRUE(has(full.detail, "none left for slot s")) << full.detail;
}

TEST(pg_checks, select_is_needed_on_every_table) {
  std::vector<pg_table_rights> t{{"public", "a", true, true}, {"public", "b", false, false}};
  auto no = pg_select_rights("u", t);
  EXPECT_FALSE(no.ok);
  EXPECT_TRUE(has(no.detail, "not on public.b; grant with GRANT SELECT ON public.b TO u"))
    << no.detail;
  t[1].select = true;
  auto yes = pg_select_rights("u", t);
  EXPECT_TRUE(yes.ok);
  EXPECT_TRUE(has(yes.detail, "all 2 tables")) << yes.detail;
  EXPECT_FALSE(pg_select_rights("u", {}).ok);
}

TEST(pg_checks, a_publication_exists_or_the_user_may_create_it) {
  std::vector<pg_table_rights> owned{{"public", "a", true, true}};
  std::vector<pg_table_rights> foreign{{"public", "a", true, false}};
  EXPECT_TRUE(pg_publication_rights("u", "p", true, false, false, "db", foreign).ok);
  EXPECT_TRUE(pg_publication_rights("u", "p", false, true, false, "db", foreign).ok);
  EXPECT_TRUE(pg_publication_rights("u", "p", false, false, true, "db", owned).ok);
  auto no_create = pg_publication_rights("u", "p", false, false, false, "db", owned);
  EXPECT_FALSE(no_create.ok);
  EXPECT_TRUE(has(no_create.detail, "GRANT CREATE ON DATABASE db TO u")) << no_create.detail;
  auto not_owner = pg_publication_rights("u", "p", false, false, true, "db", foreign);
  EXPECT_FALSE(not_owner.ok);
  EXPECT_TRUE(has(not_owner.detail, "does not own public.a")) << not_owner.detail;
}

TEST(my_checks, a_well_set_up_server_passes_every_check) {
  auto s = good_mariadb();
  for (const auto& c : {my_log_bin(s), my_binlog_format(s), my_binlog_row_image(s),
                        my_replication_slave(s), my_replication_client(s)})
    EXPECT_TRUE(c.ok) << to_string(c);
}

TEST(my_checks, binlog_settings_name_the_fix) {
  auto s = good_mariadb();
  s.log_bin = false;
  s.binlog_format = "MIXED";
  s.binlog_row_image = "MINIMAL";
  EXPECT_FALSE(my_log_bin(s).ok);
  auto format = my_binlog_format(s);
  EXPECT_FALSE(format.ok);
  EXPECT_TRUE(has(format.detail, "is MIXED")) << format.detail;
  EXPECT_TRUE(has(format.detail, "SET GLOBAL binlog_format = 'ROW'")) << format.detail;
  auto image = my_binlog_row_image(s);
  EXPECT_FALSE(image.ok);
  EXPECT_TRUE(has(image.detail, "SET GLOBAL binlog_row_image = 'FULL'")) << image.detail;
  // A server without the variable logs full images.
  s.binlog_row_image.clear();
  EXPECT_TRUE(my_binlog_row_image(s).ok);
}

TEST(my_checks, replication_rights_under_each_name) {
  auto s = good_mariadb();
  s.privileges = {"ALL PRIVILEGES"};
  EXPECT_TRUE(my_replication_slave(s).ok);
  EXPECT_TRUE(my_replication_client(s).ok);
  s.privileges = {"REPLICATION CLIENT"};
  EXPECT_TRUE(my_replication_client(s).ok);
  auto slave = my_replication_slave(s);
  EXPECT_FALSE(slave.ok);
  EXPECT_TRUE(has(slave.detail, "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'")) << slave.detail;
  s.privileges = {"SELECT"};
  auto client = my_replication_client(s);
  EXPECT_FALSE(client.ok);
  // MariaDB 10.5+ calls it BINLOG MONITOR; MySQL REPLICATION CLIENT.
  EXPECT_TRUE(has(client.detail, "GRANT BINLOG MONITOR ON *.*")) << client.detail;
  s.version = "8.0.36";
  EXPECT_TRUE(has(my_replication_client(s).detail, "GRANT REPLICATION CLIENT ON *.*"));
  EXPECT_FALSE(my_reload(s).ok);
}

TEST(my_connect_words, numbered_connector_messages_get_words) {
  EXPECT_EQ(my_error_words("Can't connect to server on '127.0.0.1' (111)"),
            "Can't connect to server on '127.0.0.1' (errno 111: Connection refused)");
  EXPECT_EQ(my_error_words("Can't connect to server on '127.0.0.1' (115)"),
            "Can't connect to server on '127.0.0.1' (errno 115: the server did not accept the "
            "connection (nothing listens on that port, or a firewall drops it))");
  auto host = my_error_words("Unknown server host 'nohost' (-2)");
  EXPECT_EQ(host.rfind("Unknown server host 'nohost' (getaddrinfo -2: ", 0), 0u) << host;
  EXPECT_FALSE(has(host, "(-2)")) << host;
  for (const char* same : {"Access denied for user 'x'@'h' (using password: YES)", "", ")",
                           "Lost connection to server during query"})
    EXPECT_EQ(my_error_words(same), same);
}

TEST(redis_checks, every_command_of_a_run_is_checked_on_its_keys) {
  redis_key_plan plan{"ckpt", "schema", {"lease", "alive"}, {"t", "t_cdc_logs"}};
  auto uses = redis_command_uses(plan);
  auto find = [&](const std::string& c) -> const redis_command_use* {
    for (const auto& u : uses)
      if (u.command == c) return &u;
    return nullptr;
  };
  for (const char* c : {"MULTI", "EXEC", "INFO", "HSET", "HGET", "XADD", "XDEL", "XTRIM"})
    ASSERT_NE(find(c), nullptr) << c;
  EXPECT_EQ(find("HSET")->keys, std::vector<std::string>{"ckpt"});
  EXPECT_EQ(find("XADD")->keys, (std::vector<std::string>{"schema", "t", "t_cdc_logs"}));
  EXPECT_EQ(find("XDEL")->keys, (std::vector<std::string>{"t", "t_cdc_logs"}));
  // Without the tables, the table-only commands have nothing to be checked on.
  plan.table_streams.clear();
  uses = redis_command_uses(plan);
  EXPECT_EQ(find("XDEL"), nullptr);
  EXPECT_NE(find("XADD"), nullptr);
}

TEST(redis_checks, probes_are_harmless_should_they_run) {
  EXPECT_EQ(redis_probe_argv("XTRIM", "k"), (std::vector<std::string>{"XTRIM", "k", "MINID", "0-0"}));
  EXPECT_EQ(redis_probe_argv("XDEL", "k"), (std::vector<std::string>{"XDEL", "k", "0-1"}));
  EXPECT_EQ(redis_probe_argv("INFO", ""), (std::vector<std::string>{"INFO", "memory"}));
}

TEST(redis_checks, answers_mean_allowed_or_refused) {
  redis_reply ok{redis_reply::kind::status, "OK", 0, {}};
  redis_reply queued{redis_reply::kind::status, "QUEUED", 0, {}};
  redis_reply denied{redis_reply::kind::string, "User u has no permissions to run the 'xdel' command", 0, {}};
  redis_reply noperm{redis_reply::kind::error, "NOPERM No permissions to access a key", 0, {}};
  redis_reply syntax{redis_reply::kind::error, "ERR syntax error", 0, {}};
  EXPECT_FALSE(dryrun_refusal(ok));
  EXPECT_EQ(*dryrun_refusal(denied), denied.str);
  EXPECT_FALSE(queued_refusal(queued));
  EXPECT_EQ(*queued_refusal(noperm), noperm.str);
  EXPECT_FALSE(queued_refusal(syntax));  // not about rights
}

TEST(redis_checks, a_line_names_the_command_or_the_keys_to_grant) {
  redis_command_use xdel{"XDEL", {"a", "b"}};
  auto ok = redis_command_check(xdel, {std::nullopt, std::nullopt}, "u");
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(to_string(ok), "ok       XDEL: allowed on 2 keys");
  auto command = redis_command_check(
    xdel, {std::string("User u has no permissions to run the 'xdel' command"), std::nullopt}, "u");
  EXPECT_FALSE(command.ok);
  EXPECT_TRUE(has(command.detail, "ACL SETUSER u +xdel")) << command.detail;
  auto key = redis_command_check(xdel, {std::nullopt, std::string("NOPERM No permissions to access a key")}, "u");
  EXPECT_FALSE(key.ok);
  EXPECT_TRUE(has(key.detail, "may not use it on b")) << key.detail;
  EXPECT_TRUE(has(key.detail, "ACL SETUSER u ~b")) << key.detail;
}
