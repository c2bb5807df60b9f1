// Which table is the heartbeat table, per source kind.

#include <gtest/gtest.h>

#include "actors/source/heartbeat.hpp"

namespace trib {
namespace {

TEST(heartbeat_table, mariadb_names_it_by_database_and_table) {
  heartbeat_config h;
  h.enable = true;
  h.catalog = "shop";
  h.schema = "ignored";
  EXPECT_EQ(heartbeat_table(source_kind::mariadb, h),
            (table_id{"shop", "", "replicate_io_cdc_heartbeat"}));
}

TEST(heartbeat_table, postgresql_puts_it_in_public_unless_a_schema_is_given) {
  heartbeat_config h;
  h.enable = true;
  h.catalog = "shop";
  EXPECT_EQ(heartbeat_table(source_kind::postgresql, h),
            (table_id{"shop", "public", "replicate_io_cdc_heartbeat"}));
  h.schema = "ops";
  EXPECT_EQ(heartbeat_table(source_kind::postgresql, h).schema, "ops");
}

TEST(heartbeat_table, a_disabled_heartbeat_recognises_no_table) {
  heartbeat_config h;
  h.catalog = "shop";
  auto t = heartbeat_table(source_kind::mariadb, h);
  EXPECT_FALSE(is_heartbeat(source_kind::mariadb, h, t));
  h.enable = true;
  EXPECT_TRUE(is_heartbeat(source_kind::mariadb, h, t));
  EXPECT_FALSE(is_heartbeat(source_kind::mariadb, h, table_id{"shop", "", "orders"}));
}

}  // namespace
}  // namespace trib
