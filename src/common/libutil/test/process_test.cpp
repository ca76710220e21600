// spawn(), spawn_captured(), read_capped() and the wait-status helpers: a child starts with
// default signals and none blocked whatever the parent has set, gets the environment and
// descriptors it is given, and its exit reads as a shell reports it.
#include "libutil/process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace cairn::util {
namespace {

int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      ADD_FAILURE() << "waitpid: " << std::strerror(errno);
      return -1;
    }
  }
  return status;
}

// Everything the stream `fd` gives until it ends (waiting up to 10 s for each part).
std::string read_to_end(int fd) {
  std::string data;
  uint64_t dropped = 0;
  for (;;) {
    if (read_capped(fd, data, 1 << 20, dropped, -1)) return data;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0) {
      ADD_FAILURE() << "the stream did not end within 10 s";
      return data;
    }
  }
}

struct Finished {
  int status;
  std::string out;
  std::string err;
};

Finished run_captured(const std::vector<std::string>& argv, SpawnOptions opts = {}) {
  Result<CapturedChild> child = spawn_captured(argv, std::move(opts));
  if (!child) {
    ADD_FAILURE() << child.error().text;
    return {-1, {}, {}};
  }
  Finished f;
  f.out = read_to_end(child->out.get());
  f.err = read_to_end(child->err.get());
  f.status = wait_for(child->pid);
  return f;
}

// The parent blocks and ignores signals for the length of a test, as a libev loop and the
// broker do; the destructor puts everything back.
class ParentSignals {
 public:
  ParentSignals() {
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old_mask_);
    old_int_ = signal(SIGINT, SIG_IGN);
    old_pipe_ = signal(SIGPIPE, SIG_IGN);
    old_usr2_ = signal(SIGUSR2, SIG_IGN);
  }
  ~ParentSignals() {
    signal(SIGINT, old_int_);
    signal(SIGPIPE, old_pipe_);
    signal(SIGUSR2, old_usr2_);
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  }

 private:
  sigset_t old_mask_;
  sighandler_t old_int_, old_pipe_, old_usr2_;
};

// The signals in the mask of the "SigBlk:" or "SigIgn:" line of a /proc/PID/status text,
// leaving out those between 31 and SIGRTMIN: glibc keeps them for itself (no program can
// use them), and its posix_spawn leaves them ignored in the child.
std::vector<int> signals_in(const std::string& status, const std::string& key) {
  size_t at = status.find("\n" + key);
  if (at == std::string::npos) return {-1};
  unsigned long long mask = std::stoull(status.substr(at + 1 + key.size()), nullptr, 16);
  std::vector<int> sigs;
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig > 31 && sig < SIGRTMIN) continue;
    if (mask & (1ULL << (sig - 1))) sigs.push_back(sig);
  }
  return sigs;
}

TEST(Spawn, ChildStartsWithNoSignalBlockedOrIgnored) {
  ParentSignals parent;
  Finished f = run_captured({"cat", "/proc/self/status"});
  ASSERT_EQ(exit_code(f.status), 0) << f.err;
  EXPECT_EQ(signals_in(f.out, "SigBlk:"), std::vector<int>{});
  EXPECT_EQ(signals_in(f.out, "SigIgn:"), std::vector<int>{});
}

TEST(Spawn, SignalBlockedInTheParentArrivesAtItsDefaultInTheChild) {
  ParentSignals parent;  // SIGTERM blocked, SIGUSR2 ignored
  for (int sig : {SIGTERM, SIGUSR2}) {
    Finished f = run_captured({"/bin/sh", "-c", "kill -" + std::to_string(sig) + " $$; exit 0"});
    ASSERT_TRUE(WIFSIGNALED(f.status))
        << "signal " << sig << ": " << describe_wait_status(f.status);
    EXPECT_EQ(WTERMSIG(f.status), sig);
  }
}

TEST(Spawn, MissingProgramFailsWithEnoentAndNamesIt) {
  Result<pid_t> pid = spawn({"cairn-no-such-program-here"});
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.error().errnum, ENOENT);
  EXPECT_EQ(pid.error().text, "cannot run cairn-no-such-program-here: No such file or directory");
}

TEST(Spawn, EmptyCommandIsEinval) {
  Result<pid_t> pid = spawn({});
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.error().errnum, EINVAL);
}

TEST(Spawn, ExtraEnvironmentReplacesAVariableOfTheSameName) {
  ASSERT_EQ(setenv("CAIRN_PROCESS_TEST", "parent", 1), 0);
  SpawnOptions opts;
  opts.env = {"CAIRN_PROCESS_TEST=child", "CAIRN_PROCESS_TEST_NEW=1"};
  Finished f = run_captured({"/bin/sh", "-c",
                             "env | grep -c '^CAIRN_PROCESS_TEST='; echo $CAIRN_PROCESS_TEST; "
                             "echo $CAIRN_PROCESS_TEST_NEW; echo ${HOME+home is kept}"},
                            opts);
  unsetenv("CAIRN_PROCESS_TEST");
  EXPECT_EQ(f.out, "1\nchild\n1\n" + std::string(getenv("HOME") ? "home is kept\n" : "\n"));
}

TEST(Spawn, CapturesStdoutAndStderrApartWithStdinEmpty) {
  Finished f = run_captured({"/bin/sh", "-c", "echo out; echo err >&2; cat; exit 3"});
  EXPECT_EQ(f.out, "out\n");
  EXPECT_EQ(f.err, "err\n");
  EXPECT_EQ(exit_code(f.status), 3);
}

TEST(Spawn, RedirectGivesTheChildAParentDescriptor) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  SpawnOptions opts;
  opts.redirects = {{1, write_end.get()}};
  Result<pid_t> pid = spawn({"/bin/sh", "-c", "echo through"}, opts);
  ASSERT_TRUE(pid.ok()) << pid.error().text;
  write_end.reset();
  EXPECT_EQ(exit_code(wait_for(*pid)), 0);
  char buf[64];
  ssize_t n = read(read_end.get(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "through\n");
}

TEST(Spawn, NewProcessGroupIsLedByTheChild) {
  SpawnOptions opts;
  opts.new_process_group = true;
  // /proc/self/stat: "PID (COMM) STATE PPID PGRP ..."
  Finished f = run_captured({"/bin/sh", "-c",
                             "read pid comm state ppid pgrp rest < /proc/self/stat; "
                             "test $pid = $pgrp && echo leader"},
                            opts);
  EXPECT_EQ(f.out, "leader\n");
  Finished same = run_captured({"/bin/sh", "-c",
                                "read pid comm state ppid pgrp rest < "
                                "/proc/self/stat; test $pid = $pgrp || echo member"});
  EXPECT_EQ(same.out, "member\n");
}

TEST(ReadCapped, KeepsUpToTheLimitAndCountsTheRest) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  ASSERT_EQ(write(write_end.get(), "0123456789", 10), 10);
  std::string kept;
  uint64_t dropped = 0;
  EXPECT_FALSE(read_capped(read_end.get(), kept, 4, dropped, -1));  // would block: not over
  EXPECT_EQ(kept, "0123");
  EXPECT_EQ(dropped, 6u);
  write_end.reset();
  EXPECT_TRUE(read_capped(read_end.get(), kept, 4, dropped, -1));  // end-of-file
}

TEST(ReadCapped, StopsAfterMaxReads) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  ASSERT_EQ(write(write_end.get(), "x", 1), 1);
  write_end.reset();
  std::string kept;
  uint64_t dropped = 0;
  EXPECT_FALSE(read_capped(read_end.get(), kept, 100, dropped, 1));  // one read: the byte
  EXPECT_EQ(kept, "x");
  EXPECT_TRUE(read_capped(read_end.get(), kept, 100, dropped, 1));  // the next: end-of-file
}

TEST(WaitStatus, ExitCodeIsWhatAShellReports) {
  Result<pid_t> three = spawn({"/bin/sh", "-c", "exit 3"});
  ASSERT_TRUE(three.ok());
  int status = wait_for(*three);
  EXPECT_EQ(exit_code(status), 3);
  EXPECT_EQ(describe_wait_status(status), "exited with status 3");

  Result<pid_t> killed = spawn({"/bin/sh", "-c", "kill -KILL $$"});
  ASSERT_TRUE(killed.ok());
  status = wait_for(*killed);
  EXPECT_EQ(exit_code(status), 128 + SIGKILL);
  EXPECT_EQ(describe_wait_status(status), "killed by signal 9 (SIGKILL)");
}

TEST(WaitStatus, AStoppedChildIsNotASuccess) {
  EXPECT_EQ(exit_code(0x137f), 1);  // WIFSTOPPED by SIGSTOP
  EXPECT_EQ(describe_wait_status(0x137f), "ended with wait status 4991");
}

TEST(ShellQuote, QuotesEveryShellCharacterSoThePrintedWordPastesBack) {
  EXPECT_EQ(shell_quote("a<b$c(d"), "'a<b$c(d'");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  // What sh makes of the quoted word is the word itself.
  const std::string word = "x<$(y)'`z\\ \"!";
  std::vector<std::string> argv = {"/bin/sh", "-c", "printf %s " + shell_quote(word)};
  Finished f = run_captured(argv);
  EXPECT_EQ(f.status, 0) << f.err;
  EXPECT_EQ(f.out, word);
}

}  // namespace
}  // namespace cairn::util
