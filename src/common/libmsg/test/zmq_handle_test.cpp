// ZmqContext and ZmqSocket: a socket closes with linger 0 (its context then terminates at once
// even with a message that could never be delivered), and a moved-from handle owns nothing.
#include "libmsg/zmq_handle.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <utility>

namespace cairn::msg {
namespace {

// Ends the test binary if a step that must not block does (a hang guard, not a timing).
struct AlarmGuard {
  explicit AlarmGuard(unsigned seconds) { alarm(seconds); }
  ~AlarmGuard() { alarm(0); }
};

int linger_of(void* sock) {
  int linger = -2;
  size_t len = sizeof linger;
  EXPECT_EQ(zmq_getsockopt(sock, ZMQ_LINGER, &linger, &len), 0);
  return linger;
}

TEST(ZmqHandle, SocketIsMadeWithLingerZero) {
  ZmqContext ctx;
  ASSERT_TRUE(ctx);
  ZmqSocket sock(ctx, ZMQ_DEALER);
  ASSERT_TRUE(sock);
  EXPECT_EQ(linger_of(sock.get()), 0);
}

TEST(ZmqHandle, ContextTerminatesAtOnceWithAnUndeliveredMessage) {
  AlarmGuard guard(30);
  ZmqContext ctx;
  {
    ZmqSocket push(ctx, ZMQ_PUSH);
    ASSERT_EQ(zmq_connect(push.get(), "tcp://127.0.0.1:1"), 0);  // nothing listens there
    ASSERT_EQ(zmq_send(push.get(), "x", 1, ZMQ_DONTWAIT), 1);    // queued for ever
  }
  ctx = ZmqContext();  // terminates the old context: would wait for ever with linger -1
  EXPECT_TRUE(ctx);
}

TEST(ZmqHandle, MovedFromHandlesOwnNothing) {
  ZmqContext ctx;
  void* raw_ctx = ctx.get();
  ZmqContext ctx2(std::move(ctx));
  EXPECT_FALSE(ctx);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(ctx2.get(), raw_ctx);

  ZmqSocket a(ctx2, ZMQ_PAIR);
  void* raw_sock = a.get();
  ZmqSocket b;
  EXPECT_FALSE(b);
  b = std::move(a);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.get(), raw_sock);
  b.close();
  EXPECT_FALSE(b);
  b.close();  // a second close does nothing
}

TEST(ZmqHandle, MoveAssignmentClosesTheSocketItReplaces) {
  AlarmGuard guard(30);
  ZmqContext ctx;
  ZmqSocket a(ctx, ZMQ_PAIR), b(ctx, ZMQ_PAIR);
  ASSERT_EQ(zmq_bind(a.get(), "inproc://replaced"), 0);
  a = std::move(b);  // the bound socket is closed: its endpoint is free again
  ZmqSocket c(ctx, ZMQ_PAIR);
  // libzmq's reaper thread frees the endpoint of a closed socket soon after zmq_close();
  // a socket never closed would keep it for good (the alarm ends the wait).
  int rc;
  while ((rc = zmq_bind(c.get(), "inproc://replaced")) != 0 && zmq_errno() == EADDRINUSE)
    usleep(1000);
  EXPECT_EQ(rc, 0) << zmq_strerror(zmq_errno());
}

}  // namespace
}  // namespace cairn::msg
