#pragma once
// MariaDB/MySQL values -> canonical text (messages/row.hpp). Shared by the
// snapshot session (the text protocol, where only BIT and TIMESTAMP need
// converting) and the binlog decoder (binary values, where every type is
// spelled here as the server's text protocol spells it), so both produce the
// same cells for the same value.

#include <cstddef>
#include <cstdint>
#include <string>

namespace trib {

/// BIT(n) as stored and sent (big-endian bytes, `len` of them) to n '0'/'1'
/// digits; n <= 0 means every bit of the bytes.
std::string my_bits_text(const char* v, size_t len, int32_t n);

/// Makes a TIMESTAMP's text (UTC, "YYYY-MM-DD HH:MM:SS[.f]") canonical
/// timestamptz by appending "+00"; the zero date is no instant and keeps its
/// spelling.
void my_timestamptz_text(std::string& text);

/// DOUBLE as MariaDB prints it: the shortest digits that read back as the
/// same double, plain notation for exponents -14..15 ("0.000025",
/// "1000000000000000"), else "1e300", "1.2345678901234568e17", "5e-324".
std::string my_double_text(double v);

/// FLOAT (a float widened to double) as MariaDB prints it: 6 significant
/// digits at most ("1.23457", "3.4e38"), then the DOUBLE rules.
std::string my_float_text(double v);

/// FLOAT(M,D) / DOUBLE(M,D): exactly `decimals` fraction digits ("1.500").
std::string my_fixed_text(double v, int decimals);

/// "YYYY-MM-DD" (zero parts allowed: "0000-00-00").
std::string my_date_text(unsigned year, unsigned month, unsigned day);

/// "[-]HH:MM:SS[.f]" with `fsp` fraction digits of `micros`; hours may
/// exceed 99 ("-838:59:59").
std::string my_time_text(bool negative, unsigned hours, unsigned minutes, unsigned seconds,
                         uint32_t micros, unsigned fsp);

/// "YYYY-MM-DD HH:MM:SS[.f]" with `fsp` fraction digits of `micros`.
std::string my_datetime_text(unsigned year, unsigned month, unsigned day, unsigned hours,
                             unsigned minutes, unsigned seconds, uint32_t micros, unsigned fsp);

/// YEAR: "0000" for the zero year, else the four digits.
std::string my_year_text(unsigned year);

}  // namespace trib
