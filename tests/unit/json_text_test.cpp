// The JSON text writer against Boost.JSON's own serializer: every byte value
// at every position of texts of every length up to 19, so the eight-byte
// escape check cannot miss a byte that needs escaping, nor escape one that
// does not.

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "actors/apply/json_text.hpp"

namespace {

std::string reference(const std::string& s) {
  return boost::json::serialize(boost::json::string(s));
}

TEST(json_text, quotes_every_byte_at_every_position_like_boost_json) {
  for (size_t len = 1; len <= 19; ++len) {
    for (size_t at = 0; at < len; ++at) {
      for (int b = 1; b < 256; ++b) {
        // Plain letters around one byte under test; bytes of 0x80 and up
        // only make sense inside UTF-8, so test them as a whole sequence.
        std::string s(len, 'a');
        if (b < 0x80) {
          s[at] = static_cast<char>(b);
        } else {
          s[at] = '\xc3';
          s.insert(at + 1, 1, static_cast<char>(0x80 | (b & 0x3f)));
        }
        ASSERT_EQ(trib::json_quote(s), reference(s)) << "length " << len << ", byte " << b
                                                     << " at " << at;
      }
    }
  }
}

TEST(json_text, quotes_nul_bytes_and_empty_text) {
  std::string nul("a\0b", 3);
  EXPECT_EQ(trib::json_quote(nul), reference(nul));
  EXPECT_EQ(trib::json_quote(""), "\"\"");
  EXPECT_EQ(trib::json_quote("12345678\"12345678"), "\"12345678\\\"12345678\"");
}

}  // namespace
