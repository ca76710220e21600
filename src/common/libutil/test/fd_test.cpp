// UniqueFd: closes its descriptor once, on destruction, reset or move-assignment, and never
// after release() or a move away.
#include "libutil/fd.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace cairn::util {
namespace {

bool is_open(int fd) { return fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

// Both ends of a fresh pipe, as bare descriptors for the test to hand over.
std::pair<int, int> two_fds() {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  return {fds[0], fds[1]};
}

TEST(UniqueFd, ClosesOnDestruction) {
  auto [a, b] = two_fds();
  {
    UniqueFd fd(a);
    EXPECT_EQ(fd.get(), a);
    EXPECT_TRUE(fd);
    EXPECT_TRUE(is_open(a));
  }
  EXPECT_FALSE(is_open(a));
  ::close(b);
}

TEST(UniqueFd, MoveAssignmentClosesTheDescriptorItReplaces) {
  auto [a, b] = two_fds();
  UniqueFd target(a);
  UniqueFd source(b);
  target = std::move(source);
  EXPECT_FALSE(is_open(a));
  EXPECT_TRUE(is_open(b));
  EXPECT_EQ(target.get(), b);
  EXPECT_EQ(source.get(), -1);  // NOLINT(bugprone-use-after-move): moved-from holds -1
  EXPECT_FALSE(source);
}

TEST(UniqueFd, MoveConstructionHandsOverWithoutClosing) {
  auto [a, b] = two_fds();
  UniqueFd first(a);
  UniqueFd second(std::move(first));
  EXPECT_EQ(second.get(), a);
  EXPECT_EQ(first.get(), -1);  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(is_open(a));
  ::close(b);
}

TEST(UniqueFd, SelfMoveAssignmentKeepsTheDescriptor) {
  auto [a, b] = two_fds();
  UniqueFd fd(a);
  UniqueFd& same = fd;
  fd = std::move(same);
  EXPECT_EQ(fd.get(), a);
  EXPECT_TRUE(is_open(a));
  ::close(b);
}

TEST(UniqueFd, ReleaseGivesUpOwnership) {
  auto [a, b] = two_fds();
  int kept;
  {
    UniqueFd fd(a);
    kept = fd.release();
    EXPECT_EQ(fd.get(), -1);
  }
  EXPECT_EQ(kept, a);
  EXPECT_TRUE(is_open(a));
  ::close(a);
  ::close(b);
}

TEST(UniqueFd, ResetClosesTheOldAndTakesTheNew) {
  auto [a, b] = two_fds();
  UniqueFd fd(a);
  fd.reset(b);
  EXPECT_FALSE(is_open(a));
  EXPECT_EQ(fd.get(), b);
  fd.reset();
  EXPECT_FALSE(is_open(b));
  EXPECT_FALSE(fd);
}

}  // namespace
}  // namespace cairn::util
