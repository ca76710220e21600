// Result<T> and Status: which side a result holds, and that values move out whole.
#include "libutil/result.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>

namespace cairn::util {
namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return Error{EINVAL, std::string("'") + c + "' is not a digit"};
  return c - '0';
}

TEST(Result, HoldsTheValueOnSuccess) {
  auto r = parse_digit('7');
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(*r, 7);
}

TEST(Result, HoldsErrnoAndTextOnFailure) {
  auto r = parse_digit('x');
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, EINVAL);
  EXPECT_EQ(r.error().text, "'x' is not a digit");
}

TEST(Result, MovesAMoveOnlyValueOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, 5);
}

TEST(Status, DefaultIsSuccessAndAnErrorIsNot) {
  Status good;
  EXPECT_TRUE(good.ok());
  Status bad = Error{ENOSPC, "disk full"};
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().errnum, ENOSPC);
  EXPECT_EQ(bad.error().text, "disk full");
}

TEST(Result, ErrnumIsZeroOnSuccessElseTheErrors) {
  EXPECT_EQ(Status().errnum(), 0);
  EXPECT_EQ(Status(Error{EIO, "read failed"}).errnum(), EIO);
  EXPECT_EQ(Result<int>(7).errnum(), 0);
  EXPECT_EQ(Result<int>(Error{ENOENT, "no such blob"}).errnum(), ENOENT);
}

}  // namespace
}  // namespace cairn::util
