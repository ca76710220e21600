// libstats unit tests: real datagrams read from a UDP socket on 127.0.0.1 (port 0), asserting
// the exact lines a statsd server receives (DESIGN §4 wire rules).
#include <gtest/gtest.h>

#include <cerrno>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "libstats/stats.hpp"
#include "libstats/test/udp_sink.hpp"

extern "C" {
int stats_c_api_exercise(cairn_stats* s);
int stats_c_api_null_safety(void);
int stats_c_api_null_name(cairn_stats* s);
}

namespace cairn::stats {
namespace {

using testing::UdpSink;

struct Logged {
  int level;
  std::string text;
};

class StatsTest : public ::testing::Test {
 protected:
  Options options(size_t max_packet = 1440) {
    Options o;
    o.endpoint = sink_.endpoint();
    o.max_packet = max_packet;
    o.log = [this](int level, const std::string& text) { log_.push_back({level, text}); };
    return o;
  }
  // Runs the loop until the condition holds or 5 s pass.
  template <typename F>
  bool run_until(F&& done) {
    reactor::Timer guard(loop_, 5.0, 0.0, [](reactor::Timer&) {});
    guard.start();
    while (!done() && guard.active()) loop_.run_once(true);
    return done();
  }

  reactor::Loop loop_;
  UdpSink sink_;
  std::vector<Logged> log_;
};

TEST_F(StatsTest, ImmediateGaugeSetIsOneLinePerPacket) {
  Stats stats(loop_, options());
  ASSERT_TRUE(stats.enabled());
  auto ctx = stats.context("cairn.0", 0);
  EXPECT_TRUE(ctx->gauge_set("cache.size", 42));
  EXPECT_EQ(sink_.recv(), "cairn.0.cache.size:42|g\n");
  EXPECT_EQ(stats.self_counters().packets, 1u);
  EXPECT_EQ(stats.self_counters().bytes, 24u);
}

TEST_F(StatsTest, AggregatedFlushSendsAllPendingInFirstUpdateOrder) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 1.0);
  ctx->counter_add("hits", 2);
  ctx->gauge_set("size", 7);
  ctx->counter_add("hits", 3);
  ctx->timing("took", 1.5);
  ctx->timing("took", 2);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.hits:5|c\np.size:7|g\np.took:1.5|ms\np.took:2|ms\n");
}

TEST_F(StatsTest, CApiCallsEveryFunction) {
  Stats stats(loop_, options());
  auto ctx = stats.context("cairn.0", 1.0);
  ASSERT_EQ(stats_c_api_exercise(ctx->c_api()), 0);
  EXPECT_EQ(sink_.recv(), "plugin.c.7.total:10|c\n");
  EXPECT_EQ(sink_.recv(), "plugin.c.7.added:3|c\n");
  EXPECT_EQ(sink_.recv(), "plugin.c.7.level:0|g\nplugin.c.7.level:-5|g\n");
  EXPECT_EQ(sink_.recv(), "plugin.c.7.level:+2|g\n");
  EXPECT_EQ(sink_.recv(), "plugin.c.7.took:1.5|ms\n");
  EXPECT_EQ(sink_.recv(100), std::nullopt);
  EXPECT_EQ(stats_c_api_null_safety(), 0);
  EXPECT_EQ(stats_c_api_null_name(ctx->c_api()), 0);
  EXPECT_EQ(sink_.recv(100), std::nullopt);
}

}  // namespace
}  // namespace cairn::stats
