// A job of the job manager: its command, where it is in the state machine, what it produced.
// Invariants: `state` only moves forward through kStateOrder; `prev_state` is 0 until the first
// transition out of NEW; times are Unix seconds, 0 until the job reaches that point.
#pragma once

#include <cairn/jobtap.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cairn::reactor {
class Io;
class Child;
}  // namespace cairn::reactor

namespace cairn::job_manager {

enum class State : int64_t {
  kNew = CAIRN_JOB_NEW,
  kDepend = CAIRN_JOB_DEPEND,
  kPriority = CAIRN_JOB_PRIORITY,
  kSched = CAIRN_JOB_SCHED,
  kRun = CAIRN_JOB_RUN,
  kCleanup = CAIRN_JOB_CLEANUP,
  kInactive = CAIRN_JOB_INACTIVE,
};

// "RUN" / "R"; "?" for a value that is no state.
inline const char* state_name(State s, bool single_char = false) {
  return cairn_job_statetostr(static_cast<int64_t>(s), single_char);
}

// Captured standard output or error of a job, bounded to `limit` bytes.
struct Output {
  std::string data;
  uint64_t dropped = 0;  // bytes beyond the limit, read and discarded
  std::string blobref;   // set once stored ("" for an empty stream)
};

struct Job {
  uint64_t id = 0;
  std::vector<std::string> command;
  std::string command_line;  // command joined with spaces, as plugins see it
  uid_t userid = 0;
  State state = State::kNew;
  int64_t prev_state = 0;  // 0: no transition yet
  double t_submit = 0, t_run = 0, t_cleanup = 0, t_inactive = 0;

  pid_t pid = -1;
  bool exited = false;
  int wait_status = 0;  // as from waitpid(), valid once exited
  int exit_code = 0;    // WEXITSTATUS, 128+signal, or 126/127 when the command could not start
  std::string error;    // why the command could not start, or why output was not stored

  Output out, err;
};

}  // namespace cairn::job_manager
