// cairn::test::run_until: runs a reactor loop until a condition holds, for tests of code that
// answers through the loop. The limit is a hang guard, not a timing: reaching it fails the test.
#pragma once

#include <gtest/gtest.h>

#include "libreactor/reactor.hpp"

namespace cairn::test {

// Runs `loop` until pred() holds; false, and a test failure, after `limit` seconds.
template <typename Pred>
bool run_until(reactor::Loop& loop, Pred pred, double limit = 10.0) {
  bool expired = false;
  reactor::Timer guard(loop, limit, 0, [&](reactor::Timer&) { expired = true; });
  guard.start();
  while (!pred() && !expired) loop.run_once(true);
  EXPECT_FALSE(expired) << "condition not reached within " << limit << " s";
  return !expired;
}

}  // namespace cairn::test
