// Malformed binlog input: every truncation of every captured event, and
// bytes flipped inside them, with the header's size and the checksum made
// to agree so the parsers behind them see the damage. Each must decode or
// throw trib::error{bad_data} with a message naming what it read; nothing
// reads past the end (the decoder reads through bounds-checked cursors
// only) and a failed event leaves the decoder as it was.

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "actors/source/binlog_decoder.hpp"
#include "messages/failure.hpp"
#include "tests/unit/binlog_capture.hpp"

namespace trib::test {
namespace {

using namespace trib::binlog;

/// `ev` with its size field set to its length and a fresh CRC32 at its end.
std::string refit(std::string ev) {
  auto size = static_cast<uint32_t>(ev.size() + 4);
  std::memcpy(&ev[9], &size, 4);
  uint32_t crc = crc32_of(ev.data(), ev.size());
  ev.append(reinterpret_cast<const char*>(&crc), 4);
  return ev;
}

/// A decoder that has seen the captured events before `index`.
decoder primed(const std::vector<std::string>& events, size_t index) {
  decoder d;
  d.set_file("mysql-bin.000001");
  for (size_t i = 0; i < index; ++i) d.decode(events[i]);
  return d;
}

/// Decodes `bytes`; a throw must be bad_data with a "binlog: " message.
void expect_clean(decoder& d, const std::string& bytes, const std::string& label) {
  try {
    d.decode(bytes);
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::bad_data) << label << ": " << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("binlog: ", 0), 0u) << label << ": " << e.what();
  }
}

TEST(binlog_fuzz, every_truncation_of_every_event_fails_cleanly) {
  for (const char* file : {"types", "compressed", "no_metadata", "minimal_image"}) {
    auto events = binlog_events(file);
    for (size_t i = 1; i < events.size(); ++i) {
      decoder d = primed(events, i);
      const std::string& ev = events[i];
      // Cut anywhere, header untouched: the size no longer agrees.
      for (size_t len = 0; len < ev.size(); len += 7) {
        try {
          d.decode(ev.substr(0, len));
          ADD_FAILURE() << file << " event " << i << " cut to " << len << " bytes decodes";
        } catch (const error& e) {
          EXPECT_EQ(e.code(), failure_code::bad_data);
        }
      }
      // Cut the body, refit size and checksum: the parsers see the cut.
      for (size_t len = 19; len + 4 < ev.size(); ++len) {
        std::string label = std::string(file) + " event " + std::to_string(i) + " (" +
                            to_string(read_header(ev.data(), ev.size()).type) + ") body cut to " +
                            std::to_string(len);
        expect_clean(d, refit(ev.substr(0, len)), label);
      }
      // The decoder still decodes the real event after all that.
      EXPECT_NO_THROW(d.decode(ev)) << file << " event " << i;
    }
  }
}

TEST(binlog_fuzz, flipped_bytes_fail_cleanly_or_decode) {
  auto events = binlog_events("types");
  std::mt19937 rng(20261203);
  for (size_t i = 1; i < events.size(); ++i) {
    const std::string& ev = events[i];
    for (int round = 0; round < 40; ++round) {
      decoder d = primed(events, i);
      std::string body = ev.substr(0, ev.size() - 4);
      size_t at = 19 + rng() % (body.size() - 19);
      body[at] = static_cast<char>(rng());
      expect_clean(d, refit(body),
                   "types event " + std::to_string(i) + " byte " + std::to_string(at));
    }
  }
}

TEST(binlog_fuzz, a_bad_checksum_names_the_event_and_changes_nothing) {
  auto events = binlog_events("types");
  size_t map_index = 0;
  for (size_t i = 0; i < events.size() && !map_index; ++i)
    if (read_header(events[i].data(), events[i].size()).type == event_type::table_map) map_index = i;
  ASSERT_GT(map_index, 0u);
  decoder d = primed(events, map_index);
  std::string bad = events[map_index];
  bad[25] ^= 1;
  try {
    d.decode(bad);
    FAIL() << "accepts a damaged TABLE_MAP";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), failure_code::bad_data);
    EXPECT_NE(std::string(e.what()).find("checksum mismatch in TABLE_MAP ending at mysql-bin.000001:"),
              std::string::npos)
      << e.what();
  }
  // The map was not kept, so its rows event cannot be decoded...
  EXPECT_THROW(d.decode(events[map_index + 1]), error);
  // ...until the good map arrives.
  d.decode(events[map_index]);
  EXPECT_NO_THROW(d.decode(events[map_index + 1]));
}

TEST(binlog_fuzz, rows_without_their_table_map_are_a_clear_error) {
  auto events = binlog_events("types");
  decoder d;
  d.set_file("mysql-bin.000001");
  d.decode(events[0]);  // the format description only
  for (const auto& ev : events) {
    auto h = read_header(ev.data(), ev.size());
    if (h.type != event_type::write_rows_v1) continue;
    try {
      d.decode(ev);
      FAIL() << "decodes rows without a map";
    } catch (const error& e) {
      EXPECT_NE(std::string(e.what()).find("WRITE_ROWS_V1 ending at mysql-bin.000001:" +
                                           std::to_string(h.log_pos) + " refers to table id"),
                std::string::npos)
        << e.what();
    }
    break;
  }
}

TEST(binlog_fuzz, a_file_that_is_not_a_binlog_is_named_so) {
  EXPECT_THROW(split_binlog_file("\xfe" "bim"), error);
  std::string file = binlog_file("types");
  try {
    split_binlog_file(file.substr(0, file.size() - 3));
    FAIL() << "splits a truncated file";
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("left in the file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace trib::test
