// libstats unit tests: real datagrams read from a UDP socket on 127.0.0.1 (port 0), asserting
// the exact lines a statsd server receives (wire rules: cairn-stats(3)), plus the context rules
// (prefix, period, flush timer), disabled mode, endpoint errors, self counters and the C API.
#include "libstats/stats.hpp"

#include <dirent.h>
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "libtest/udp_sink.hpp"

extern "C" {
int stats_c_api_exercise(cairn_stats* s);
int stats_c_api_null_safety(void);
int stats_c_api_null_name(cairn_stats* s);
int stats_c_api_disabled(cairn_stats* s);
int stats_c_api_invalid_names(cairn_stats* s);
}

// Counts every allocation of the test binary (alloc_counter.cpp), so tests can assert that a
// path allocates nothing.
uint64_t allocations();

namespace cairn::stats {
namespace {

using test::UdpSink;

struct Logged {
  int level;
  std::string text;
};

int open_fds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d)) ++n;
    closedir(d);
  }
  return n;
}

std::string repeat_line(const std::string& line, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += line;
  return out;
}

class StatsTest : public ::testing::Test {
 protected:
  Options options(size_t max_packet = 1440) {
    Options o;
    o.endpoint = sink_.endpoint();
    o.max_packet = max_packet;
    o.log = [this](int level, const std::string& text) { log_.push_back({level, text}); };
    return o;
  }
  Options disabled_options() {
    Options o;
    o.log = [this](int level, const std::string& text) { log_.push_back({level, text}); };
    return o;
  }
  // Runs the loop until done() holds or 5 s pass; returns done().
  template <typename F>
  bool run_until(F&& done) {
    reactor::Timer guard(loop_, 5.0, 0.0, [](reactor::Timer&) {});
    guard.start();
    while (!done() && guard.active()) loop_.run_once(true);
    return done();
  }
  bool logged(int level, const std::string& a, const std::string& b) const {
    for (const auto& l : log_)
      if (l.level == level && l.text.find(a) != std::string::npos &&
          l.text.find(b) != std::string::npos)
        return true;
    return false;
  }
  // Checks that no datagram arrives (shortly).
  void expect_nothing_sent() { EXPECT_EQ(sink_.recv(50), std::nullopt); }

  reactor::Loop loop_;
  UdpSink sink_;
  std::vector<Logged> log_;
};

// --- wire format -----------------------------------------------------------------------------

TEST_F(StatsTest, ImmediateGaugeSetIsOneLinePerPacket) {
  Stats stats(loop_, options());
  ASSERT_TRUE(stats.enabled());
  auto ctx = stats.context("cairn.0", 0);
  EXPECT_TRUE(ctx->gauge_set("cache.size", 42));
  EXPECT_TRUE(ctx->gauge_set("cache.size", 43));
  EXPECT_EQ(sink_.recv(), "cairn.0.cache.size:42|g\n");
  EXPECT_EQ(sink_.recv(), "cairn.0.cache.size:43|g\n");
  EXPECT_EQ(stats.self_counters().packets, 2u);
  EXPECT_EQ(stats.self_counters().bytes, 48u);
}

TEST_F(StatsTest, AggregatedFlushSendsAllPendingInFirstUpdateOrder) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 1.0);
  ctx->counter_add("hits", 2);
  ctx->gauge_set("size", 7);
  ctx->counter_add("hits", 3);
  ctx->timing("took", 1.5);
  ctx->timing("took", 2);
  expect_nothing_sent();
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.hits:5|c\np.size:7|g\np.took:1.5|ms\np.took:2|ms\n");
  ctx->flush();  // nothing pending: nothing sent
  expect_nothing_sent();
  EXPECT_EQ(stats.self_counters().packets, 1u);
}

TEST_F(StatsTest, EmptyPrefixSendsBareName) {
  Stats stats(loop_, options());
  auto ctx = stats.context("", 0);
  ctx->counter_add("hits", 1);
  EXPECT_EQ(sink_.recv(), "hits:1|c\n");
}

TEST_F(StatsTest, NegativeGaugeIsSentAsZeroThenValueInOnePacket) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 0);
  ctx->gauge_set("temp", -5);
  EXPECT_EQ(sink_.recv(), "p.temp:0|g\np.temp:-5|g\n");
  EXPECT_TRUE(ctx->set_period(1).ok());
  ctx->gauge_set("temp", -7);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.temp:0|g\np.temp:-7|g\n");
  ctx->gauge_set("temp", std::numeric_limits<int64_t>::min());
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.temp:0|g\np.temp:-9223372036854775808|g\n");
}

TEST_F(StatsTest, NegativeGaugePairIsNeverSplitAcrossPackets) {
  // "p.a:1|g\n" is 8 bytes; the pair "p.b:0|g\np.b:-5|g\n" is 17: with 20 bytes per packet the
  // pair does not fit after the first line and must move whole to the next packet.
  Stats stats(loop_, options(20));
  auto ctx = stats.context("p", 1);
  ctx->gauge_set("a", 1);
  ctx->gauge_set("b", -5);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.a:1|g\n");
  EXPECT_EQ(sink_.recv(), "p.b:0|g\np.b:-5|g\n");
}

TEST_F(StatsTest, GaugeIncSendsSignedDeltaInImmediateMode) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 0);
  ctx->gauge_inc("q", 3);
  ctx->gauge_inc("q", -2);
  ctx->gauge_inc("q", 0);
  EXPECT_EQ(sink_.recv(), "p.q:+3|g\n");
  EXPECT_EQ(sink_.recv(), "p.q:-2|g\n");
  EXPECT_EQ(sink_.recv(), "p.q:+0|g\n");
}

TEST_F(StatsTest, AggregatedGaugeSetInPeriodSendsAbsoluteValue) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 1);
  ctx->gauge_inc("q", 100);  // before the set: superseded by it
  ctx->gauge_set("q", 10);
  ctx->gauge_inc("q", 5);
  ctx->gauge_inc("q", -20);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.q:0|g\np.q:-5|g\n");
}

TEST_F(StatsTest, AggregatedGaugeIncOnlySendsAccumulatedSignedDelta) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 1);
  ctx->gauge_set("q", 10);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.q:10|g\n");
  ctx->gauge_inc("q", 4);
  ctx->gauge_inc("q", 3);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.q:+7|g\n");
  ctx->gauge_inc("q", -4);
  ctx->gauge_inc("q", 1);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.q:-3|g\n");
}

TEST_F(StatsTest, CountSendsDeltaSinceLastFlush) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 1);
  EXPECT_TRUE(ctx->count("jobs", 10));
  EXPECT_TRUE(ctx->count("jobs", 15));
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.jobs:15|c\n");
  ctx->count("jobs", 22);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.jobs:7|c\n");
  ctx->count("jobs", 20);  // the total went down (e.g. a reset): a negative delta
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.jobs:-2|c\n");
}

TEST_F(StatsTest, CountInImmediateModeSendsDeltaAtOnce) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 0);
  ctx->count("jobs", 5);
  ctx->count("jobs", 8);
  EXPECT_EQ(sink_.recv(), "p.jobs:5|c\n");
  EXPECT_EQ(sink_.recv(), "p.jobs:3|c\n");
}

TEST_F(StatsTest, CounterAddAccumulatesAndMixesWithCount) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 1);
  ctx->counter_add("n", 2);
  ctx->counter_add("n", -5);
  ctx->count("n", 10);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.n:7|c\n");
}

TEST_F(StatsTest, CounterArithmeticWrapsInsteadOfOverflowing) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 1);
  ctx->counter_add("n", std::numeric_limits<int64_t>::max());
  ctx->counter_add("n", 1);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.n:-9223372036854775808|c\n");
}

TEST_F(StatsTest, SameNameOfDifferentTypesStaysApart) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 1);
  ctx->counter_add("x", 1);
  ctx->gauge_set("x", 2);
  ctx->timing("x", 3);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.x:1|c\np.x:2|g\np.x:3|ms\n");
}

TEST_F(StatsTest, TimerSendsEverySampleAsItsOwnLine) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 1);
  ctx->timing("t", 1);
  ctx->timing("t", 2.5);
  ctx->timing("t", 0.001);
  ctx->timing("t", 0);
  ctx->flush();
  auto got = sink_.recv();
  EXPECT_EQ(got, "p.t:1|ms\np.t:2.5|ms\np.t:0.001|ms\np.t:0|ms\n");
  EXPECT_EQ(got->find(":1:"), std::string::npos);
}

TEST_F(StatsTest, TimerValuesAreWrittenWithoutExponent) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 0);
  ctx->timing("t", 1e20);
  ctx->timing("t", 1.25e-7);
  EXPECT_EQ(sink_.recv(), "p.t:100000000000000000000|ms\n");
  EXPECT_EQ(sink_.recv(), "p.t:0.000000125|ms\n");
}

TEST_F(StatsTest, TimerValuesHaveAtMostSixSignificantDigits) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 0);
  // A job's run time as a difference of two clock readings: 15 digits of which 6 mean much.
  ctx->timing("t", (1764772800.123456 - 1764772798.901234) * 1e3);
  EXPECT_EQ(sink_.recv(), "p.t:1222.22|ms\n");
  ctx->timing("t", 1234.56789);
  EXPECT_EQ(sink_.recv(), "p.t:1234.57|ms\n");
  ctx->timing("t", 0.000123456789);
  EXPECT_EQ(sink_.recv(), "p.t:0.000123457|ms\n");
  ctx->timing("t", 123456789.4);  // whole digits past the sixth are zeros, not noise
  EXPECT_EQ(sink_.recv(), "p.t:123457000|ms\n");
  ctx->timing("t", 999999.7);  // rounding carries into a seventh place
  EXPECT_EQ(sink_.recv(), "p.t:1000000|ms\n");
  ctx->timing("t", 0.1 + 0.2);
  EXPECT_EQ(sink_.recv(), "p.t:0.3|ms\n");
  ctx->timing("t", 40);
  EXPECT_EQ(sink_.recv(), "p.t:40|ms\n");
  // The same text in aggregated mode.
  auto agg = stats.context("a", 1);
  agg->timing("t", 2.0 / 3.0);
  agg->flush();
  EXPECT_EQ(sink_.recv(), "a.t:0.666667|ms\n");
}

TEST_F(StatsTest, TimerSamplesBeyondBoundAreCountedAsDropped) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 1);
  for (int i = 0; i < 1024 + 5; ++i) ctx->timing("t", 1);
  EXPECT_EQ(stats.self_counters().dropped_samples, 5u);
  ctx->flush();
  std::string all;
  for (const auto& d : sink_.drain(2000)) all += d;
  EXPECT_EQ(all, repeat_line("p.t:1|ms\n", 1024));
  // The bound is per period: the next period keeps samples again.
  ctx->timing("t", 2);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.t:2|ms\n");
  EXPECT_EQ(stats.self_counters().dropped_samples, 5u);
}

TEST_F(StatsTest, NegativeOrNonFiniteTimingIsRefused) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 0);
  EXPECT_FALSE(ctx->timing("t", -1));
  EXPECT_FALSE(ctx->timing("t", -0.001));
  EXPECT_FALSE(ctx->timing("t", std::nan("")));
  EXPECT_FALSE(ctx->timing("t", std::numeric_limits<double>::infinity()));
  auto t = ctx->timer("t");
  EXPECT_FALSE(t.record(-3));
  EXPECT_FALSE(t.record(std::numeric_limits<double>::quiet_NaN()));
  expect_nothing_sent();
  EXPECT_TRUE(t.record(4));
  EXPECT_EQ(sink_.recv(), "p.t:4|ms\n");
}

// Names outside [A-Za-z0-9_.-]: the wire reserves some (':', '|', '@', newline), statsd servers
// rewrite or drop the others; '?' is what cairn_job_statetostr() gives for an unknown state.
const std::vector<std::string> kBadNames{
    "a:b",     "a|b", "a@b", "a\nb", "a b", "",    std::string("a\0b", 3), "?",
    "state.?", "a/b", "a#b", "a,b",  "a=b", "a*b", "caf\xc3\xa9",          "a\x7f"};

TEST_F(StatsTest, NamesOutsideThePortableSetAreRefusedAndCountedInEveryMode) {
  Stats stats(loop_, options());
  for (double period : {0.0, 1.0}) {
    SCOPED_TRACE(period);
    auto ctx = stats.context("p", period);
    uint64_t before = stats.self_counters().invalid_names;
    for (const std::string& bad : kBadNames) {
      SCOPED_TRACE(bad);
      EXPECT_FALSE(ctx->count(bad, 1));
      EXPECT_FALSE(ctx->counter_add(bad, 1));
      EXPECT_FALSE(ctx->gauge_set(bad, 1));
      EXPECT_FALSE(ctx->gauge_inc(bad, -1));
      EXPECT_FALSE(ctx->timing(bad, 1));
    }
    EXPECT_EQ(stats.self_counters().invalid_names - before, 5 * kBadNames.size());
    EXPECT_FALSE(ctx->timer_armed());  // nothing pending
    ctx->flush();
  }
  expect_nothing_sent();
  EXPECT_EQ(stats.self_counters().dropped_lines, 0u);
}

TEST_F(StatsTest, HandlesWithAnInvalidNameRefuseAndCountEveryUpdate) {
  Stats stats(loop_, options());
  for (double period : {0.0, 1.0}) {
    SCOPED_TRACE(period);
    auto ctx = stats.context("p", period);
    uint64_t before = stats.self_counters().invalid_names;
    for (const std::string& bad : kBadNames) {
      SCOPED_TRACE(bad);
      Gauge g = ctx->gauge(bad);
      Counter c = ctx->counter(bad);
      Timing t = ctx->timer(bad);
      EXPECT_EQ(stats.self_counters().invalid_names, before);  // making a handle is no update
      g.set(1);
      g.inc(-1);
      c.add(1);
      c.total(1);
      EXPECT_FALSE(t.record(1));
      EXPECT_FALSE(t.record(-1));  // a bad value is refused first, and not counted as a name
      before += 5;
      EXPECT_EQ(stats.self_counters().invalid_names, before);
    }
    EXPECT_FALSE(ctx->timer_armed());
    ctx->flush();
  }
  expect_nothing_sent();
  Gauge none;  // a default handle belongs to no context: a no-op, not a refusal
  none.set(1);
  EXPECT_EQ(stats.self_counters().invalid_names, 10 * kBadNames.size());
}

TEST_F(StatsTest, EveryCharacterOfThePortableSetIsSent) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 0);
  const std::string all = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
  EXPECT_TRUE(ctx->gauge_set(all, 1));
  EXPECT_EQ(sink_.recv(), "p." + all + ":1|g\n");
  ctx->gauge("job.state.RUN").inc(-1);
  EXPECT_EQ(sink_.recv(), "p.job.state.RUN:-1|g\n");
  EXPECT_EQ(stats.self_counters().invalid_names, 0u);
}

// The check is a table lookup per byte; a valid name costs one pass, an invalid one stops at
// the bad byte. Every byte value outside the set is refused, every one inside accepted.
TEST_F(StatsTest, NameCheckAcceptsExactlyThePortableSet) {
  Stats stats(loop_, disabled_options());
  auto ctx = stats.context("p", 0);
  for (int c = 0; c < 256; ++c) {
    std::string name = "a" + std::string(1, static_cast<char>(c)) + "b";
    bool portable = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    EXPECT_EQ(ctx->gauge_set(name, 1), portable) << c;
    EXPECT_EQ(ctx->set_prefix(name).ok(), portable) << c;
  }
  EXPECT_EQ(stats.self_counters().invalid_names, 256u - 65u);
}

// --- packets ---------------------------------------------------------------------------------

TEST_F(StatsTest, FlushSplitsPacketsOnLineBoundaries) {
  const size_t max = 64;
  Stats stats(loop_, options(max));
  auto ctx = stats.context("prefix", 1);
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    std::string name = "metric" + std::to_string(i);
    ctx->gauge_set(name, i * 1000);
    expected += "prefix." + name + ":" + std::to_string(i * 1000) + "|g\n";
  }
  ctx->flush();
  auto packets = sink_.drain(2000);
  ASSERT_GT(packets.size(), 1u);
  std::string all;
  for (const auto& p : packets) {
    EXPECT_LE(p.size(), max);
    EXPECT_EQ(p.back(), '\n');
    all += p;
  }
  EXPECT_EQ(all, expected);
  EXPECT_EQ(stats.self_counters().packets, packets.size());
  EXPECT_EQ(stats.self_counters().bytes, expected.size());
}

// The packets a flush must send: `units` (a line, or the two lines of a negative gauge) packed
// greedily in order, each packet at most `max` bytes; a unit longer than `max` is dropped.
std::vector<std::string> reference_packets(const std::vector<std::string>& units, size_t max) {
  std::vector<std::string> packets;
  std::string packet;
  for (const auto& unit : units) {
    if (unit.size() > max) continue;
    if (packet.size() + unit.size() > max) packets.push_back(std::exchange(packet, ""));
    packet += unit;
  }
  if (!packet.empty()) packets.push_back(packet);
  return packets;
}

TEST_F(StatsTest, FlushSendsExactlyTheKnownLinesAtEveryPacketSize) {
  // Counters, gauges set and incremented, extreme and negative values, names short and long
  // (heads kept inside the slot and on the heap), at packet sizes around every line boundary:
  // the datagrams must be the greedy packing of the known lines, byte for byte.
  const std::string prefix = "cairn.0";
  const std::string long_name = "job-manager." + std::string(70, 'q');
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  for (size_t max : {24, 31, 40, 57, 64, 100, 129, 200, 1440}) {
    SCOPED_TRACE("max_packet " + std::to_string(max));
    Stats stats(loop_, options(max));
    auto ctx = stats.context(prefix, 1);
    std::vector<std::string> units;
    auto line = [&](const std::string& name, const std::string& value, const char* type) {
      return prefix + "." + name + ":" + value + "|" + type + "\n";
    };
    for (int i = 0; i < 60; ++i) {
      std::string name = (i % 7 == 3 ? long_name : "m") + std::to_string(i);
      int64_t v = i % 5 == 0 ? kMax - i : i % 5 == 1 ? kMin + i : (i - 30) * 123457;
      switch (i % 4) {
        case 0:
          ctx->counter_add(name, v);
          units.push_back(line(name, std::to_string(v), "c"));
          break;
        case 1:
          ctx->gauge_set(name, v);
          units.push_back(v < 0 ? line(name, "0", "g") + line(name, std::to_string(v), "g")
                                : line(name, std::to_string(v), "g"));
          break;
        case 2:
          ctx->gauge_inc(name, v);
          units.push_back(line(name, (v >= 0 ? "+" : "") + std::to_string(v), "g"));
          break;
        case 3:
          ctx->gauge_inc(name, 0);
          units.push_back(line(name, "+0", "g"));
          break;
      }
    }
    ctx->flush();
    auto expected = reference_packets(units, max);
    std::vector<std::string> got;
    while (auto p = sink_.recv(got.size() < expected.size() ? 2000 : 0)) got.push_back(*p);
    EXPECT_EQ(got, expected);
  }
}

TEST_F(StatsTest, LineHeadsFollowPrefixChangesBetweenLongAndShort) {
  Stats stats(loop_, options(65507));
  const std::string long_prefix(127, 'p');
  auto ctx = stats.context(long_prefix, 1);
  auto g = ctx->gauge("g");
  g.set(1);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), long_prefix + ".g:1|g\n");
  EXPECT_TRUE(ctx->set_prefix("s").ok());
  g.set(2);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "s.g:2|g\n");
  EXPECT_TRUE(ctx->set_prefix("").ok());
  g.set(3);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "g:3|g\n");
  EXPECT_TRUE(ctx->set_prefix(long_prefix).ok());
  g.set(4);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), long_prefix + ".g:4|g\n");
}

TEST_F(StatsTest, FlushOfManyMetricsFillsPacketsCloseToMax) {
  Stats stats(loop_, options());
  auto ctx = stats.context("cairn.0", 1);
  size_t longest = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string name = "content.gauge" + std::to_string(i);
    ctx->gauge_set(name, i);
    longest = std::max(longest, ("cairn.0." + name + ":" + std::to_string(i) + "|g\n").size());
  }
  ctx->flush();
  auto packets = sink_.drain(2000);
  ASSERT_GT(packets.size(), 2u);
  for (size_t i = 0; i + 1 < packets.size(); ++i) {
    EXPECT_LE(packets[i].size(), 1440u);
    EXPECT_GT(packets[i].size(), 1440u - longest);  // the next line did not fit
  }
}

TEST_F(StatsTest, FlushLargerThanOneSendBatchKeepsOrderAndEveryLine) {
  // 16-byte packets hold one line each here, so 300 lines span several sendmmsg() batches.
  Stats stats(loop_, options(16));
  auto ctx = stats.context("p", 1);
  for (int i = 0; i < 300; ++i) ctx->counter_add("c" + std::to_string(i), i);
  ctx->flush();
  std::vector<std::string> packets;
  while (auto p = sink_.recv(packets.size() < 300 ? 2000 : 0)) packets.push_back(*p);
  ASSERT_EQ(packets.size(), 300u);
  for (int i = 0; i < 300; ++i)
    EXPECT_EQ(packets[i], "p.c" + std::to_string(i) + ":" + std::to_string(i) + "|c\n");
  EXPECT_EQ(stats.self_counters().packets, 300u);
}

TEST_F(StatsTest, LineThatCanNeverFitIsDroppedAndCounted) {
  Stats stats(loop_, options(32));
  auto ctx = stats.context("p", 1);
  ctx->gauge_set("a", 1);
  ctx->gauge_set(std::string(40, 'x'), 1);
  ctx->gauge_set("b", 2);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.a:1|g\np.b:2|g\n");
  EXPECT_EQ(stats.self_counters().dropped_lines, 1u);
  // Immediate mode too; the pair of a negative gauge counts as two lines.
  EXPECT_TRUE(ctx->set_period(0).ok());
  ctx->gauge_set(std::string(20, 'y'), -1);
  expect_nothing_sent();
  EXPECT_EQ(stats.self_counters().dropped_lines, 3u);
}

// --- declared counters -----------------------------------------------------------------------

TEST_F(StatsTest, DeclaredCountersAreSentWithEveryFlushAsZeroWhenUnchanged) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 1);
  Counter errors = ctx->counter("errors");  // declared; only a total that does not move
  Counter hits = ctx->counter("hits");
  ctx->gauge_set("size", 1);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.size:1|g\np.errors:0|c\np.hits:0|c\n");
  hits.add(3);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.hits:3|c\np.errors:0|c\n");
  ctx->gauge_set("size", 2);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.size:2|g\np.errors:0|c\np.hits:0|c\n");
  errors.total(0);  // a total that did not move is a 0 like any other
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.errors:0|c\np.hits:0|c\n");
}

TEST_F(StatsTest, ByNameCountersAreDeclaredByTheirFirstUpdate) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 1);
  ctx->counter_add("jobs", 0);  // the C API's way to declare a counter
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.jobs:0|c\n");
  ctx->count("loads", 5);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.loads:5|c\np.jobs:0|c\n");
  ctx->gauge_set("g", 1);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.g:1|g\np.jobs:0|c\np.loads:0|c\n");
  // Gauges and timers are not repeated: a gauge keeps its value in statsd, a timer has none.
  ctx->counter_add("jobs", 1);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.jobs:1|c\np.loads:0|c\n");
}

TEST_F(StatsTest, DeclaredCountersAloneNeverArmTheTimer) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 0.01);
  Counter c = ctx->counter("c");
  EXPECT_FALSE(ctx->timer_armed());
  ctx->flush();  // nothing pending: the zeros are not sent on their own
  expect_nothing_sent();
  c.add(2);
  EXPECT_TRUE(ctx->timer_armed());
  loop_.run();  // the flush timer fires once; then nothing of ours keeps the loop running
  EXPECT_EQ(sink_.recv(), "p.c:2|c\n");
  EXPECT_FALSE(ctx->timer_armed());
  expect_nothing_sent();  // no later packet of zeros
}

TEST_F(StatsTest, ImmediateModeSendsNoZeros) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 0);
  [[maybe_unused]] Counter quiet = ctx->counter("quiet");
  ctx->counter_add("busy", 1);
  EXPECT_EQ(sink_.recv(), "p.busy:1|c\n");
  ctx->flush();
  expect_nothing_sent();
}

TEST_F(StatsTest, ContextDestructionSendsDeclaredZerosWithWhatIsPending) {
  Stats stats(loop_, options());
  {
    auto ctx = stats.context("p", 10);
    [[maybe_unused]] Counter c = ctx->counter("c");
    ctx->gauge_set("g", 1);
  }
  EXPECT_EQ(sink_.recv(), "p.g:1|g\np.c:0|c\n");
}

// --- flush timer -----------------------------------------------------------------------------

TEST_F(StatsTest, FlushTimerIsArmedOnlyWhilePending) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 0.05);
  EXPECT_FALSE(ctx->timer_armed());
  ctx->counter_add("n", 1);
  EXPECT_TRUE(ctx->timer_armed());
  ctx->counter_add("n", 1);
  EXPECT_TRUE(run_until([&] { return !ctx->timer_armed(); }));
  EXPECT_EQ(sink_.recv(), "p.n:2|c\n");
  // Idle: the timer stays off, the loop has nothing of ours to run.
  EXPECT_FALSE(ctx->timer_armed());
  // A second period works the same.
  ctx->gauge_set("g", 3);
  EXPECT_TRUE(ctx->timer_armed());
  EXPECT_TRUE(run_until([&] { return !ctx->timer_armed(); }));
  EXPECT_EQ(sink_.recv(), "p.g:3|g\np.n:0|c\n");  // the counter n is known: its 0 goes along
  // A manual flush disarms it too.
  ctx->gauge_set("g", 4);
  ctx->flush();
  EXPECT_FALSE(ctx->timer_armed());
  EXPECT_EQ(sink_.recv(), "p.g:4|g\np.n:0|c\n");
}

TEST_F(StatsTest, IdleContextLetsTheLoopExit) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 0.01);
  ctx->counter_add("n", 1);
  loop_.run();  // returns once the flush timer has fired and nothing is active any more
  EXPECT_FALSE(ctx->timer_armed());
  EXPECT_EQ(sink_.recv(), "p.n:1|c\n");
}

TEST_F(StatsTest, ImmediateModeNeverArmsTheTimer) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 0);
  ctx->counter_add("n", 1);
  ctx->gauge_set("g", 1);
  ctx->timing("t", 1);
  EXPECT_FALSE(ctx->timer_armed());
  EXPECT_EQ(sink_.drain(2000).size(), 3u);
}

TEST_F(StatsTest, SetPeriodToZeroFlushesPending) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 10);
  ctx->counter_add("n", 4);
  EXPECT_TRUE(ctx->set_period(0).ok());
  EXPECT_FALSE(ctx->timer_armed());
  EXPECT_EQ(sink_.recv(), "p.n:4|c\n");
  EXPECT_EQ(ctx->period(), 0);
}

TEST_F(StatsTest, SetPeriodReschedulesAnArmedTimer) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 100);
  ctx->counter_add("n", 1);
  EXPECT_TRUE(ctx->set_period(0.02).ok());
  EXPECT_TRUE(ctx->timer_armed());
  EXPECT_TRUE(run_until([&] { return !ctx->timer_armed(); }));
  EXPECT_EQ(sink_.recv(), "p.n:1|c\n");
}

TEST_F(StatsTest, SetPeriodRefusesNegativeAndNonFinite) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 2);
  for (double bad : {-1.0, -0.001, std::nan(""), std::numeric_limits<double>::infinity()}) {
    auto refused = ctx->set_period(bad);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().errnum, EINVAL);
    EXPECT_NE(refused.error().text.find("must be a finite number >= 0"), std::string::npos);
  }
  EXPECT_EQ(ctx->period(), 2);
}

// --- prefix ----------------------------------------------------------------------------------

TEST_F(StatsTest, PrefixLongerThan127IsRefusedAndOldKept) {
  Stats stats(loop_, options());
  auto ctx = stats.context("old", 0);
  auto refused = ctx->set_prefix(std::string(128, 'a'));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().errnum, EINVAL);
  EXPECT_EQ(ctx->prefix(), "old");
  ctx->counter_add("n", 1);
  EXPECT_EQ(sink_.recv(), "old.n:1|c\n");
  EXPECT_TRUE(ctx->set_prefix(std::string(127, 'b')).ok());
  EXPECT_EQ(ctx->prefix(), std::string(127, 'b'));
  EXPECT_EQ(refused.error().text,
            "invalid prefix \"" + std::string(40, 'a') +
                "...\": it is longer than 127 characters; at most 127 of [A-Za-z0-9_.-]");
  refused = ctx->set_prefix("bad prefix");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().text,
            "invalid prefix \"bad\\x20prefix\": it contains '\\x20', outside [A-Za-z0-9_.-]");
  EXPECT_EQ(ctx->prefix(), std::string(127, 'b'));
}

TEST_F(StatsTest, PrefixWithACharacterOutsideThePortableSetIsRefusedNamingIt) {
  Stats stats(loop_, options());
  auto ctx = stats.context("old", 0);
  auto refused = ctx->set_prefix("cairn.job.?");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().errnum, EINVAL);
  EXPECT_EQ(refused.error().text,
            "invalid prefix \"cairn.job.?\": it contains '?', outside [A-Za-z0-9_.-]");
  EXPECT_EQ(ctx->prefix(), "old");
  EXPECT_TRUE(ctx->set_prefix("").ok());  // no prefix: lines start with the name
  ctx->counter_add("n", 1);
  EXPECT_EQ(sink_.recv(), "n:1|c\n");
  auto other = stats.context("cairn/0", 0);  // given at creation: logged, replaced
  EXPECT_EQ(other->prefix(), "cairn");
  EXPECT_TRUE(logged(4, "invalid prefix \"cairn/0\"", "contains '/'"));
}

TEST_F(StatsTest, SetPrefixFlushesPendingUnderOldPrefix) {
  Stats stats(loop_, options());
  auto ctx = stats.context("old", 1);
  ctx->counter_add("n", 1);
  EXPECT_TRUE(ctx->set_prefix("new").ok());
  ctx->counter_add("n", 2);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "old.n:1|c\n");
  EXPECT_EQ(sink_.recv(), "new.n:2|c\n");
}

TEST_F(StatsTest, InvalidContextArgumentsAreLoggedAndReplaced) {
  Stats stats(loop_, options());
  auto ctx = stats.context(std::string(200, 'x'), -1);
  EXPECT_EQ(ctx->prefix(), "cairn");
  EXPECT_EQ(ctx->period(), 1.0);
  EXPECT_TRUE(logged(4, "invalid prefix \"" + std::string(40, 'x') + "...\"", "longer than 127"));
  EXPECT_TRUE(logged(4, "invalid period", "-1"));
}

// --- handles ---------------------------------------------------------------------------------

TEST_F(StatsTest, HandlesUpdateLikeByNameCalls) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 1);
  Gauge g = ctx->gauge("g");
  Counter c = ctx->counter("c");
  Timing t = ctx->timer("t");
  g.set(5);
  g.inc(2);
  c.add(3);
  c.total(10);
  EXPECT_TRUE(t.record(1.5));
  EXPECT_TRUE(t.record(2));
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.g:7|g\np.c:13|c\np.t:1.5|ms\np.t:2|ms\n");
  // Handles and by-name calls share the same slot.
  g.inc(-1);
  ctx->gauge_inc("g", -1);
  c.total(11);
  ctx->flush();
  EXPECT_EQ(sink_.recv(), "p.g:-2|g\np.c:1|c\n");
  EXPECT_TRUE(ctx->set_period(0).ok());
  g.set(-1);
  g.inc(1);
  c.add(1);
  t.record(3);
  EXPECT_EQ(sink_.recv(), "p.g:0|g\np.g:-1|g\n");
  EXPECT_EQ(sink_.recv(), "p.g:+1|g\n");
  EXPECT_EQ(sink_.recv(), "p.c:1|c\n");
  EXPECT_EQ(sink_.recv(), "p.t:3|ms\n");
}

TEST_F(StatsTest, HandleUpdatesDoNotAllocateInSteadyState) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 1);
  Gauge g = ctx->gauge("g");
  Counter c = ctx->counter("c");
  Timing t = ctx->timer("t");
  auto period = [&] {
    for (int i = 0; i < 100; ++i) {
      g.set(i);
      g.inc(1);
      c.add(1);
      c.total(i);
      t.record(i);
      ctx->gauge_set("byname", i);
      ctx->counter_add("byname", 1);
      ctx->timing("byname", i);
    }
    ctx->flush();
  };
  period();  // first period: slots and sample buffers grow
  uint64_t before = allocations();
  period();
  EXPECT_TRUE(ctx->set_period(0).ok());
  g.set(-1);
  ctx->gauge_inc("byname", 1);
  EXPECT_EQ(allocations() - before, 0u);
  EXPECT_GT(stats.self_counters().packets, 2u);
}

TEST_F(StatsTest, DefaultHandlesAreNoOps) {
  Gauge g;
  Counter c;
  Timing t;
  g.set(1);
  g.inc(1);
  c.add(1);
  c.total(1);
  EXPECT_TRUE(t.record(1));
  EXPECT_FALSE(t.record(-1));
}

// --- lifetime and sharing ------------------------------------------------------------------

TEST_F(StatsTest, ContextDestructionFlushesPending) {
  Stats stats(loop_, options());
  {
    auto ctx = stats.context("p", 100);
    ctx->counter_add("n", 9);
  }
  EXPECT_EQ(sink_.recv(), "p.n:9|c\n");
}

TEST_F(StatsTest, ContextMayOutliveStats) {
  std::unique_ptr<Context> ctx;
  {
    Stats stats(loop_, options());
    ctx = stats.context("p", 1);
  }
  ctx->counter_add("n", 1);
  ctx.reset();
  EXPECT_EQ(sink_.recv(), "p.n:1|c\n");
}

TEST_F(StatsTest, ContextsShareOneSocketAndTheSelfCounters) {
  int fds = open_fds();
  Stats stats(loop_, options());
  EXPECT_EQ(open_fds(), fds + 1);
  auto a = stats.context("a", 0);
  auto b = stats.context("b", 0);
  EXPECT_EQ(open_fds(), fds + 1);
  a->counter_add("n", 1);
  b->counter_add("n", 2);
  EXPECT_EQ(sink_.recv(), "a.n:1|c\n");
  EXPECT_EQ(sink_.recv(), "b.n:2|c\n");
  EXPECT_EQ(stats.self_counters().packets, 2u);
  EXPECT_EQ(stats.endpoint(), sink_.endpoint());
}

// --- disabled mode and endpoints -----------------------------------------------------------

TEST_F(StatsTest, DisabledModeMakesNoSocketNoTimerAndNoAllocation) {
  int fds = open_fds();
  Stats stats(loop_, disabled_options());
  EXPECT_FALSE(stats.enabled());
  EXPECT_EQ(stats.endpoint(), "");
  auto ctx = stats.context("p", 0.01);
  EXPECT_FALSE(ctx->enabled());
  EXPECT_EQ(open_fds(), fds);
  Gauge g = ctx->gauge("g");
  Counter c = ctx->counter("c");
  Timing t = ctx->timer("t");
  uint64_t before = allocations();
  EXPECT_TRUE(ctx->count("a", 1));
  EXPECT_TRUE(ctx->counter_add("b", 1));
  EXPECT_TRUE(ctx->gauge_set("c", 1));
  EXPECT_TRUE(ctx->gauge_inc("d", 1));
  EXPECT_TRUE(ctx->timing("e", 1));
  EXPECT_FALSE(ctx->gauge_set("bad name", 1));
  EXPECT_FALSE(ctx->timing("e", -1));
  g.set(1);
  g.inc(1);
  c.add(1);
  c.total(1);
  EXPECT_TRUE(t.record(1));
  EXPECT_EQ(allocations() - before, 0u);
  EXPECT_FALSE(ctx->timer_armed());
  ctx->flush();
  EXPECT_TRUE(ctx->set_period(0).ok());
  EXPECT_TRUE(ctx->set_prefix("q").ok());
  EXPECT_EQ(open_fds(), fds);
  expect_nothing_sent();
  SelfCounters sc = stats.self_counters();
  EXPECT_EQ(sc.packets + sc.bytes + sc.send_errors + sc.dropped_lines + sc.dropped_samples, 0u);
  EXPECT_EQ(sc.invalid_names, 1u);  // "bad name": refused and counted even with telemetry off
  EXPECT_TRUE(log_.empty());
  EXPECT_EQ(stats_c_api_disabled(ctx->c_api()), 0);
}

class EndpointErrorTest : public StatsTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(EndpointErrorTest, IsLoggedAsParseErrorAndLeavesTelemetryDisabled) {
  int fds = open_fds();
  Options o = disabled_options();
  o.endpoint = GetParam();
  Stats stats(loop_, o);
  EXPECT_FALSE(stats.enabled());
  EXPECT_EQ(open_fds(), fds);
  EXPECT_TRUE(logged(3, "parse error", std::string("\"") + GetParam() + "\""))
      << (log_.empty() ? "nothing logged" : log_[0].text);
  auto ctx = stats.context("p", 0);
  EXPECT_FALSE(ctx->enabled());
  EXPECT_TRUE(ctx->gauge_set("g", 1));
}

INSTANTIATE_TEST_SUITE_P(BadEndpoints, EndpointErrorTest,
                         ::testing::Values("localhost", ":x", ":8125", "host:99999", "host:0",
                                           "host:", "host:12x", "no-such-host.invalid:8125",
                                           "::1:8125", "[::1", "[::1]8125", "[]:8125"));

TEST_F(StatsTest, HostNameIsResolvedOnce) {
  Options o = options();
  o.endpoint = "localhost:" + std::to_string(sink_.port());
  Stats stats(loop_, o);
  EXPECT_TRUE(stats.enabled());
  EXPECT_TRUE(log_.empty());
}

TEST_F(StatsTest, BracketedIpv6EndpointWorks) {
  int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_addr = in6addr_loopback;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    if (fd >= 0) ::close(fd);
    GTEST_SKIP() << "no IPv6 loopback on this machine";
  }
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  Options o = options();
  o.endpoint = "[::1]:" + std::to_string(ntohs(sa.sin6_port));
  {
    Stats stats(loop_, o);
    ASSERT_TRUE(stats.enabled());
    auto ctx = stats.context("v6", 0);
    ctx->counter_add("n", 1);
  }
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  char buf[64];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  ::close(fd);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "v6.n:1|c\n");
}

TEST_F(StatsTest, ConnectionRefusedIsCountedAsSendError) {
  int port;
  {
    UdpSink closed;  // bound, then closed: nothing listens on the port any more
    port = closed.port();
  }
  Options o = options();
  o.endpoint = "127.0.0.1:" + std::to_string(port);
  Stats stats(loop_, o);
  auto ctx = stats.context("p", 0);
  // The ICMP port-unreachable of one datagram makes a later send fail with ECONNREFUSED.
  for (int i = 0; i < 200 && stats.self_counters().send_errors == 0; ++i) {
    ctx->counter_add("n", 1);
    sink_.recv(1);  // yields a little so the ICMP error can arrive
  }
  EXPECT_GE(stats.self_counters().send_errors, 1u);
  EXPECT_GE(stats.self_counters().packets, 1u);
  // Telemetry keeps working after errors.
  ctx->counter_add("n", 1);
  EXPECT_TRUE(stats.enabled());
}

TEST_F(StatsTest, SendErrorsOfABatchedFlushAreCountedPerDatagram) {
  int port;
  {
    UdpSink closed;
    port = closed.port();
  }
  Options o = options(16);  // one line per datagram: 5 datagrams per flush
  o.endpoint = "127.0.0.1:" + std::to_string(port);
  Stats stats(loop_, o);
  auto ctx = stats.context("p", 1);
  for (int round = 0; round < 200 && stats.self_counters().send_errors == 0; ++round) {
    for (int i = 0; i < 5; ++i) ctx->counter_add("c" + std::to_string(i), 1);
    ctx->flush();
    sink_.recv(1);
  }
  SelfCounters sc = stats.self_counters();
  EXPECT_GE(sc.send_errors, 1u);
  // Every datagram was either sent or counted as an error.
  EXPECT_EQ((sc.packets + sc.send_errors) % 5, 0u);
}

TEST_F(StatsTest, MaxPacketIsClampedToAUdpDatagram) {
  Stats stats(loop_, options(1 << 20));
  auto ctx = stats.context("p", 1);
  for (int i = 0; i < 10000; ++i) ctx->gauge_set("g" + std::to_string(i), i);
  ctx->flush();
  for (const auto& p : sink_.drain(2000)) EXPECT_LE(p.size(), 65507u);
  EXPECT_EQ(stats.self_counters().send_errors, 0u);
}

// --- C API -----------------------------------------------------------------------------------

TEST_F(StatsTest, CApiCallsEveryFunction) {
  Stats stats(loop_, options());
  auto ctx = stats.context("cairn.0", 1.0);
  ASSERT_EQ(stats_c_api_exercise(ctx->c_api()), 0);
  EXPECT_EQ(sink_.recv(), "plugin.c.7.total:10|c\n");
  EXPECT_EQ(sink_.recv(), "plugin.c.7.added:3|c\n");
  EXPECT_EQ(sink_.recv(), "plugin.c.7.level:0|g\nplugin.c.7.level:-5|g\n");
  EXPECT_EQ(sink_.recv(), "plugin.c.7.level:+2|g\n");
  EXPECT_EQ(sink_.recv(), "plugin.c.7.took:1.5|ms\n");
  expect_nothing_sent();
  EXPECT_EQ(ctx->prefix(), "plugin.c.7");
  EXPECT_EQ(ctx->period(), 0);
  EXPECT_EQ(stats.self_counters().invalid_names, 1u);  // "bad:name"
}

TEST_F(StatsTest, CApiRefusesAndCountsInvalidNamesAndPrefixes) {
  Stats stats(loop_, options());
  auto ctx = stats.context("cairn.0", 0);
  ASSERT_EQ(stats_c_api_invalid_names(ctx->c_api()), 0);
  EXPECT_EQ(sink_.recv(), "cairn.job.state.RUN:+1|g\n");
  expect_nothing_sent();
  EXPECT_EQ(ctx->prefix(), "cairn.job.state");
  EXPECT_EQ(stats.self_counters().invalid_names, 5u);
}

struct DlCloser {
  void operator()(void* h) const { dlclose(h); }
};

TEST_F(StatsTest, DlopenedPluginResolvesTheCApiFromTheExecutable) {
  auto dir = std::filesystem::read_symlink("/proc/self/exe").parent_path();
  std::string path = (dir / ".libs" / "stats_plugin.so").string();
  std::unique_ptr<void, DlCloser> plugin(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL));
  ASSERT_TRUE(plugin) << dlerror();
  auto run = reinterpret_cast<int (*)(cairn_stats*)>(dlsym(plugin.get(), "stats_plugin_run"));
  ASSERT_NE(run, nullptr);
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 1);
  EXPECT_EQ(run(ctx->c_api()), 0);
  EXPECT_EQ(sink_.recv(), "p.from.plugin:42|g\n");
}

TEST_F(StatsTest, CApiIsSafeWithNullContextAndNullName) {
  Stats stats(loop_, options());
  auto ctx = stats.context("p", 0);
  EXPECT_EQ(stats_c_api_null_safety(), 0);
  EXPECT_EQ(stats_c_api_null_name(ctx->c_api()), 0);
  expect_nothing_sent();
  EXPECT_EQ(ctx->prefix(), "p");
}

}  // namespace
}  // namespace cairn::stats
