// Test helper: two messages agree in every field (GoogleTest expectations, one per field).
#pragma once

#include <gtest/gtest.h>

#include "libmsg/message.hpp"

namespace cairn::msg::test {

inline void expect_same(const Message& a, const Message& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.topic, b.topic);
  EXPECT_EQ(a.matchtag, b.matchtag);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.errnum, b.errnum);
  EXPECT_EQ(a.payload, b.payload);
}

}  // namespace cairn::msg::test
