// UdpSink: receives each datagram sent to its endpoint, whole and in order, and gives up on
// waiting when told.
#include "libtest/udp_sink.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "libtest/loopback.hpp"
#include "libutil/fd.hpp"

namespace cairn::test {
namespace {

void send_to(int port, const std::string& datagram) {
  util::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd);
  sockaddr_in to = loopback_addr(port);
  ASSERT_EQ(::sendto(fd.get(), datagram.data(), datagram.size(), 0,
                     reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(datagram.size()));
}

TEST(UdpSink, ReceivesDatagramsWholeAndInOrder) {
  UdpSink sink;
  EXPECT_GT(sink.port(), 0);
  EXPECT_EQ(sink.endpoint(), "127.0.0.1:" + std::to_string(sink.port()));
  send_to(sink.port(), "a:1|c\nb:2|c\n");
  send_to(sink.port(), "c:3|g\n");
  EXPECT_EQ(sink.drain(2000), (std::vector<std::string>{"a:1|c\nb:2|c\n", "c:3|g\n"}));
}

TEST(UdpSink, RecvGivesUpWhenNothingCame) {
  UdpSink sink;
  EXPECT_FALSE(sink.recv(10).has_value());
  EXPECT_TRUE(sink.drain().empty());
}

}  // namespace
}  // namespace cairn::test
