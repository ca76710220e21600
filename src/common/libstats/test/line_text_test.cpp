// write_int (line_text.hpp): the encoder's integer text is exactly std::to_chars's, at every
// digit count, at both ends of int64, with and without the '+' of a gauge delta.
#include "libstats/line_text.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace cairn::stats {
namespace {

std::string expected(int64_t v, bool plus) {
  char buf[32];
  char* p = buf;
  if (plus && v >= 0) *p++ = '+';
  p = std::to_chars(p, buf + sizeof buf, v).ptr;
  return std::string(buf, p);
}

std::string written(int64_t v, bool plus) {
  char buf[kMaxIntText + 8];
  char* end = write_int(buf, v, plus);
  EXPECT_LE(static_cast<size_t>(end - buf), kMaxIntText);
  return std::string(buf, end);
}

TEST(WriteIntTest, MatchesToCharsAroundEveryPowerOfTen) {
  std::vector<int64_t> values = {0, std::numeric_limits<int64_t>::max(),
                                 std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::min() + 1};
  for (int64_t p = 1; p <= std::numeric_limits<int64_t>::max() / 10; p *= 10) {
    for (int64_t d : {-1, 0, 1}) {
      values.push_back(p + d);
      values.push_back(-(p + d));
      values.push_back(p * 10 - 1 + d);
    }
  }
  for (int64_t v : values) {
    EXPECT_EQ(written(v, false), expected(v, false)) << v;
    EXPECT_EQ(written(v, true), expected(v, true)) << v;
  }
}

TEST(WriteIntTest, MatchesToCharsForRandomValuesOfEveryLength) {
  std::mt19937_64 random(14);
  for (int i = 0; i < 200000; ++i) {
    // A random bit length makes every digit count likely.
    int64_t v = static_cast<int64_t>(random() >> (random() % 64));
    if (i % 2) v = -v;
    ASSERT_EQ(written(v, i % 3 == 0), expected(v, i % 3 == 0)) << v;
  }
}

}  // namespace
}  // namespace cairn::stats
