#pragma once
// Dates, times, timestamps and intervals in the canonical text the sources
// print (messages/row.hpp), read as the numbers Debezium writes for them:
// days or microseconds since 1970-01-01 UTC, microseconds of a time or of a
// duration. Pure code; malformed text throws text_scan::bad_text, which
// column_codec turns into an error naming table and column.

#include <cstdint>
#include <string>
#include <string_view>

namespace trib::temporal_text {

/// Days since 1970-01-01 of "YYYY-MM-DD[ BC]" (proleptic Gregorian; 1 BC is
/// year 0). Sets `zero` for MariaDB's zero dates (month or day 0), and then
/// returns 0.
int64_t date_days(std::string_view text, bool& zero);

/// Microseconds since the epoch of "YYYY-MM-DD HH:MM:SS[.f][offset][ BC]"
/// ('T' also separates); `zoned` demands the offset ("+02", "-05:30", "Z").
/// `zero` as for date_days.
int64_t timestamp_micros(std::string_view text, bool zoned, bool& zero);

/// ISO-8601 in UTC with the fraction's trailing zeros dropped, as Debezium
/// writes a ZonedTimestamp ("2024-01-02T03:04:05.123Z").
std::string zoned_text(int64_t micros);

/// "[-]H+:MM:SS[.f]": a PostgreSQL time of day or a MariaDB TIME duration.
int64_t time_micros(std::string_view text);

/// A PostgreSQL interval in its default style or in ISO-8601 ("P1Y2M3DT4H"),
/// a month counted as 30.4375 days (Debezium's MicroDuration).
int64_t duration_micros(std::string_view text);

}  // namespace trib::temporal_text
