// The job manager: accepts commands, moves each job through NEW → DEPEND → PRIORITY → SCHED →
// RUN → CLEANUP → INACTIVE, runs the command as a child process watched by the reactor,
// captures its stdout/stderr (bounded), stores them as blobs, and tells jobtap plugins and
// waiters about it. A plain class: needs a reactor loop (the default one, for child watchers),
// a plugin host and a blob store, not a broker.
// Invariants: a job is in `jobs_` from submit until purged; the child watcher and pipe watchers
// of a job exist only while it is in RUN; waiters are answered exactly once, when the job is
// INACTIVE (at once if it already is).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libreactor/reactor.hpp"
#include "libutil/result.hpp"
#include "modules/job-manager/job.hpp"
#include "modules/job-manager/jobtap.hpp"

namespace cairn::job_manager {

// Stores one blob; calls `done` (possibly before returning) with the blobref, or the errno
// and the reason it was not stored.
using StoreDone = std::function<void(util::Result<std::string> blobref)>;
using BlobStore = std::function<void(std::string blob, StoreDone done)>;

struct Options {
  size_t output_limit = 1 << 20;  // bytes kept per stream (stdout, stderr) of one job
  size_t max_inactive = 10000;    // inactive jobs kept for `cairn jobs` / wait; older are purged
};

class JobManager {
 public:
  using Waiter = std::function<void(const Job&)>;

  JobManager(reactor::Loop& loop, PluginHost& plugins, BlobStore store, Options opts = {});
  ~JobManager();
  JobManager(const JobManager&) = delete;
  JobManager& operator=(const JobManager&) = delete;

  // Creates a job and runs it. Returns its id, or EINVAL for an empty command. A command that
  // cannot be started still makes a job (it ends with exit code 127 or 126 and an error).
  util::Result<uint64_t> submit(std::vector<std::string> command);

  // Loads a plugin (PluginHost::load) and tells it of every job already known, active or
  // inactive and not yet purged, by calling its job.new handlers with the job's current state,
  // so that a plugin loaded into a busy broker starts from the true picture (as flux-core's
  // job manager does). Only this plugin sees these calls; no job.state.* event is repeated.
  util::Status load_plugin(const std::string& path_or_name, Conf conf = {});

  // Calls `fn` once the job is INACTIVE (now, if it is). False if no such job.
  bool wait(uint64_t id, Waiter fn);

  const Job* find(uint64_t id) const;
  // All known jobs, by id.
  std::vector<const Job*> jobs() const;
  size_t active_count() const { return active_; }

 private:
  struct Entry;  // a Job plus its watchers, pipes and waiters

  void transition(Entry& e, State next);
  void event(const char* topic, const Job& job);
  // The plugins' view of a job (cairn_plugin_arg_*): what `event` passes.
  static void fill_args(const Job& job, cairn_plugin_args& args);
  void run(Entry& e);
  void on_readable(Entry& e, bool is_stdout);
  void on_exit(Entry& e, int status);
  void fail_to_start(Entry& e, int errnum);
  void cleanup(Entry& e);
  void store_outputs(Entry& e);
  void finish(Entry& e);
  void purge();

  reactor::Loop& loop_;
  PluginHost& plugins_;
  BlobStore store_;
  Options opts_;
  uint64_t next_id_ = 1;
  size_t active_ = 0;
  std::map<uint64_t, std::unique_ptr<Entry>> jobs_;
  std::deque<uint64_t> inactive_order_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for late store callbacks
};

}  // namespace cairn::job_manager
