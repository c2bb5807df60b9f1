// Realtime against Redis's argument limit (proto-max-bulk-len): a change
// whose entry Redis would refuse on every try is left out and named, and
// the stream goes on.

#include <gtest/gtest.h>

#include "tests/integration/realtime_fixture.hpp"

using namespace trib;
using namespace trib::test;

TEST_F(realtime, a_change_over_the_redis_argument_limit_is_left_out_and_named) {
  use("biglimit");
  // A server of its own with the smallest limit Redis takes, so that a 1.5
  // MB value passes it.
  private_redis small({"--proto-max-bulk-len", "1mb"});
  write_file(dir_ + "/dst.yaml", "type: REDIS_STREAM\nhost: 127.0.0.1\nport: " +
                                   std::to_string(small.port()) + "\n");
  sql db(db_);
  db.exec("CREATE TABLE items(id int PRIMARY KEY, v text)");
  start("realtime");
  db.exec("INSERT INTO items VALUES (1, 'a')");
  db.exec("INSERT INTO items VALUES (2, repeat('x', 1500000))");
  db.exec("INSERT INTO items VALUES (3, 'c')");
  ASSERT_TRUE(wait_until([&] { return stream_length(small.client(), stream("items")) >= 2; }))
    << read_text(dir_ + "/run.log");
  EXPECT_EQ(stop(), 0) << read_text(dir_ + "/run.log");
  std::vector<change> c;
  for (const auto& e : read_stream(small.client(), stream("items"))) c.push_back(decode(e));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(key_payload(c[0].key), "{\"id\":1}");
  EXPECT_EQ(key_payload(c[1].key), "{\"id\":3}");
  auto errors = read_text(dir_ + "/data/" + id_ + "/error.log");
  EXPECT_NE(errors.find("skips a change of " + db_ + ".public.items at"), std::string::npos)
    << errors;
  EXPECT_NE(errors.find("over the 1048576 bytes Redis accepts (proto-max-bulk-len)"),
            std::string::npos)
    << errors;
  EXPECT_EQ(read_text(dir_ + "/run.log").find("retries"), std::string::npos)
    << read_text(dir_ + "/run.log");
}
