// Tests of the job manager: the state machine as plugins see it, child processes and exit
// codes, output capture and truncation, blob storage, waiters and purging.
#include "modules/job-manager/job_manager.hpp"

#include <config.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "libreactor/reactor.hpp"

using namespace cairn::job_manager;
using cairn::reactor::Loop;
using cairn::reactor::Timer;

namespace {

const std::string kDir = TEST_PLUGIN_DIR;

// An in-memory blob store; `fail_with` makes stores fail, `deferred` completes them later.
struct FakeStore {
  std::map<std::string, std::string> blobs;
  int fail_with = 0;
  bool deferred = false;
  std::vector<std::pair<std::string, StoreDone>> pending;

  BlobStore fn() {
    return [this](std::string blob, StoreDone done) {
      if (deferred) {
        pending.emplace_back(std::move(blob), std::move(done));
        return;
      }
      complete(std::move(blob), done);
    };
  }
  void complete(std::string blob, const StoreDone& done) {
    if (fail_with) {
      done(cairn::util::Error{fail_with, "disk on fire"});
      return;
    }
    std::string ref = "ref-" + std::to_string(blobs.size());
    blobs[ref] = std::move(blob);
    done(ref);
  }
  void release_all() {
    auto p = std::move(pending);
    pending.clear();
    for (auto& [blob, done] : p) complete(std::move(blob), done);
  }
};

class JobManagerTest : public ::testing::Test {
 protected:
  Loop loop_;
  std::vector<std::string> log_;
  PluginHost plugins_{
      nullptr, [this](int, const std::string& text) { log_.push_back(text); }, {kDir}};
  FakeStore store_;
  std::unique_ptr<JobManager> jm_;

  void make(Options opts = {}) {
    jm_ = std::make_unique<JobManager>(loop_, plugins_, store_.fn(), opts);
  }

  // Runs the loop until `pred` holds; false after 10 s.
  template <typename Pred>
  bool run_until(Pred pred) {
    bool timed_out = false;
    Timer guard(loop_, 10.0, 0, [&](Timer&) { timed_out = true; });
    guard.start();
    while (!pred() && !timed_out) loop_.run_once(true);
    return pred();
  }

  // Submits and runs until the job is inactive.
  const Job& run(std::vector<std::string> cmd) {
    auto r = jm_->submit(std::move(cmd));
    EXPECT_TRUE(r.ok()) << r.error().text;
    uint64_t id = r.value();
    EXPECT_TRUE(run_until([&] { return jm_->find(id)->state == State::kInactive; }));
    return *jm_->find(id);
  }

  std::string blob(const Output& o) {
    if (o.blobref.empty()) return "";
    return store_.blobs.at(o.blobref);
  }
};

TEST_F(JobManagerTest, TrueGoesThroughEveryStateInOrderAsPluginsSeeIt) {
  ASSERT_TRUE(plugins_.load("probe").ok());
  make();
  const Job& job = run({"true"});
  EXPECT_EQ(job.exit_code, 0);
  std::vector<std::string> expected = {
      "job.validate id=1 state=NEW prev=ENOENT",
      "job.new id=1 state=NEW prev=ENOENT",
      "job.state.new id=1 state=NEW prev=ENOENT",
      "job.state.depend id=1 state=DEPEND prev=NEW",
      "job.state.priority id=1 state=PRIORITY prev=DEPEND",
      "job.state.sched id=1 state=SCHED prev=PRIORITY",
      "job.state.run id=1 state=RUN prev=SCHED",
      "job.state.cleanup id=1 state=CLEANUP prev=RUN",
      "job.state.inactive id=1 state=INACTIVE prev=CLEANUP",
  };
  std::vector<std::string> events;
  for (const auto& l : log_) {
    if (l.rfind("jobtap: probe: job.", 0) == 0) events.push_back(l.substr(15));
  }
  ASSERT_EQ(events.size(), expected.size());
  for (size_t i = 0; i < expected.size(); i++) {
    EXPECT_EQ(events[i].rfind(expected[i], 0), 0u) << events[i] << " vs " << expected[i];
    EXPECT_NE(events[i].find("command=true"), std::string::npos);
  }
  EXPECT_GT(job.t_submit, 0);
  EXPECT_GE(job.t_run, job.t_submit);
  EXPECT_GE(job.t_cleanup, job.t_run);
  EXPECT_GE(job.t_inactive, job.t_cleanup);
  EXPECT_EQ(job.userid, getuid());
  EXPECT_EQ(jm_->active_count(), 0u);
}

TEST_F(JobManagerTest, ExitStatusIsKept) {
  make();
  const Job& job = run({"sh", "-c", "exit 3"});
  EXPECT_EQ(job.exit_code, 3);
  EXPECT_TRUE(job.error.empty());
}

TEST_F(JobManagerTest, SignalGives128PlusSignal) {
  make();
  const Job& job = run({"sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(job.exit_code, 128 + SIGTERM);
  EXPECT_TRUE(WIFSIGNALED(job.wait_status));
}

TEST_F(JobManagerTest, MissingCommandEndsWith127AndAClearError) {
  make();
  const Job& job = run({"cairn-no-such-command-xyz", "arg"});
  EXPECT_EQ(job.exit_code, 127);
  EXPECT_EQ(job.error, "cairn-no-such-command-xyz: command not found");
  EXPECT_EQ(blob(job.err), "cairn: cairn-no-such-command-xyz: command not found\n");
  EXPECT_EQ(job.state, State::kInactive);
}

TEST_F(JobManagerTest, NonExecutableFileEndsWith126) {
  char path[] = "/tmp/jm-noexec-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "#!/bin/sh\n", 10), 10);
  close(fd);
  chmod(path, 0644);
  make();
  const Job& job = run({path});
  unlink(path);
  EXPECT_EQ(job.exit_code, 126);
  EXPECT_NE(job.error.find("permission denied"), std::string::npos) << job.error;
}

TEST_F(JobManagerTest, EmptyCommandIsRefused) {
  make();
  auto r = jm_->submit({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, EINVAL);
  EXPECT_EQ(r.error().text, "empty command");
  EXPECT_TRUE(jm_->jobs().empty());
}

TEST_F(JobManagerTest, StdoutAndStderrAreCapturedAsSeparateBlobs) {
  make();
  const Job& job = run({"sh", "-c", "echo out; echo err >&2; echo more"});
  EXPECT_EQ(blob(job.out), "out\nmore\n");
  EXPECT_EQ(blob(job.err), "err\n");
  EXPECT_TRUE(job.out.data.empty());  // given to the store, not kept twice
}

TEST_F(JobManagerTest, EmptyOutputStoresNothing) {
  make();
  const Job& job = run({"true"});
  EXPECT_EQ(job.out.blobref, "");
  EXPECT_EQ(job.err.blobref, "");
  EXPECT_TRUE(store_.blobs.empty());
}

TEST_F(JobManagerTest, OutputBeyondTheLimitIsTruncatedWithANote) {
  Options opts;
  opts.output_limit = 1000;
  make(opts);
  const Job& job = run({"sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x"});
  EXPECT_EQ(job.exit_code, 0);
  std::string out = blob(job.out);
  EXPECT_EQ(out, std::string(1000, 'x') + "\n[output truncated at 1000 bytes]\n");
  EXPECT_EQ(job.out.dropped, 300000u - 1000u);
}

TEST_F(JobManagerTest, LargeOutputUnderTheLimitIsKeptWhole) {
  make();
  const Job& job = run({"sh", "-c", "head -c 500000 /dev/zero | tr '\\0' y"});
  EXPECT_EQ(blob(job.out), std::string(500000, 'y'));
}

TEST_F(JobManagerTest, BackgroundGrandchildDoesNotHoldTheJob) {
  make();
  const Job& job = run({"sh", "-c", "sleep 30 & echo started"});
  EXPECT_EQ(blob(job.out), "started\n");
  EXPECT_EQ(job.exit_code, 0);
}

TEST_F(JobManagerTest, JobStaysInCleanupUntilItsOutputIsStored) {
  store_.deferred = true;
  make();
  auto id = jm_->submit({"echo", "hello"}).value();
  ASSERT_TRUE(run_until([&] { return !store_.pending.empty(); }));
  EXPECT_EQ(jm_->find(id)->state, State::kCleanup);
  bool answered = false;
  ASSERT_TRUE(jm_->wait(id, [&](const Job&) { answered = true; }));
  EXPECT_FALSE(answered);
  store_.release_all();
  EXPECT_TRUE(answered);
  EXPECT_EQ(jm_->find(id)->state, State::kInactive);
  EXPECT_EQ(blob(jm_->find(id)->out), "hello\n");
}

TEST_F(JobManagerTest, StoreFailureIsReportedAndTheJobStillEnds) {
  store_.fail_with = ENOSPC;
  make();
  const Job& job = run({"echo", "x"});
  EXPECT_EQ(job.exit_code, 0);
  EXPECT_EQ(job.error, "stdout not stored: disk on fire");
}

TEST_F(JobManagerTest, WaitAnswersOnceAndAtOnceForAnInactiveJob) {
  make();
  auto id = jm_->submit({"sh", "-c", "exit 5"}).value();
  int calls = 0, code = -1;
  ASSERT_TRUE(jm_->wait(id, [&](const Job& j) {
    calls++;
    code = j.exit_code;
  }));
  ASSERT_TRUE(run_until([&] { return calls > 0; }));
  EXPECT_EQ(code, 5);
  int later = 0;
  ASSERT_TRUE(jm_->wait(id, [&](const Job&) { later++; }));
  EXPECT_EQ(later, 1);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(jm_->wait(999, [](const Job&) {}));
}

TEST_F(JobManagerTest, ManyJobsRunConcurrentlyAndAllEnd) {
  make();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 20; i++)
    ids.push_back(jm_->submit({"sh", "-c", "echo " + std::to_string(i)}).value());
  ASSERT_TRUE(run_until([&] { return jm_->active_count() == 0; }));
  for (int i = 0; i < 20; i++) EXPECT_EQ(blob(jm_->find(ids[i])->out), std::to_string(i) + "\n");
  auto all = jm_->jobs();
  ASSERT_EQ(all.size(), 20u);
  EXPECT_EQ(all.front()->id, 1u);
  EXPECT_EQ(all.back()->id, 20u);
}

TEST_F(JobManagerTest, OldInactiveJobsArePurgedWithJobDestroy) {
  ASSERT_TRUE(plugins_.load("probe", {{"glob", "job.destroy"}}).ok());
  Options opts;
  opts.max_inactive = 2;
  make(opts);
  run({"true"});
  run({"true"});
  EXPECT_EQ(jm_->jobs().size(), 2u);
  run({"true"});
  EXPECT_EQ(jm_->jobs().size(), 2u);
  EXPECT_EQ(jm_->find(1), nullptr);
  ASSERT_EQ(log_.size() - 1, 1u);  // "loaded" line + one destroy
  EXPECT_NE(log_.back().find("job.destroy id=1 state=INACTIVE"), std::string::npos) << log_.back();
}

}  // namespace
