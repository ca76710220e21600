// Job manager: the state machine of jobs, their watchers and their output (see
// job_manager.hpp); starting the child and reading its pipes is libutil's process.hpp.
// Reactor callbacks never destroy the watcher that is calling them: watchers of a job stay in
// its Entry (stopped) until the job is purged or the manager is destroyed.
#include "modules/job-manager/job_manager.hpp"

#include <config.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "libutil/fd.hpp"
#include "libutil/process.hpp"

namespace cairn::job_manager {

namespace {

const char* state_topic(State s) {
  switch (s) {
    case State::kNew:
      return "job.state.new";
    case State::kDepend:
      return "job.state.depend";
    case State::kPriority:
      return "job.state.priority";
    case State::kSched:
      return "job.state.sched";
    case State::kRun:
      return "job.state.run";
    case State::kCleanup:
      return "job.state.cleanup";
    case State::kInactive:
      return "job.state.inactive";
  }
  return "job.state.unknown";
}

std::string with_truncation_note(const Output& o, size_t limit) {
  if (o.dropped == 0) return o.data;
  std::string blob = o.data;
  if (!blob.empty() && blob.back() != '\n') blob += '\n';
  blob += "[output truncated at " + std::to_string(limit) + " bytes]\n";
  return blob;
}

}  // namespace

struct JobManager::Entry {
  Job job;
  std::vector<Waiter> waiters;
  util::UniqueFd out_fd, err_fd;  // read ends of the job's stdout and stderr pipes
  std::unique_ptr<reactor::Io> out_io, err_io;
  std::unique_ptr<reactor::Child> child;
  int stores_pending = 0;
};

JobManager::JobManager(reactor::Loop& loop, PluginHost& plugins, BlobStore store, Options opts)
    : loop_(loop), plugins_(plugins), store_(std::move(store)), opts_(opts) {
  // A job just finished must survive its own purge (callers still look at it).
  if (opts_.max_inactive == 0) opts_.max_inactive = 1;
}

JobManager::~JobManager() {
  *alive_ = false;
  for (auto& [id, e] : jobs_) {
    if (e->job.pid > 0 && !e->job.exited) ::kill(e->job.pid, SIGKILL);
    event("job.destroy", e->job);
  }
}

void JobManager::event(const char* topic, const Job& job) {
  if (plugins_.size() == 0) return;
  cairn_plugin_args args;
  fill_args(job, args);
  plugins_.call(topic, &args);
}

util::Status JobManager::load_plugin(const std::string& path_or_name, Conf conf) {
  if (auto loaded = plugins_.load(path_or_name, std::move(conf)); !loaded) return loaded;
  for (const auto& [id, e] : jobs_) {
    cairn_plugin_args args;
    fill_args(e->job, args);
    plugins_.call_newest("job.new", &args);
  }
  return {};
}

void JobManager::fill_args(const Job& job, cairn_plugin_args& args) {
  args.set_int("id", static_cast<int64_t>(job.id));
  args.set_int("state", static_cast<int64_t>(job.state));
  if (job.prev_state != 0) args.set_int("prev_state", job.prev_state);
  args.set_int("userid", static_cast<int64_t>(job.userid));
  args.set_double("t_submit", job.t_submit);
  if (job.t_run > 0) args.set_double("t_run", job.t_run);
  if (job.t_cleanup > 0) args.set_double("t_cleanup", job.t_cleanup);
  if (job.t_inactive > 0) args.set_double("t_inactive", job.t_inactive);
  if (job.exited) {
    args.set_int("status", job.wait_status);
    args.set_int("exit_code", job.exit_code);
  }
  args.set_string("command", job.command_line.c_str());
}

void JobManager::transition(Entry& e, State next) {
  Job& job = e.job;
  job.prev_state = static_cast<int64_t>(job.state);
  job.state = next;
  // The loop's clock: every transition of one loop iteration gets the same time.
  if (next == State::kRun) job.t_run = loop_.now();
  if (next == State::kCleanup) job.t_cleanup = loop_.now();
  if (next == State::kInactive) job.t_inactive = loop_.now();
  event(state_topic(next), job);
}

util::Result<uint64_t> JobManager::submit(std::vector<std::string> command) {
  if (command.empty() || command[0].empty()) return util::Error{EINVAL, "empty command"};
  auto owned = std::make_unique<Entry>();
  Entry& e = *owned;
  Job& job = e.job;
  job.id = next_id_++;
  job.command = std::move(command);
  for (const auto& arg : job.command) {
    if (!job.command_line.empty()) job.command_line += ' ';
    job.command_line += arg;
  }
  job.userid = getuid();
  job.t_submit = loop_.now();
  uint64_t id = job.id;
  jobs_.emplace(id, std::move(owned));
  active_++;

  event("job.validate", job);
  event("job.new", job);
  event(state_topic(State::kNew), job);
  transition(e, State::kDepend);
  transition(e, State::kPriority);
  transition(e, State::kSched);
  transition(e, State::kRun);
  run(e);
  return id;
}

void JobManager::run(Entry& e) {
  Job& job = e.job;
  // stdin from /dev/null, stdout and stderr into pipes; signals at their defaults.
  util::Result<util::CapturedChild> started = util::spawn_captured(job.command);
  if (!started) {
    fail_to_start(e, started.error().errnum);
    return;
  }
  pid_t pid = started->pid;
  e.out_fd = std::move(started->out);
  e.err_fd = std::move(started->err);
  job.pid = pid;

  uint64_t id = job.id;
  e.child = std::make_unique<reactor::Child>(loop_, pid,
                                             [this, id](reactor::Child& c, pid_t, int status) {
                                               c.stop();
                                               auto it = jobs_.find(id);
                                               if (it != jobs_.end()) on_exit(*it->second, status);
                                             });
  if (!e.child->start()) {
    // Only libev's default loop watches children; a job here could never end.
    ::kill(pid, SIGKILL);
    job.exited = true;
    job.wait_status = SIGKILL;
    job.exit_code = 128 + SIGKILL;
    job.error = "the job manager's loop cannot watch child processes (not the default loop)";
    e.out_fd.reset();
    e.err_fd.reset();
    cleanup(e);
    return;
  }
  e.out_io = std::make_unique<reactor::Io>(loop_, e.out_fd.get(), reactor::kRead,
                                           [this, id](reactor::Io&, int) {
                                             auto it = jobs_.find(id);
                                             if (it != jobs_.end()) on_readable(*it->second, true);
                                           });
  e.err_io = std::make_unique<reactor::Io>(loop_, e.err_fd.get(), reactor::kRead,
                                           [this, id](reactor::Io&, int) {
                                             auto it = jobs_.find(id);
                                             if (it != jobs_.end()) on_readable(*it->second, false);
                                           });
  e.out_io->start();
  e.err_io->start();
}

void JobManager::on_readable(Entry& e, bool is_stdout) {
  util::UniqueFd& fd = is_stdout ? e.out_fd : e.err_fd;
  auto& io = is_stdout ? e.out_io : e.err_io;
  Output& o = is_stdout ? e.job.out : e.job.err;
  if (!fd) return;
  // Bounded per wake-up so a chatty job cannot starve the loop; after the child has exited
  // (no io watcher running) read until the pipe is empty.
  int max_reads = io && io->active() ? 16 : -1;
  if (util::read_capped(fd.get(), o.data, opts_.output_limit, o.dropped, max_reads)) {
    if (io) io->stop();
    fd.reset();
  }
}

void JobManager::on_exit(Entry& e, int status) {
  Job& job = e.job;
  job.exited = true;
  job.wait_status = status;
  job.exit_code = util::exit_code(status);
  // Everything the command itself wrote is in the pipes now; a background grandchild that
  // keeps them open does not hold the job in RUN.
  if (e.out_io) e.out_io->stop();
  if (e.err_io) e.err_io->stop();
  on_readable(e, true);
  on_readable(e, false);
  e.out_fd.reset();
  e.err_fd.reset();
  cleanup(e);
}

void JobManager::fail_to_start(Entry& e, int errnum) {
  Job& job = e.job;
  const std::string& cmd = job.command[0];
  job.exited = true;
  if (errnum == ENOENT) {
    job.exit_code = 127;
    job.error = cmd + ": command not found";
  } else if (errnum == EACCES) {
    job.exit_code = 126;
    job.error = cmd + ": permission denied (is it executable?)";
  } else if (errnum == ENOEXEC) {
    job.exit_code = 126;
    job.error = cmd + ": cannot execute: exec format error";
  } else {
    job.exit_code = 126;
    job.error = cmd + ": cannot start: " + std::strerror(errnum);
  }
  job.wait_status = job.exit_code << 8;
  job.err.data = "cairn: " + job.error + "\n";
  e.out_fd.reset();
  e.err_fd.reset();
  cleanup(e);
}

void JobManager::cleanup(Entry& e) {
  // The note ends the kept part of a truncated stream, wherever the output goes next.
  for (Output* o : {&e.job.out, &e.job.err}) {
    if (o->dropped > 0) o->data = with_truncation_note(*o, opts_.output_limit);
  }
  transition(e, State::kCleanup);
  store_outputs(e);
}

void JobManager::store_outputs(Entry& e) {
  Output* streams[] = {&e.job.out, &e.job.err};
  std::vector<Output*> to_store;
  for (Output* o : streams) {
    if (!o->data.empty() || o->dropped > 0) to_store.push_back(o);
  }
  if (to_store.empty() || !store_) {
    if (!to_store.empty())
      e.job.error +=
          (e.job.error.empty() ? "" : "; ") + std::string("output not stored: no content store");
    finish(e);
    return;
  }
  e.stores_pending = static_cast<int>(to_store.size());
  uint64_t id = e.job.id;
  std::weak_ptr<bool> alive = alive_;
  for (Output* o : to_store) {
    bool is_stdout = o == &e.job.out;
    store_(o->data, [this, alive, id, is_stdout](util::Result<std::string> blobref) {
      if (alive.expired()) return;
      auto it = jobs_.find(id);
      if (it == jobs_.end()) return;
      Entry& entry = *it->second;
      Output& out = is_stdout ? entry.job.out : entry.job.err;
      if (blobref) {
        out.blobref = std::move(blobref).value();
        std::string().swap(out.data);  // the content cache has it now
      } else {
        std::string what =
            std::string(is_stdout ? "stdout" : "stderr") + " not stored: " + blobref.error().text;
        entry.job.error += (entry.job.error.empty() ? "" : "; ") + what;
      }
      if (--entry.stores_pending == 0) finish(entry);
    });
  }
}

void JobManager::finish(Entry& e) {
  transition(e, State::kInactive);
  active_--;
  std::vector<Waiter> waiters;
  waiters.swap(e.waiters);
  for (auto& w : waiters) w(e.job);
  inactive_order_.push_back(e.job.id);
  purge();
}

void JobManager::purge() {
  while (inactive_order_.size() > opts_.max_inactive) {
    uint64_t id = inactive_order_.front();
    inactive_order_.pop_front();
    auto it = jobs_.find(id);
    if (it == jobs_.end()) continue;
    event("job.destroy", it->second->job);
    jobs_.erase(it);
  }
}

bool JobManager::wait(uint64_t id, Waiter fn) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return false;
  if (it->second->job.state == State::kInactive) {
    fn(it->second->job);
  } else {
    it->second->waiters.push_back(std::move(fn));
  }
  return true;
}

const Job* JobManager::find(uint64_t id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second->job;
}

std::vector<const Job*> JobManager::jobs() const {
  std::vector<const Job*> out;
  out.reserve(jobs_.size());
  for (const auto& [id, e] : jobs_) out.push_back(&e->job);
  return out;
}

}  // namespace cairn::job_manager
