// Tests of plugins' statistics through the real libstats: the shipped job-stats plugin's
// metrics, and each plugin's own context (prefix, period) when several are loaded.
#include <config.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libreactor/reactor.hpp"
#include "libstats/stats.hpp"
#include "libtest/udp_sink.hpp"
#include "modules/job-manager/job_manager.hpp"

using namespace cairn::job_manager;
using cairn::reactor::Loop;
using cairn::reactor::Timer;
using cairn::test::UdpSink;

namespace {

std::vector<std::string> lines_of(const std::vector<std::string>& packets) {
  std::vector<std::string> lines;
  for (const auto& p : packets) {
    size_t start = 0;
    while (start < p.size()) {
      size_t nl = p.find('\n', start);
      if (nl == std::string::npos) nl = p.size();
      if (nl > start) lines.push_back(p.substr(start, nl - start));
      start = nl + 1;
    }
  }
  return lines;
}

bool has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

bool has_prefix(const std::vector<std::string>& lines, const std::string& prefix) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
}

class PluginStatsTest : public ::testing::Test {
 protected:
  Loop loop_;
  UdpSink sink_;
  cairn::stats::Stats stats_{loop_, {sink_.endpoint(), 1440, nullptr}};
  std::vector<std::string> log_;
  PluginHost plugins_{[this] { return make_plugin_stats(stats_.context("cairn.0", 0)); },
                      [this](int, const std::string& text) { log_.push_back(text); },
                      {}};
  JobManager jm_{loop_, plugins_, [](std::string, StoreDone done) { done(std::string("ref")); }};

  // Runs `true` as a job of `jm` (default: the fixture's) until it is inactive.
  void run_true(JobManager* jm = nullptr) {
    if (!jm) jm = &jm_;
    uint64_t id = jm->submit({"true"}).value();
    bool timed_out = false;
    Timer guard(loop_, 10.0, 0, [&](Timer&) { timed_out = true; });
    guard.start();
    while (jm->find(id)->state != State::kInactive && !timed_out) loop_.run_once(true);
    ASSERT_EQ(jm->find(id)->state, State::kInactive);
  }
};

// The last value each gauge line in `lines` gave ("cairn.0.jobs.state.run" -> "1"); a delta
// (+N / -N) is kept as written, so a test can see that none was sent.
std::map<std::string, std::string> last_gauges(const std::vector<std::string>& lines) {
  std::map<std::string, std::string> last;
  for (const auto& l : lines) {
    size_t colon = l.find(':');
    if (colon == std::string::npos || l.size() < 2 || l.compare(l.size() - 2, 2, "|g") != 0)
      continue;
    last[l.substr(0, colon)] = l.substr(colon + 1, l.size() - colon - 3);
  }
  return last;
}

bool any_gauge_delta(const std::vector<std::string>& lines) {
  return std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    size_t colon = l.find(':');
    return colon != std::string::npos && colon + 1 < l.size() &&
           (l[colon + 1] == '+' || l[colon + 1] == '-') && l.find("|g") != std::string::npos;
  });
}

TEST_F(PluginStatsTest, JobStatsReportsStateGaugesCountersAndRunTime) {
  ASSERT_TRUE(plugins_.load(JOB_STATS_PLUGIN).ok());
  run_true();
  auto lines = lines_of(sink_.drain(2000));
  EXPECT_TRUE(has(lines, "cairn.0.jobs.submitted:1|c"));
  // Absolute counts: each state was entered (1) and left (0), never a +1/-1 change.
  for (const char* s : {"new", "depend", "priority", "sched", "run", "cleanup"}) {
    EXPECT_TRUE(has(lines, std::string("cairn.0.jobs.state.") + s + ":1|g")) << s;
    EXPECT_TRUE(has(lines, std::string("cairn.0.jobs.state.") + s + ":0|g")) << s;
  }
  EXPECT_FALSE(any_gauge_delta(lines));
  EXPECT_EQ(last_gauges(lines)["cairn.0.jobs.state.inactive"], "1");
  EXPECT_EQ(last_gauges(lines)["cairn.0.jobs.state.run"], "0");
  EXPECT_TRUE(has_prefix(lines, "cairn.0.jobs.run-time:"));
  EXPECT_TRUE(has(lines, "cairn.0.jobs.finished:1|c"));
}

TEST_F(PluginStatsTest, JobStatsSendsEveryStateAtLoadSoOldValuesAreReplaced) {
  ASSERT_TRUE(plugins_.load(JOB_STATS_PLUGIN).ok());
  auto last = last_gauges(lines_of(sink_.drain(2000)));
  for (const char* s : {"new", "depend", "priority", "sched", "run", "cleanup", "inactive"})
    EXPECT_EQ(last[std::string("cairn.0.jobs.state.") + s], "0") << s;
}

TEST_F(PluginStatsTest, JobStatsLoadedWhileAJobRunsCountsItAndItsDestroy) {
  std::optional<JobManager> jm;
  jm.emplace(loop_, plugins_, [](std::string, StoreDone done) { done(std::string("ref")); });
  ASSERT_TRUE(jm->submit({"sleep", "60"}).ok());
  ASSERT_TRUE(jm->load_plugin(JOB_STATS_PLUGIN).ok());
  auto lines = lines_of(sink_.drain(2000));
  auto last = last_gauges(lines);
  EXPECT_EQ(last["cairn.0.jobs.state.run"], "1");
  EXPECT_EQ(last["cairn.0.jobs.state.inactive"], "0");
  EXPECT_FALSE(any_gauge_delta(lines));
  // Replayed jobs are not submitted again: the counter is only declared (0).
  EXPECT_TRUE(has(lines, "cairn.0.jobs.submitted:0|c"));
  EXPECT_FALSE(has_prefix(lines, "cairn.0.jobs.submitted:1"));
  // The job manager goes away (the job is killed): job.destroy takes the job out of RUN.
  jm.reset();
  lines = lines_of(sink_.drain(2000));
  EXPECT_EQ(last_gauges(lines)["cairn.0.jobs.state.run"], "0");
  EXPECT_FALSE(any_gauge_delta(lines));
}

TEST_F(PluginStatsTest, JobStatsDeclaresItsCountersSoTheyAreSentAsZeroFromTheStart) {
  JobManager jm(loop_, plugins_, [](std::string, StoreDone done) { done(std::string("ref")); });
  ASSERT_TRUE(jm.load_plugin(JOB_STATS_PLUGIN).ok());
  auto lines = lines_of(sink_.drain(2000));
  EXPECT_TRUE(has(lines, "cairn.0.jobs.submitted:0|c"));
  EXPECT_TRUE(has(lines, "cairn.0.jobs.finished:0|c"));
}

TEST_F(PluginStatsTest, JobStatsForgetsPurgedJobs) {
  Options opts;
  opts.max_inactive = 1;
  JobManager jm(
      loop_, plugins_, [](std::string, StoreDone done) { done(std::string("ref")); }, opts);
  ASSERT_TRUE(jm.load_plugin(JOB_STATS_PLUGIN).ok());
  for (int i = 0; i < 3; i++) run_true(&jm);
  auto lines = lines_of(sink_.drain(2000));
  // Three jobs finished, one is kept: the gauge says 1, not 3.
  EXPECT_EQ(last_gauges(lines)["cairn.0.jobs.state.inactive"], "1");
  EXPECT_FALSE(has(lines, "cairn.0.jobs.state.inactive:3|g"));
}

TEST_F(PluginStatsTest, JobStatsSettingsAreCheckedAtLoad) {
  auto err = plugins_.load(JOB_STATS_PLUGIN, {{"period", "soon"}});
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().text.find("period=soon: not a number of seconds >= 0"), std::string::npos)
      << err.error().text;
  err = plugins_.load(JOB_STATS_PLUGIN, {{"prefix", std::string(200, 'p')}});
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().text.find("refused"), std::string::npos) << err.error().text;
  ASSERT_TRUE(plugins_.load(JOB_STATS_PLUGIN, {{"prefix", "mine"}}).ok());
  run_true();
  auto lines = lines_of(sink_.drain(2000));
  EXPECT_TRUE(has(lines, "mine.jobs.submitted:1|c"));
  EXPECT_FALSE(has_prefix(lines, "cairn.0."));
}

TEST_F(PluginStatsTest, EachPluginKeepsItsOwnPrefixAndPeriod) {
  ASSERT_TRUE(plugins_.load(STATS_PLUGIN_DIR "/stats-immediate.so").ok());
  ASSERT_TRUE(plugins_.load(STATS_PLUGIN_DIR "/stats-basic.so").ok());
  // The immediate plugin's refused long prefix left no error.
  for (const auto& l : log_) EXPECT_EQ(l.find("was not refused"), std::string::npos) << l;
  run_true();
  auto immediate = lines_of(sink_.drain(2000));
  EXPECT_TRUE(has(immediate, "cairn.job.state.immediate.RUN:+1|g"));
  EXPECT_TRUE(has(immediate, "cairn.job.state.immediate.inactive:1|c"));
  EXPECT_TRUE(has_prefix(immediate, "cairn.job.state.immediate.cleanup.timing:"));
  // The basic plugin aggregates for a second: nothing of it yet.
  EXPECT_FALSE(has_prefix(immediate, "cairn.job.state.RUN"));
  EXPECT_FALSE(has_prefix(immediate, "x"));
  // Unloading flushes the basic plugin's context.
  ASSERT_TRUE(plugins_.remove("stats-basic").ok());
  auto basic = lines_of(sink_.drain(2000));
  EXPECT_TRUE(has(basic, "cairn.job.state.RUN:1|c"));
  EXPECT_TRUE(has(basic, "cairn.job.state.inactive:1|c"));
  EXPECT_TRUE(has_prefix(basic, "cairn.job.state.run.timing:"));
}

}  // namespace
