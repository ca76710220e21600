// Child processes (see process.hpp): posix_spawn attributes and file actions, each owned by a
// small RAII type for the length of one spawn; the capture pipes; wait statuses.
#include "libutil/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

extern char** environ;

namespace cairn::util {

namespace {

// Signals at their defaults and none blocked; a process group of its own if asked.
class SpawnAttr {
 public:
  explicit SpawnAttr(bool new_process_group) {
    posix_spawnattr_init(&attr_);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);          // glibc leaves out the signals it keeps for itself
    sigdelset(&all, SIGKILL);  // cannot be caught or ignored: nothing to reset
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigmask(&attr_, &none);
    posix_spawnattr_setsigdefault(&attr_, &all);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (new_process_group) {
      posix_spawnattr_setpgroup(&attr_, 0);
      flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&attr_, flags);
  }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr_); }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
  const posix_spawnattr_t* get() const { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

class FileActions {
 public:
  explicit FileActions(const std::vector<Redirect>& redirects) {
    posix_spawn_file_actions_init(&actions_);
    for (const Redirect& r : redirects) {
      if (r.parent_fd == kDevNull)
        posix_spawn_file_actions_addopen(&actions_, r.child_fd, "/dev/null",
                                         r.child_fd == 0 ? O_RDONLY : O_WRONLY, 0);
      else
        posix_spawn_file_actions_adddup2(&actions_, r.parent_fd, r.child_fd);
    }
  }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  const posix_spawn_file_actions_t* get() const { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

std::string_view name_of(std::string_view entry) { return entry.substr(0, entry.find('=')); }

// The parent's environment with `add` (NAME=VALUE) in place of any variable of the same NAME.
// The pointers point into `add` and into environ.
std::vector<char*> environment_with(const std::vector<std::string>& add) {
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) {
    bool replaced = false;
    for (const std::string& a : add) replaced = replaced || name_of(*e) == name_of(a);
    if (!replaced) envp.push_back(*e);
  }
  for (const std::string& a : add) envp.push_back(const_cast<char*>(a.c_str()));
  envp.push_back(nullptr);
  return envp;
}

// A close-on-exec pipe whose read end is non-blocking; the write end stays blocking (it is
// the child's stdout or stderr).
Status make_pipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) {
    int err = errno;
    return Error{err, std::string("cannot make a pipe: ") + std::strerror(err)};
  }
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  int flags = fcntl(fds[0], F_GETFL);
  if (flags < 0 || fcntl(fds[0], F_SETFL, flags | O_NONBLOCK) < 0) {
    int err = errno;
    return Error{err, std::string("cannot make a pipe non-blocking: ") + std::strerror(err)};
  }
  return {};
}

}  // namespace

Result<pid_t> spawn(const std::vector<std::string>& argv, const SpawnOptions& opts) {
  if (argv.empty()) return Error{EINVAL, "cannot run an empty command"};
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp = opts.env.empty() ? std::vector<char*>() : environment_with(opts.env);

  SpawnAttr attr(opts.new_process_group);
  FileActions actions(opts.redirects);
  pid_t pid = -1;
  int err = posix_spawnp(&pid, args[0], actions.get(), attr.get(), args.data(),
                         envp.empty() ? environ : envp.data());
  if (err != 0) return Error{err, "cannot run " + argv[0] + ": " + std::strerror(err)};
  return pid;
}

Result<CapturedChild> spawn_captured(const std::vector<std::string>& argv, SpawnOptions opts) {
  CapturedChild child;
  UniqueFd out_write, err_write;
  if (Status s = make_pipe(child.out, out_write); !s) return s.error();
  if (Status s = make_pipe(child.err, err_write); !s) return s.error();
  opts.redirects.insert(opts.redirects.begin(),
                        {{0, kDevNull}, {1, out_write.get()}, {2, err_write.get()}});
  Result<pid_t> pid = spawn(argv, opts);
  if (!pid) return pid.error();
  child.pid = *pid;
  return child;  // the write ends close here: only the child holds them now
}

bool read_capped(int fd, std::string& into, size_t limit, uint64_t& dropped, int max_reads) {
  char buf[65536];
  while (max_reads-- != 0) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      size_t room = into.size() < limit ? limit - into.size() : 0;
      size_t keep = std::min(room, static_cast<size_t>(n));
      into.append(buf, keep);
      dropped += static_cast<size_t>(n) - keep;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    return true;  // end-of-file, or a read error: the stream is over either way
  }
  return false;
}

int exit_code(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

std::string describe_wait_status(int wait_status) {
  if (WIFEXITED(wait_status))
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    const char* name = sigabbrev_np(sig);
    return "killed by signal " + std::to_string(sig) +
           (name ? " (SIG" + std::string(name) + ")" : std::string());
  }
  return "ended with wait status " + std::to_string(wait_status);
}

std::string shell_quote(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string search_path() {
  if (const char* inherited = getenv("PATH")) return inherited;
  std::string path(confstr(_CS_PATH, nullptr, 0), '\0');
  if (!path.empty()) confstr(_CS_PATH, path.data(), path.size());
  if (!path.empty() && path.back() == '\0') path.pop_back();
  return path;
}

}  // namespace cairn::util
