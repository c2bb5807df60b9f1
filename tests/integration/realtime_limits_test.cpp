// Realtime against Redis's argument limit (proto-max-bulk-len): a change
// whose entry Redis would refuse on every try is never retried; its table
// stops before it (nothing of it is released at the slot), the run exits 3
// naming it, and --resume once the limit is raised writes it exactly once.

#include <gtest/gtest.h>

#include "tests/integration/realtime_fixture.hpp"
#include "tests/integration/private_redis.hpp"

using namespace trib;
using namespace trib::test;

TEST_F(realtime, a_change_over_the_redis_argument_limit_stops_its_table_until_resume) {
  use("biglimit");
  // A server of its own with the smallest limit Redis takes, so that a 1.5
  // MB value passes it.
  private_redis small({"--proto-max-bulk-len", "1mb"});
  write_file(dir_ + "/dst.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                   std::to_string(small.port()) + "\n");
  sql db(db_);
  db.exec("CREATE TABLE items(id int PRIMARY KEY, v text);"
          "CREATE TABLE other(id int PRIMARY KEY)");
  start("realtime");
  db.exec("INSERT INTO items VALUES (1, 'a')");
  db.exec("INSERT INTO items VALUES (2, repeat('x', 1500000))");
  db.exec("INSERT INTO items VALUES (3, 'c')");
  db.exec("INSERT INTO other VALUES (1)");
  auto error_log = dir_ + "/data/" + id_ + "/error.log";
  // The other table goes on; the table of the large change stops at it.
  ASSERT_TRUE(wait_until([&] { return stream_length(small.client(), stream("other")) >= 1; }))
    << read_text(dir_ + "/run.log");
  ASSERT_TRUE(wait_until([&] {
    return read_text(error_log).find("stops " + db_ + ".public.items") != std::string::npos;
  })) << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 3) << read_text(dir_ + "/run.log");
  auto errors = read_text(error_log);
  EXPECT_NE(errors.find("over the 1048576 bytes Redis accepts (proto-max-bulk-len)"),
            std::string::npos)
    << errors;
  EXPECT_EQ(read_text(dir_ + "/run.log").find("retries"), std::string::npos)
    << read_text(dir_ + "/run.log");
  auto before = read_stream(small.client(), stream("items"));
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(key_payload(decode(before[0]).key), "{\"id\":1}");

  // Once the limit allows the entry, --resume writes it and what followed it,
  // each once; the other table skips what it already has.
  command_or_throw(small.client(), {"CONFIG", "SET", "proto-max-bulk-len", "4mb"});
  start("realtime", {"--resume"});
  ASSERT_TRUE(wait_until([&] { return stream_length(small.client(), stream("items")) >= 3; }))
    << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  std::vector<change> c;
  for (const auto& e : read_stream(small.client(), stream("items"))) c.push_back(decode(e));
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(key_payload(c[0].key), "{\"id\":1}");
  EXPECT_EQ(key_payload(c[1].key), "{\"id\":2}");
  EXPECT_EQ(c[1].after.at("v").as_string().size(), 1500000u);
  EXPECT_EQ(key_payload(c[2].key), "{\"id\":3}");
  EXPECT_EQ(stream_length(small.client(), stream("other")), 1);
}
