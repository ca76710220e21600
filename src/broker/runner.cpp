// Runner (see runner.hpp): the steps of `cairn start` after configuration, each a method, over
// the state they share.
#include "broker/runner.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/socket_access.hpp"
#include "broker/systemd_notify.hpp"
#include "libutil/process.hpp"

namespace cairn::broker {

namespace {

// `name` looked up in `path` as execvp would, so the program is found through the PATH it will
// have (spawn searches ours); as given if it holds a '/' or is in no directory of `path`.
std::string find_program(const std::string& name, std::string_view path) {
  if (name.empty() || name.find('/') != std::string::npos) return name;
  for (size_t start = 0; start <= path.size();) {
    size_t end = std::min(path.find(':', start), path.size());
    std::string dir(path.substr(start, end - start));
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec) && access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return name;
}

// The initial program: one word is a shell command line, more are a command and its arguments,
// the command looked up in `path`.
std::vector<std::string> initial_program_argv(const std::vector<std::string>& command,
                                              std::string_view path) {
  if (command.size() == 1) return {"/bin/sh", "-c", command[0]};
  std::vector<std::string> argv = command;
  argv[0] = find_program(argv[0], path);
  return argv;
}

// The socket path of a local:// endpoint; nullopt for any other.
std::optional<std::string> local_socket_path(const std::string& uri) {
  constexpr std::string_view kLocal = "local://";
  if (uri.compare(0, kLocal.size(), kLocal) != 0) return std::nullopt;
  return uri.substr(kLocal.size());
}

}  // namespace

Runner::Runner(const RunOptions& opts)
    : opts_(opts),
      sigint_(loop_, SIGINT, [this](reactor::Signal&, int signum) { on_signal(signum); }),
      sigterm_(loop_, SIGTERM, [this](reactor::Signal&, int signum) { on_signal(signum); }) {}

bool Runner::start(const Config& config) {
  try {
    SocketAccess access = socket_access(config);
    // The statedir is opened to the group only when the socket is in it.
    statedir_ =
        std::make_unique<StateDir>(opts_.statedir, opts_.listen.empty() ? access : SocketAccess{});
    BrokerOptions bo;
    bo.listen = opts_.listen.empty() ? statedir_->socket_uri() : opts_.listen;
    bo.statedir = statedir_->path();
    bo.modules = opts_.modules;
    bo.rank = static_cast<int>(config.integer("broker.rank"));  // --rank included
    std::optional<std::string> local_path = local_socket_path(bo.listen);
    // The statedir's socket directory is set up by StateDir; one given by --listen here.
    if (local_path && !opts_.listen.empty() && access.configured())
      apply_to_socket_dir(std::filesystem::path(*local_path).parent_path().string(), access);
    broker_ = std::make_unique<Broker>(loop_, config, bo);
    if (local_path && access.configured()) apply_to_socket(*local_path, access);
    if (!local_path && access.configured())
      broker_->log().log(Level::kWarning,
                         "broker.socket-group and broker.socket-mode apply to local:// endpoints "
                         "only; " +
                             bo.listen + " admits the clients of security.allowed-clients");
  } catch (const ConfigError& e) {
    std::cerr << "cairn: config: " << e.what() << std::endl;
    return false;
  } catch (const std::exception& e) {
    std::cerr << "cairn: " << e.what() << std::endl;
    return false;
  }
  return true;
}

int Runner::run() {
  sigint_.start();
  sigterm_.start();
  // The endpoint is bound and every module created (start()): ready for systemd.
  if (std::string warning = notify_ready(broker_->uri()); !warning.empty())
    broker_->log().log(Level::kWarning, warning);
  if (!opts_.command.empty())
    start_initial_program();
  else
    print_startup_hint();
  if (!finished_) loop_.run();
  std::vector<std::string> lost = broker_->lost_data();
  broker_.reset();         // modules in reverse order, then the socket; the log's queue drains
  report_lost_data(lost);  // last, so after the broker's own log lines
  return status_;
}

void Runner::report_lost_data(const std::vector<std::string>& lost) {
  if (lost.empty()) return;
  for (const std::string& what : lost) std::cerr << "cairn: start: data lost: " << what << "\n";
  if (status_ == 0) status_ = kExitLostData;
  std::cerr << "cairn: start: exit status " << status_
            << (status_ == kExitLostData ? " (data lost)" : " (the initial program's)")
            << std::endl;
}

void Runner::on_signal(int signum) {
  ++signals_seen_;
  broker_->log().log(Level::kNotice, fmt::format("got {}, shutting down", strsignal(signum)));
  if (child_ > 0) {
    // The initial program's exit continues the shutdown; a second signal insists.
    kill(child_, signals_seen_ > 1 ? SIGKILL : SIGTERM);
  } else {
    stop();
  }
}

void Runner::stop() {
  broker_->shutdown([this]() {
    finished_ = true;
    loop_.stop();
  });
}

void Runner::start_initial_program() {
  util::SpawnOptions spawn_opts;
  // `cairn start` put its own directory first (cairn.cpp), so that a `cairn` the program runs
  // is that one, also from a build tree not on PATH.
  std::string path = util::search_path();
  spawn_opts.env = {"CAIRN_URI=" + broker_->uri(), "PATH=" + path};
  if (!broker_->server_key().empty())
    spawn_opts.env.push_back("CAIRN_SERVER_KEY=" + broker_->server_key());
  util::Result<pid_t> started = util::spawn(initial_program_argv(opts_.command, path), spawn_opts);
  if (!started) {
    int err = started.error().errnum;
    std::cerr << "cairn: start: cannot run " << opts_.command[0] << ": " << std::strerror(err)
              << std::endl;
    status_ = (err == ENOENT || err == ENOTDIR) ? 127 : 126;
    stop();
    return;
  }
  child_ = *started;
  child_watcher_ = std::make_unique<reactor::Child>(
      loop_, child_, [this](reactor::Child&, pid_t, int wstatus) { on_child_exit(wstatus); });
  child_watcher_->start();
}

void Runner::on_child_exit(int wstatus) {
  child_watcher_->stop();
  child_ = -1;
  status_ = util::exit_code(wstatus);
  broker_->log().log(Level::kInfo, fmt::format("initial program exited with status {}", status_));
  stop();
}

void Runner::print_startup_hint() const {
  std::cout << broker_->uri() << std::endl;  // one line, flushed: scripts wait for it
  std::string hint =
      fmt::format("cairn: broker up at {}; try: CAIRN_URI={}", broker_->uri(), broker_->uri());
  if (!broker_->server_key().empty())
    hint += fmt::format(" CAIRN_SERVER_KEY={} CAIRN_CLIENT_CERT=<your cert>",
                        util::shell_quote(broker_->server_key()));
  std::cerr << hint << " cairn ping" << std::endl;
}

}  // namespace cairn::broker
