// Tests of the jobtap plugin host and C API: loading and its failures, conf, glob matching,
// argument access (ENOENT for an absent prev_state), load order, remove.
#include "modules/job-manager/jobtap.hpp"

#include <config.h>
#include <fnmatch.h>
#include <gtest/gtest.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

using cairn::job_manager::Conf;
using cairn::job_manager::PluginHost;

namespace {

const std::string kDir = TEST_PLUGIN_DIR;

struct Logged {
  int level;
  std::string text;
};

class JobtapTest : public ::testing::Test {
 protected:
  PluginHost host_{nullptr,
                   [this](int level, const std::string& text) {
                     log_.push_back({level, text});
                   },
                   {kDir}};
  std::vector<Logged> log_;

  std::vector<std::string> lines_containing(const std::string& needle) const {
    std::vector<std::string> out;
    for (const auto& l : log_)
      if (l.text.find(needle) != std::string::npos) out.push_back(l.text);
    return out;
  }
};

cairn_plugin_args sample_args(bool with_prev) {
  cairn_plugin_args a;
  a.set_int("id", 7);
  a.set_int("state", CAIRN_JOB_RUN);
  if (with_prev) a.set_int("prev_state", CAIRN_JOB_SCHED);
  a.set_int("userid", 1000);
  a.set_double("t_submit", 1700000000.5);
  a.set_string("command", "echo hi");
  return a;
}

TEST(JobtapStateNames, StatetostrGivesLongAndSingleCharNames) {
  EXPECT_STREQ(cairn_job_statetostr(CAIRN_JOB_NEW, false), "NEW");
  EXPECT_STREQ(cairn_job_statetostr(CAIRN_JOB_DEPEND, false), "DEPEND");
  EXPECT_STREQ(cairn_job_statetostr(CAIRN_JOB_PRIORITY, false), "PRIORITY");
  EXPECT_STREQ(cairn_job_statetostr(CAIRN_JOB_SCHED, false), "SCHED");
  EXPECT_STREQ(cairn_job_statetostr(CAIRN_JOB_RUN, false), "RUN");
  EXPECT_STREQ(cairn_job_statetostr(CAIRN_JOB_CLEANUP, false), "CLEANUP");
  EXPECT_STREQ(cairn_job_statetostr(CAIRN_JOB_INACTIVE, false), "INACTIVE");
  EXPECT_STREQ(cairn_job_statetostr(CAIRN_JOB_RUN, true), "R");
  EXPECT_STREQ(cairn_job_statetostr(CAIRN_JOB_INACTIVE, true), "I");
}

TEST(JobtapStateNames, UnknownStateGivesQuestionMarkNeverNull) {
  for (int64_t v : {0L, 3L, 17L, 128L, -1L}) {
    ASSERT_NE(cairn_job_statetostr(v, false), nullptr);
    EXPECT_STREQ(cairn_job_statetostr(v, false), "?");
    EXPECT_STREQ(cairn_job_statetostr(v, true), "?");
  }
}

TEST(JobtapArgs, IntDoubleStringAccessAndErrors) {
  auto a = sample_args(false);
  int64_t i = 0;
  double d = 0;
  const char* s = nullptr;
  EXPECT_EQ(cairn_plugin_arg_int(&a, "id", &i), 0);
  EXPECT_EQ(i, 7);
  EXPECT_EQ(cairn_plugin_arg_double(&a, "t_submit", &d), 0);
  EXPECT_DOUBLE_EQ(d, 1700000000.5);
  EXPECT_EQ(cairn_plugin_arg_double(&a, "state", &d), 0);  // an int reads as a double
  EXPECT_DOUBLE_EQ(d, CAIRN_JOB_RUN);
  EXPECT_EQ(cairn_plugin_arg_string(&a, "command", &s), 0);
  EXPECT_STREQ(s, "echo hi");

  errno = 0;
  EXPECT_EQ(cairn_plugin_arg_int(&a, "prev_state", &i), -1);
  EXPECT_EQ(errno, ENOENT);
  errno = 0;
  EXPECT_EQ(cairn_plugin_arg_int(&a, "command", &i), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(cairn_plugin_arg_string(&a, "id", &s), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(cairn_plugin_arg_int(nullptr, "id", &i), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(cairn_plugin_arg_int(&a, nullptr, &i), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST(JobtapNull, CallsWithNullPluginAreSafe) {
  EXPECT_EQ(cairn_plugin_add_handler(nullptr, "*", nullptr, nullptr), -1);
  EXPECT_EQ(cairn_plugin_aux_get(nullptr, "x"), nullptr);
  EXPECT_EQ(cairn_plugin_conf(nullptr, "x"), nullptr);
  EXPECT_EQ(cairn_plugin_stats(nullptr), nullptr);
  cairn_plugin_log(nullptr, LOG_ERR, "nothing");
}

TEST(JobtapGlob, HandlerPatternsMatchAsFnmatch) {
  EXPECT_EQ(fnmatch("job.state.*", "job.state.run", 0), 0);
  EXPECT_NE(fnmatch("job.state.*", "job.new", 0), 0);
  EXPECT_EQ(fnmatch("job.*", "job.state.run", 0), 0);
  EXPECT_EQ(fnmatch("job.state.[rc]*", "job.state.cleanup", 0), 0);
  EXPECT_NE(fnmatch("job.state.[rc]*", "job.state.sched", 0), 0);
}

TEST(JobtapName, PluginIsNamedByFileNameWithoutSo) {
  EXPECT_EQ(PluginHost::name_of("/a/b/job-stats.so"), "job-stats");
  EXPECT_EQ(PluginHost::name_of("x.so"), "x");
  EXPECT_EQ(PluginHost::name_of("/a/noext"), "noext");
}

TEST_F(JobtapTest, LoadsByPathAndByBareNameAndLists) {
  ASSERT_TRUE(host_.load(kDir + "/probe.so", {{"glob", "job.new"}}).ok());
  auto list = host_.list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].name, "probe");
  EXPECT_EQ(list[0].conf.at("glob"), "job.new");
  EXPECT_EQ(list[0].handlers, 1u);

  auto again = host_.load("probe");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().errnum, EEXIST);

  ASSERT_TRUE(host_.remove("probe").ok());
  EXPECT_EQ(host_.size(), 0u);
  ASSERT_TRUE(host_.load("probe").ok());
  EXPECT_EQ(host_.list().at(0).path, kDir + "/probe.so");
}

TEST_F(JobtapTest, SettingsInitNeverAskedForAreListedAndLoggedButThePluginLoads) {
  ASSERT_TRUE(host_.load("probe", {{"glob", "job.new"}, {"colour", "blue"}, {"glbo", "x"}}).ok());
  auto list = host_.list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].unused_conf, (std::vector<std::string>{"colour", "glbo"}));
  EXPECT_EQ(list[0].handlers, 1u);
  auto warnings = lines_containing("was not used by the plugin");
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0], "jobtap: probe: setting 'colour' was not used by the plugin (a typo?)");
  EXPECT_EQ(warnings[1], "jobtap: probe: setting 'glbo' was not used by the plugin (a typo?)");
  for (const auto& l : log_)
    if (l.text.find("was not used") != std::string::npos) EXPECT_EQ(l.level, LOG_WARNING);
}

TEST_F(JobtapTest, SettingsReadInInitAreNotReported) {
  ASSERT_TRUE(host_.load("probe", {{"glob", "job.new"}, {"cbfail", "job.new"}}).ok());
  EXPECT_TRUE(host_.list().at(0).unused_conf.empty());
  EXPECT_TRUE(lines_containing("was not used").empty());
}

TEST_F(JobtapTest, MissingFileFailsWithEnoentAndWhereItLooked) {
  auto err = host_.load("no-such-plugin");
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().errnum, ENOENT);
  EXPECT_NE(err.error().text.find(kDir), std::string::npos) << err.error().text;
  err = host_.load("/nonexistent/dir/p.so");
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().errnum, ENOENT);
  EXPECT_EQ(host_.size(), 0u);
}

TEST_F(JobtapTest, DlopenFailureReportsDlerror) {
  auto err = host_.load(kDir + "/unresolved.so");
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().errnum, EINVAL);
  EXPECT_NE(err.error().text.find("cairn_symbol_nobody_defines"), std::string::npos)
      << err.error().text;
  EXPECT_EQ(host_.size(), 0u);
}

TEST_F(JobtapTest, SharedObjectWithoutInitIsRefused) {
  auto err = host_.load(kDir + "/no-init.so");
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().errnum, EINVAL);
  EXPECT_NE(err.error().text.find("cairn_plugin_init"), std::string::npos) << err.error().text;
  EXPECT_EQ(host_.size(), 0u);
}

TEST_F(JobtapTest, FailingInitIsNotLoadedAndGivesThePluginsReason) {
  auto err = host_.load("probe", {{"fail", "1"}});
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().errnum, ECANCELED);
  EXPECT_NE(err.error().text.find("refusing to load: fail=1 was given"), std::string::npos)
      << err.error().text;
  EXPECT_EQ(host_.size(), 0u);
}

TEST_F(JobtapTest, ArgsReachTheCallbackAndPrevStateIsEnoentOnFirstTransition) {
  ASSERT_TRUE(host_.load("probe").ok());
  auto first = sample_args(false);
  host_.call("job.state.new", &first);
  auto later = sample_args(true);
  host_.call("job.state.run", &later);
  auto lines = lines_containing("jobtap: probe: job.state.");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("id=7 state=RUN prev=ENOENT userid=1000 t_submit=set "
                          "command=echo hi aux=hello"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find("prev=SCHED"), std::string::npos) << lines[1];
}

TEST_F(JobtapTest, OnlyMatchingTopicsAreDelivered) {
  ASSERT_TRUE(host_.load("probe", {{"glob", "job.state.*"}}).ok());
  auto a = sample_args(true);
  host_.call("job.new", &a);
  host_.call("job.validate", &a);
  host_.call("job.state.sched", &a);
  host_.call("job.destroy", &a);
  auto lines = lines_containing("jobtap: probe: job.");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("job.state.sched"), std::string::npos);
}

TEST_F(JobtapTest, FailingCallbackIsLoggedAndLaterHandlersStillRun) {
  // Two copies of one plugin under different names, to see the call order.
  ASSERT_TRUE(host_.load("probe", {{"cbfail", "job.new"}}).ok());
  // A second instance needs another file name: use a symlink in a temp dir.
  char dir[] = "/tmp/jobtap-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string link = std::string(dir) + "/second.so";
  ASSERT_EQ(symlink((kDir + "/probe.so").c_str(), link.c_str()), 0);
  auto err = host_.load(link);
  unlink(link.c_str());
  rmdir(dir);
  ASSERT_TRUE(err.ok()) << err.error().text;

  auto a = sample_args(true);
  host_.call("job.new", &a);
  std::vector<std::string> order;
  for (const auto& l : log_) {
    if (l.text.find("job.new") != std::string::npos) order.push_back(l.text);
  }
  ASSERT_EQ(order.size(), 3u);
  EXPECT_NE(order[0].find("jobtap: probe: job.new id=7"), std::string::npos) << order[0];
  EXPECT_NE(order[1].find("jobtap: probe: job.new callback failed"), std::string::npos) << order[1];
  EXPECT_NE(order[2].find("jobtap: second: job.new id=7"), std::string::npos) << order[2];
}

TEST_F(JobtapTest, RemoveUnknownIsEnoentAndAllRemovesEverything) {
  auto err = host_.remove("nope");
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().errnum, ENOENT);
  ASSERT_TRUE(host_.load("probe").ok());
  auto removed = host_.remove("all");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1u);
  EXPECT_EQ(host_.size(), 0u);
  removed = host_.remove("all");  // nothing loaded: not an error
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0u);
}

TEST_F(JobtapTest, RemoveAcceptsNameWithSoSuffix) {
  ASSERT_TRUE(host_.load("probe.so").ok());
  ASSERT_TRUE(host_.remove("probe.so").ok());
  EXPECT_EQ(host_.size(), 0u);
}

TEST(JobtapSearchPath, EnvironmentComesBeforePlugindir) {
  setenv("CAIRN_PLUGIN_PATH", "/one::/two", 1);
  auto dirs = PluginHost::default_search_path();
  unsetenv("CAIRN_PLUGIN_PATH");
  ASSERT_GE(dirs.size(), 2u);
  EXPECT_EQ(dirs[0], "/one");
  EXPECT_EQ(dirs[1], "/two");
  EXPECT_EQ(dirs.back(), PLUGINDIR);
}

}  // namespace
