// cairn::stats line text: the pieces of the encoder's hot path, where a flush writes one
// "HEAD" + value + "|TYPE\n" line per counter or gauge straight into the packet.
// write_int() writes exactly what std::to_chars writes ('-' and the digits, no leading zeros),
// optionally with '+' before a non-negative value (a statsd gauge delta); it splits the value
// into groups of four digits whose halves are formatted independently, two digits per table
// lookup, so a value costs a few multiplies instead of one dependent division per digit pair.
// Header-only so the packet writer inlines it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace cairn::stats {

// The most bytes write_int() writes: a sign and 20 digits.
inline constexpr size_t kMaxIntText = 21;
// Readable bytes that follow a line head in memory, so it can be copied in whole 16-byte
// blocks (metric_table.hpp's Slot keeps them; Sender::add_int_line relies on them).
inline constexpr size_t kHeadPadding = 16;

namespace detail {
constexpr std::array<char, 200> make_digit_pairs() {
  std::array<char, 200> t{};
  for (int i = 0; i < 100; ++i) {
    t[2 * i] = static_cast<char>('0' + i / 10);
    t[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return t;
}
inline constexpr std::array<char, 200> kDigitPairs = make_digit_pairs();

inline void put_pair(char* out, uint32_t v) { std::memcpy(out, &kDigitPairs[v * 2], 2); }

// v < 10000 as 1 to 4 digits; returns the end.
inline char* put_upto4(char* out, uint32_t v) {
  if (v < 100) {
    if (v < 10) {
      *out = static_cast<char>('0' + v);
      return out + 1;
    }
    put_pair(out, v);
    return out + 2;
  }
  uint32_t high = v / 100, low = v % 100;
  if (high < 10) {
    *out = static_cast<char>('0' + high);
    put_pair(out + 1, low);
    return out + 3;
  }
  put_pair(out, high);
  put_pair(out + 2, low);
  return out + 4;
}
// v < 10000 as exactly 4 digits.
inline void put4(char* out, uint32_t v) {
  put_pair(out, v / 100);
  put_pair(out + 2, v % 100);
}
// v < 10^8 as exactly 8 digits.
inline void put8(char* out, uint32_t v) {
  put4(out, v / 10000);
  put4(out + 4, v % 10000);
}
// v < 10^8 as 1 to 8 digits; returns the end.
inline char* put_upto8(char* out, uint32_t v) {
  if (v < 10000) return put_upto4(out, v);
  out = put_upto4(out, v / 10000);
  put4(out, v % 10000);
  return out + 4;
}
}  // namespace detail

// Writes u in decimal at out (at most 20 bytes); returns the end of what was written.
[[gnu::always_inline]] inline char* write_uint(char* out, uint64_t u) {
  constexpr uint64_t k1e8 = 100000000, k1e16 = k1e8 * k1e8;
  if (u < k1e8) return detail::put_upto8(out, static_cast<uint32_t>(u));
  if (u < k1e16) {
    out = detail::put_upto8(out, static_cast<uint32_t>(u / k1e8));
  } else {
    out = detail::put_upto4(out, static_cast<uint32_t>(u / k1e16));  // at most 1844
    detail::put8(out, static_cast<uint32_t>(u % k1e16 / k1e8));
    out += 8;
  }
  detail::put8(out, static_cast<uint32_t>(u % k1e8));
  return out + 8;
}

// Writes v at out (at most kMaxIntText bytes); with `plus`, a non-negative v gets a '+'.
// Returns the end of what was written.
[[gnu::always_inline]] inline char* write_int(char* out, int64_t v, bool plus = false) {
  uint64_t u = static_cast<uint64_t>(v);
  if (v < 0) {
    *out++ = '-';
    u = 0 - u;
  } else if (plus) {
    *out++ = '+';
  }
  return write_uint(out, u);
}

}  // namespace cairn::stats
