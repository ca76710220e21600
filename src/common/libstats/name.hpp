// The portable statsd name set (DESIGN.md §4, cairn-stats(3)): metric names and prefixes use
// only [A-Za-z0-9_.-]. Etsy statsd rewrites other characters and other servers drop the line,
// so libstats refuses them at the call and `cairn stats listen --validate` rejects them.
// Header-only: the check is one table lookup per byte, shared by libstats and the listener.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace cairn::stats {

namespace detail {
constexpr std::array<bool, 256> make_name_table() {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  t['_'] = t['.'] = t['-'] = true;
  return t;
}
inline constexpr std::array<bool, 256> kNameChars = make_name_table();
}  // namespace detail

// The characters allowed in names and prefixes, as the docs and error messages write them.
inline constexpr std::string_view kNameCharSet = "[A-Za-z0-9_.-]";

// True if c may appear in a metric name or prefix.
constexpr bool name_char(unsigned char c) { return detail::kNameChars[c]; }

// The index of the first character of s outside the portable set, or npos if there is none.
constexpr size_t bad_name_char(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (!name_char(static_cast<unsigned char>(s[i]))) return i;
  return std::string_view::npos;
}

// s for an error message: printable ASCII as is, every other byte as \xNN.
inline std::string printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u > ' ' && u < 0x7f)
      out += c;
    else
      out.append({'\\', 'x', kHex[u >> 4], kHex[u & 15]});
  }
  return out;
}

// The character at s[i] for an error message, quoted: 'c', or '\xNN' if not printable.
inline std::string describe_name_char(char c) { return "'" + printable({&c, 1}) + "'"; }

}  // namespace cairn::stats
