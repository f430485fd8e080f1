// Strict parsing of the text fields of Merlin headers: every function either returns a
// value that is entirely made of what it expects, or nullopt. No locale, no exceptions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scandiff::io::mib_text {

// Without leading and trailing spaces/tabs/CR/LF.
std::string_view trim(std::string_view s);

// A non-negative decimal integer of 1..max_digits digits and nothing else.
std::optional<std::int64_t> parse_digits(std::string_view s, std::size_t max_digits = 18);

// A hexadecimal integer of 1..8 digits and nothing else.
std::optional<unsigned> parse_hex(std::string_view s);

// A finite decimal number ("0.001000", "2.000000E+0", "-1.5") and nothing else.
std::optional<double> parse_decimal(std::string_view s);

// "YYYY-MM-DD HH:MM:SS[.f...]" or "YYYY-MM-DDTHH:MM:SS[.f...]Z" (1..9 fraction digits)
// as ns since 1970-01-01 00:00:00 of the written clock; calendar ranges are checked and
// the year must lie in 1970..2200.
std::optional<std::int64_t> parse_timestamp_ns(std::string_view s);

// For messages: the text with non-printable bytes as \xNN, cut to `max` characters.
std::string printable(std::string_view s, std::size_t max = 40);

}  // namespace scandiff::io::mib_text
