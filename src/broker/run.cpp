// `cairn start` (see run.hpp): owns the state directory, the loop, the broker, the signal
// watchers and the initial program, and sequences shutdown:
//   signal -> SIGTERM to the initial program (if running) -> its exit -> module shutdown hooks
//   -> loop stops -> modules destroyed in reverse order -> temporary statedir removed.
#include "broker/run.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include "broker/broker.hpp"
#include "broker/config.hpp"
#include "libreactor/reactor.hpp"
#include "libutil/process.hpp"

namespace cairn::broker {

namespace {

namespace fs = std::filesystem;

// The broker's state directory, and a mode-0700 directory for its ipc:// socket.
// A temporary one (no --statedir) is removed with everything in it on destruction.
class StateDir {
 public:
  explicit StateDir(const std::optional<std::string>& given) {
    if (given) {
      std::error_code ec;
      path_ = fs::absolute(*given, ec).lexically_normal().string();
      if (ec) throw StartupError("statedir", fmt::format("{}: {}", *given, ec.message()));
      if (!fs::exists(path_)) {
        fs::create_directories(path_, ec);
        if (ec)
          throw StartupError("statedir", fmt::format("cannot create {}: {}", path_, ec.message()));
        chmod(path_.c_str(), 0700);
      } else if (!fs::is_directory(path_)) {
        throw StartupError("statedir", fmt::format("{} exists and is not a directory", path_));
      }
    } else {
      const char* tmp = getenv("TMPDIR");
      std::string templ = fmt::format("{}/cairn-XXXXXX", tmp && *tmp ? tmp : "/tmp");
      if (!mkdtemp(templ.data()))
        throw StartupError("statedir", fmt::format("cannot create a temporary directory {}: {} "
                                                   "(set TMPDIR or give --statedir)",
                                                   templ, std::strerror(errno)));
      path_ = templ;
      temporary_ = true;
    }
    socket_dir_ = private_dir(path_) ? path_ : path_ + "/run";
    if (socket_dir_ != path_) {
      if (mkdir(socket_dir_.c_str(), 0700) < 0 && errno != EEXIST)
        throw StartupError("statedir",
                           fmt::format("cannot create {}: {}", socket_dir_, std::strerror(errno)));
      if (!private_dir(socket_dir_) && chmod(socket_dir_.c_str(), 0700) < 0)
        throw StartupError("statedir", fmt::format("{} must be a directory of mode 0700 owned "
                                                   "by you: {}",
                                                   socket_dir_, std::strerror(errno)));
    }
  }
  ~StateDir() {
    if (temporary_) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;

  const std::string& path() const { return path_; }
  std::string socket_uri() const {
    std::string p = socket_dir_ + "/cairn.sock";
    if (p.size() >= sizeof(sockaddr_un{}.sun_path))
      throw StartupError("statedir", fmt::format("socket path {} is {} bytes, more than a Unix "
                                                 "socket allows ({}): use a shorter --statedir "
                                                 "or TMPDIR",
                                                 p, p.size(), sizeof(sockaddr_un{}.sun_path) - 1));
    return "ipc://" + p;
  }

 private:
  static bool private_dir(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
           (st.st_mode & 0777) == 0700;
  }
  std::string path_;
  std::string socket_dir_;
  bool temporary_ = false;
};

// The initial program: one word is a shell command line, more are a command and its arguments.
std::vector<std::string> initial_program_argv(const std::vector<std::string>& command) {
  if (command.size() == 1) return {"/bin/sh", "-c", command[0]};
  return command;
}

// SIGPIPE would kill the broker when whoever reads its stdout goes away.
struct IgnoreSigpipe {
  IgnoreSigpipe() { old = signal(SIGPIPE, SIG_IGN); }
  ~IgnoreSigpipe() { signal(SIGPIPE, old); }
  sighandler_t old;
};

}  // namespace

int run(const RunOptions& opts) {
  const char* statsd = getenv("CAIRN_STATSD");
  Config config(opts.rank, statsd ? statsd : "");
  try {
    if (opts.config_file) config.load_file(*opts.config_file);
    for (const auto& o : opts.options) config.set_option(o);
  } catch (const ConfigError& e) {
    std::cerr << "cairn: config: " << e.what() << std::endl;
    return 1;
  }
  if (opts.rank < 0) {
    std::cerr << "cairn: start: --rank " << opts.rank << ": must be 0 or more" << std::endl;
    return 1;
  }

  IgnoreSigpipe ignore_sigpipe;
  std::unique_ptr<StateDir> statedir;
  reactor::Loop loop;
  std::unique_ptr<Broker> broker;
  try {
    statedir = std::make_unique<StateDir>(opts.statedir);
    BrokerOptions bo;
    bo.listen = opts.listen.empty() ? statedir->socket_uri() : opts.listen;
    bo.statedir = statedir->path();
    bo.rank = opts.rank;
    broker = std::make_unique<Broker>(loop, config, bo);
  } catch (const ConfigError& e) {
    std::cerr << "cairn: config: " << e.what() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "cairn: " << e.what() << std::endl;
    return 1;
  }
  Log& log = broker->log();

  int status = 0;
  pid_t child = -1;
  std::unique_ptr<reactor::Child> child_watcher;
  int signals_seen = 0;

  bool finished = false;  // ev_run forgets an ev_break made before it starts
  auto stop = [&]() {
    broker->shutdown([&]() {
      finished = true;
      loop.stop();
    });
  };
  auto on_signal = [&](reactor::Signal&, int signum) {
    ++signals_seen;
    log.log(Level::kNotice, fmt::format("got {}, shutting down", strsignal(signum)));
    if (child > 0) {
      // The initial program's exit continues the shutdown; a second signal insists.
      kill(child, signals_seen > 1 ? SIGKILL : SIGTERM);
    } else {
      stop();
    }
  };
  reactor::Signal sigint(loop, SIGINT, on_signal);
  reactor::Signal sigterm(loop, SIGTERM, on_signal);
  sigint.start();
  sigterm.start();

  if (!opts.command.empty()) {
    util::SpawnOptions spawn_opts;
    spawn_opts.env = {"CAIRN_URI=" + broker->uri()};
    if (!broker->server_key().empty())
      spawn_opts.env.push_back("CAIRN_SERVER_KEY=" + broker->server_key());
    util::Result<pid_t> started = util::spawn(initial_program_argv(opts.command), spawn_opts);
    if (!started) {
      int err = started.error().errnum;
      std::cerr << "cairn: start: cannot run " << opts.command[0] << ": " << std::strerror(err)
                << std::endl;
      status = (err == ENOENT || err == ENOTDIR) ? 127 : 126;
      stop();
    } else {
      child = *started;
      child_watcher =
          std::make_unique<reactor::Child>(loop, child, [&](reactor::Child& w, pid_t, int wstatus) {
            w.stop();
            child = -1;
            status = util::exit_code(wstatus);
            log.log(Level::kInfo, fmt::format("initial program exited with status {}", status));
            stop();
          });
      child_watcher->start();
    }
  } else {
    std::cout << broker->uri() << std::endl;  // one line, flushed: scripts wait for it
    std::string hint =
        fmt::format("cairn: broker up at {}; try: CAIRN_URI={}", broker->uri(), broker->uri());
    if (!broker->server_key().empty())
      hint +=
          fmt::format(" CAIRN_SERVER_KEY={} CAIRN_CLIENT_CERT=<your cert>", broker->server_key());
    std::cerr << hint << " cairn ping" << std::endl;
  }

  if (!finished) loop.run();
  broker.reset();  // modules in reverse order, then the socket
  return status;
}

}  // namespace cairn::broker
