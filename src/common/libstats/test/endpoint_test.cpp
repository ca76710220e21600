// parse_endpoint: the accepted forms and what is said about the refused ones.
#include "libstats/endpoint.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace cairn::stats {
namespace {

TEST(EndpointTest, AcceptsHostPortAndBracketedIpv6) {
  auto a = parse_endpoint("127.0.0.1:8125");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8125);
  auto b = parse_endpoint("[::1]:65535");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 65535);
  auto c = parse_endpoint("statsd.example.org:1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "statsd.example.org");
  EXPECT_EQ(c->port, 1);
}

TEST(EndpointTest, SaysWhatIsWrong) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c :
       {Case{"localhost", "port is missing"}, Case{":x", "host is missing"},
        Case{"host:99999", "between 1 and 65535"}, Case{"host:0", "between 1 and 65535"},
        Case{"host:123456789012", "between 1 and 65535"}, Case{"host:8a", "not a number"},
        Case{"host:", "port is missing"}, Case{"::1:8125", "in brackets"},
        Case{"[::1", "no closing"}, Case{"[::1]", "expected ':PORT'"},
        Case{"[]:1", "host is missing"}}) {
    auto ep = parse_endpoint(c.text);
    ASSERT_FALSE(ep.ok()) << c.text;
    EXPECT_EQ(ep.error().errnum, EINVAL) << c.text;
    EXPECT_NE(ep.error().text.find(c.why), std::string::npos) << c.text << ": " << ep.error().text;
  }
}

}  // namespace
}  // namespace cairn::stats
