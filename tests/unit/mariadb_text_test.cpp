// The canonical text of MariaDB values that the snapshot and the binlog
// decoder share. Expected texts are what MariaDB 10.11 prints for the same
// stored values (SELECT of DOUBLE / FLOAT columns, checked on the server of
// ops/servers.sh).

#include <gtest/gtest.h>

#include <string>

#include "actors/source/mariadb_text.hpp"

namespace trib {
namespace {

TEST(mariadb_text, doubles_print_their_shortest_digits_in_the_server_s_notation) {
  EXPECT_EQ(my_double_text(1e15), "1e15");
  EXPECT_EQ(my_double_text(123456789012345), "123456789012345");
  EXPECT_EQ(my_double_text(1e-15), "0.000000000000001");
  EXPECT_EQ(my_double_text(1e-16), "1e-16");
  EXPECT_EQ(my_double_text(0.1), "0.1");
  EXPECT_EQ(my_double_text(-0.0), "0");
  EXPECT_EQ(my_double_text(1234567.5), "1234567.5");
  EXPECT_EQ(my_double_text(9007199254740993.0), "9.007199254740992e15");
  EXPECT_EQ(my_double_text(1.7976931348623157e308), "1.7976931348623157e308");
  EXPECT_EQ(my_double_text(2.2250738585072014e-308), "2.2250738585072014e-308");
  EXPECT_EQ(my_double_text(-1.0000000000000002), "-1.0000000000000002");
  EXPECT_EQ(my_double_text(123456789012345678.0), "1.2345678901234568e17");
  EXPECT_EQ(my_double_text(0.000025), "0.000025");
  EXPECT_EQ(my_double_text(100), "100");
}

TEST(mariadb_text, floats_print_six_significant_digits) {
  EXPECT_EQ(my_float_text(static_cast<float>(1e15)), "1e15");
  EXPECT_EQ(my_float_text(123456.0f), "123456");
  EXPECT_EQ(my_float_text(1234567.5f), "1234570");
  EXPECT_EQ(my_float_text(16777217.0f), "16777200");
  EXPECT_EQ(my_float_text(3.4028234e38f), "3.40282e38");
  EXPECT_EQ(my_float_text(1.17549435e-38f), "1.17549e-38");
  EXPECT_EQ(my_float_text(1.2345678f), "1.23457");
  EXPECT_EQ(my_float_text(123456789.0f), "123457000");
  EXPECT_EQ(my_float_text(0.1f), "0.1");
  EXPECT_EQ(my_float_text(-0.5f), "-0.5");
  EXPECT_EQ(my_fixed_text(1.5, 3), "1.500");
  EXPECT_EQ(my_fixed_text(-3.25, 3), "-3.250");
}

TEST(mariadb_text, dates_times_years_bits_and_timestamps) {
  EXPECT_EQ(my_date_text(0, 0, 0), "0000-00-00");
  EXPECT_EQ(my_date_text(1000, 1, 1), "1000-01-01");
  EXPECT_EQ(my_time_text(true, 838, 59, 59, 0, 0), "-838:59:59");
  EXPECT_EQ(my_time_text(false, 1, 2, 3, 4, 6), "01:02:03.000004");
  EXPECT_EQ(my_time_text(true, 0, 0, 0, 1000, 3), "-00:00:00.001");
  EXPECT_EQ(my_datetime_text(2024, 2, 29, 12, 0, 0, 500000, 2), "2024-02-29 12:00:00.50");
  EXPECT_EQ(my_year_text(0), "0000");
  EXPECT_EQ(my_year_text(1901), "1901");
  EXPECT_EQ(my_bits_text("\x02\x01", 2, 10), "1000000001");
  EXPECT_EQ(my_bits_text("\x01", 1, 1), "1");
  std::string ts = "2038-01-19 03:14:07.999999";
  my_timestamptz_text(ts);
  EXPECT_EQ(ts, "2038-01-19 03:14:07.999999+00");
  std::string zero = "0000-00-00 00:00:00";
  my_timestamptz_text(zero);
  EXPECT_EQ(zero, "0000-00-00 00:00:00");
}

}  // namespace
}  // namespace trib
