// Stream and key names of design section 3, and the snapshot checkpoint text
// that goes into the checkpoint hash.

#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "actors/apply/envelope.hpp"
#include "messages/failure.hpp"

using namespace trib;

TEST(stream_names, snapshot_stream_leaves_out_missing_parts) {
  EXPECT_EQ(snapshot_stream_name({"tpch", "", "orders"}), "tpch_orders");
  EXPECT_EQ(snapshot_stream_name({"shop", "public", "orders"}), "shop_public_orders");
  EXPECT_EQ(snapshot_stream_name({"", "public", "orders"}), "public_orders");
}

TEST(stream_names, cdc_stream_appends_cdc_logs) {
  EXPECT_EQ(cdc_stream_name({"tpch", "", "orders"}), "tpch_orders_cdc_logs");
  EXPECT_EQ(cdc_stream_name({"shop", "public", "orders"}), "shop_public_orders_cdc_logs");
}

TEST(stream_names, map_file_sets_delimiter_and_case) {
  map_config dot;
  dot.delimiter = name_delimiter::dot;
  EXPECT_EQ(snapshot_stream_name({"shop", "public", "Orders"}, dot), "shop.public.Orders");
  map_config upper;
  upper.name_case = convert_case::upper;
  EXPECT_EQ(snapshot_stream_name({"shop", "public", "Orders"}, upper), "SHOP_PUBLIC_ORDERS");
  map_config lower;
  lower.name_case = convert_case::lower;
  lower.delimiter = name_delimiter::dot;
  EXPECT_EQ(snapshot_stream_name({"Shop", "", "ORDERS"}, lower), "shop.orders");
  EXPECT_EQ(cdc_stream_name({"Shop", "", "ORDERS"}, lower), "shop.orders_cdc_logs");
  EXPECT_EQ(snapshot_stream_name({"Shop", "Public", "Orders"}, map_config{}),
            "Shop_Public_Orders");
}

TEST(stream_names, internal_names_carry_group_and_id) {
  EXPECT_EQ(global_cdc_stream_name("default", "default"), "replicate_io_cdc_logs_default_default");
  EXPECT_EQ(schema_stream_name("g1", "redis"), "replicate_io_replication_schema_g1_redis");
  EXPECT_EQ(checkpoint_key("g1", "redis"), "replicate_io_checkpoint_g1_redis");
}

TEST(snapshot_checkpoint, encodes_as_the_documented_json) {
  snapshot_position p;
  p.rows_done = 12;
  p.done = false;
  p.last_key = {make_cell("42"), null_cell()};
  auto v = boost::json::parse(encode_snapshot_checkpoint(p));
  EXPECT_EQ(v.at("phase"), "snapshot");
  EXPECT_EQ(v.at("rows"), 12);
  EXPECT_EQ(v.at("done"), false);
  EXPECT_EQ(boost::json::serialize(v.at("last_key")), R"(["42",null])");
}

TEST(snapshot_checkpoint, round_trips_text_null_and_binary_keys) {
  snapshot_position p;
  p.rows_done = 18446744073709551615ull;
  p.done = true;
  std::string binary{"\x00\xff\xfe\x80 zero\0end", 13};
  p.last_key = {make_cell("caf\xC3\xA9 \xF0\x9F\x98\x80 \"q\" \\"), null_cell(),
                make_cell(binary), make_cell(""), make_cell("\xC0\xAF")};
  auto text = encode_snapshot_checkpoint(p);
  // The checkpoint must itself be valid JSON whatever the key bytes are.
  EXPECT_NO_THROW(boost::json::parse(text));
  auto back = decode_snapshot_checkpoint(text);
  EXPECT_EQ(back.rows_done, p.rows_done);
  EXPECT_EQ(back.done, p.done);
  ASSERT_EQ(back.last_key.size(), p.last_key.size());
  for (size_t i = 0; i < p.last_key.size(); ++i)
    EXPECT_EQ(back.last_key[i], p.last_key[i]) << i;
  EXPECT_EQ(back.last_key[2].text.size(), binary.size());
}

TEST(snapshot_checkpoint, empty_position_round_trips) {
  auto back = decode_snapshot_checkpoint(encode_snapshot_checkpoint(snapshot_position{}));
  EXPECT_EQ(back.rows_done, 0u);
  EXPECT_FALSE(back.done);
  EXPECT_TRUE(back.last_key.empty());
}

TEST(snapshot_checkpoint, malformed_text_is_bad_data) {
  for (const char* text :
       {"", "not json", "[]", R"({"phase":"stream","rows":1,"done":false,"last_key":[]})",
        R"({"phase":"snapshot","rows":-1,"done":false,"last_key":[]})",
        R"({"phase":"snapshot","rows":1,"done":"no","last_key":[]})",
        R"({"phase":"snapshot","rows":1,"done":false})",
        R"({"phase":"snapshot","rows":1,"done":false,"last_key":[1]})",
        R"({"phase":"snapshot","rows":1,"done":false,"last_key":[{"base64":"@@@@"}]})"}) {
    try {
      decode_snapshot_checkpoint(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const trib::error& e) {
      EXPECT_EQ(e.code(), failure_code::bad_data) << text;
    }
  }
}
