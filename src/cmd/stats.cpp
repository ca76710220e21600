// `cairn stats listen` (a UDP statsd listener that checks what arrives, optionally around a
// command it runs with CAIRN_STATSD pointing at it) and `cairn stats status` (the broker's
// telemetry self counters). The listener is one reactor loop: the socket, the command's exit,
// the timeout and SIGINT/SIGTERM are watchers; once the outcome is decided nothing more is read,
// the command is stopped (its whole process group), and the loop ends when it has exited.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cmd/commands.hpp"
#include "cmd/common.hpp"
#include "cmd/listen.hpp"
#include "libclient/client.hpp"
#include "libreactor/reactor.hpp"
#include "libutil/fd.hpp"
#include "libutil/process.hpp"

namespace cairn::cmd {

namespace {

constexpr const char* kWhat = "stats listen";
// Once the command has exited, packets it sent may still be on their way through the loopback
// device; pending criteria get this long (bounded by --timeout) before they count as failed.
constexpr double kExitGrace = 0.25;
// How long a command has to exit after SIGTERM before it gets SIGKILL.
constexpr double kStopGrace = 5.0;
// Datagrams read per wake-up, so a flood cannot starve the other watchers.
constexpr int kReadBatch = 64;
constexpr double kDefaultTimeout = 30.0;

using util::UniqueFd;

struct ListenOptions {
  int port = 0;
  ListenCriteria criteria;
  std::optional<double> timeout;  // seconds; 0: none
  bool json = false;
  bool summary = false;
  std::vector<std::string> command;
};

class Listener {
 public:
  // `sock` is a bound, non-blocking UDP socket; opts.port its port.
  Listener(ListenOptions opts, UniqueFd sock)
      : opts_(std::move(opts)),
        check_(opts_.criteria),
        sock_(std::move(sock)),
        io_(loop_, sock_.get(), reactor::kRead, [this](reactor::Io&, int) { on_readable(); }),
        timeout_(loop_, 0, 0, [this](reactor::Timer&) { on_timeout(); }),
        grace_(loop_, 0, 0, [this](reactor::Timer&) { on_grace_over(); }),
        kill_timer_(loop_, kStopGrace, 0, [this](reactor::Timer&) { kill_command(SIGKILL); }),
        sigint_(loop_, SIGINT, [this](reactor::Signal&, int sig) { on_signal(sig); }),
        sigterm_(loop_, SIGTERM, [this](reactor::Signal&, int sig) { on_signal(sig); }) {}

  // Runs the whole listen; returns the exit status of `cairn stats listen`.
  int run();

 private:
  int spawn_command();
  bool read_packets(int max);  // false once the socket has no more (or the outcome is set)
  void on_packet(std::string_view packet);
  void on_readable();
  void on_timeout();
  void on_grace_over();
  void on_signal(int sig);
  void on_command_exit(int status);
  // Decides the outcome: stop reading and waiting, stop the command, end the loop once it is gone.
  void finish(int exit_status, std::string message = {});
  void kill_command(int sig);
  void settle_if_met();
  void write_out(std::string_view text);

  ListenOptions opts_;
  CriteriaCheck check_;
  MetricSummary summary_;
  reactor::Loop loop_;
  UniqueFd sock_;
  reactor::Io io_;
  reactor::Timer timeout_;
  reactor::Timer grace_;
  reactor::Timer kill_timer_;
  reactor::Signal sigint_;
  reactor::Signal sigterm_;
  std::unique_ptr<reactor::Child> child_;
  pid_t pid_ = -1;
  std::optional<int> command_status_;  // wait status once the command has exited
  std::optional<int> exit_status_;     // the outcome, once decided
  std::string message_;                // printed with the outcome (error, or warning if 0)
  double timeout_seconds_ = 0;
  // When the listen began: the summary's rates are over the whole run.
  std::chrono::steady_clock::time_point started_;
  std::array<char, 65536> buf_;  // any UDP/IPv4 datagram fits
};

// A non-blocking UDP socket bound to 127.0.0.1:port (port 0: a free one, stored in `port`).
std::optional<UniqueFd> bind_loopback(int& port) {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) {
    fail(kWhat, fmt::format("cannot create a UDP socket: {}", std::strerror(errno)));
    return std::nullopt;
  }
  // A deeper queue loses fewer lines of a burst (best effort: the kernel caps it).
  int rcvbuf = 4 << 20;
  ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    fail(kWhat, fmt::format("cannot bind 127.0.0.1:{}: {}{}", port, std::strerror(errno),
                            port ? " (omit --port to use a free port)" : ""));
    return std::nullopt;
  }
  socklen_t len = sizeof addr;
  ::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return sock;
}

// Returns 0, or the exit status for a command that cannot be run (127 not found, 126 otherwise).
int Listener::spawn_command() {
  util::SpawnOptions spawn_opts;
  spawn_opts.env = {fmt::format("CAIRN_STATSD=127.0.0.1:{}", opts_.port)};
  // Its own process group: stopping the command stops what it started too.
  spawn_opts.new_process_group = true;
  util::Result<pid_t> pid = util::spawn(opts_.command, spawn_opts);
  if (!pid) {
    int err = pid.error().errnum;
    fail(kWhat, fmt::format("cannot run \"{}\": {}{}", opts_.command[0], std::strerror(err),
                            err == ENOENT ? " (is it in PATH?)" : ""));
    return err == ENOENT ? 127 : 126;
  }
  pid_ = *pid;
  child_ = std::make_unique<reactor::Child>(
      loop_, pid_, [this](reactor::Child&, pid_t, int status) { on_command_exit(status); });
  child_->start();  // the loop is the default one: it was the first created in this process
  return 0;
}

int Listener::run() {
  started_ = std::chrono::steady_clock::now();
  io_.start();
  sigint_.start();
  sigterm_.start();
  timeout_seconds_ = opts_.timeout.value_or(opts_.criteria.any() ? kDefaultTimeout : 0);
  if (timeout_seconds_ > 0) {
    timeout_.set(timeout_seconds_, 0);
    timeout_.start();
  }
  if (opts_.command.empty()) {
    std::fprintf(stderr, "cairn: %s: listening on 127.0.0.1:%d\n", kWhat, opts_.port);
  } else if (int rc = spawn_command(); rc != 0) {
    return rc;
  }
  loop_.run();

  if (opts_.summary) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    write_out(opts_.json ? summary_.json(seconds) + "\n" : summary_.table(seconds));
  }
  if (exit_status_.value_or(0) != 0) {
    if (!message_.empty()) fail(kWhat, message_);
  } else if (!message_.empty()) {
    std::fprintf(stderr, "cairn: %s: warning: %s\n", kWhat, message_.c_str());
  }
  return exit_status_.value_or(0);
}

void Listener::write_out(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (std::fflush(stdout) != 0 && !exit_status_)
    finish(1, fmt::format("cannot write to standard output: {}", std::strerror(errno)));
}

void Listener::on_packet(std::string_view packet) {
  if (opts_.json) {
    write_out(packet_json(packet) + "\n");
  } else {
    std::string text;
    for (std::string_view line : split_packet(packet)) {
      text.append(line);
      text.push_back('\n');
    }
    write_out(text);
  }
  if (opts_.summary) {
    for (std::string_view line : split_packet(packet)) summary_.add_line(line);
  }
  if (exit_status_) return;  // the output failed
  check_.add_packet(packet);
  if (check_.state(false) == CriteriaCheck::State::kFailed) {
    finish(1, check_.unmet());
  } else {
    settle_if_met();
  }
}

bool Listener::read_packets(int max) {
  for (int i = 0; i < max && !exit_status_; ++i) {
    ssize_t n = ::recv(sock_.get(), buf_.data(), buf_.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        finish(1, fmt::format("cannot read from the socket: {}", std::strerror(errno)));
      return false;
    }
    on_packet(std::string_view(buf_.data(), static_cast<size_t>(n)));
  }
  return !exit_status_;
}

void Listener::on_readable() { read_packets(kReadBatch); }

void Listener::settle_if_met() {
  if (exit_status_ || check_.state(false) != CriteriaCheck::State::kMet) return;
  std::string warning;
  if (command_status_ && *command_status_ != 0)
    warning = fmt::format("the criteria held, but the command {}",
                          util::describe_wait_status(*command_status_));
  finish(0, warning);
}

void Listener::on_timeout() {
  if (exit_status_) return;
  if (check_.state(true) == CriteriaCheck::State::kMet) {
    finish(0);
  } else {
    finish(1, fmt::format("{} (timed out after {} s)", check_.unmet(), timeout_seconds_));
  }
}

void Listener::on_command_exit(int status) {
  command_status_ = status;
  child_->stop();
  if (exit_status_) {  // already decided: we were waiting for the command to go
    kill_timer_.stop();
    loop_.stop();
    return;
  }
  // Whatever the command sent before it exited is queued on the socket by now (or nearly).
  while (read_packets(kReadBatch)) {
  }
  if (exit_status_) return;
  if (!opts_.criteria.any()) {
    finish(util::exit_code(status));
    return;
  }
  settle_if_met();
  if (exit_status_) return;
  double grace = kExitGrace;
  if (timeout_.active()) grace = std::min(grace, timeout_.remaining());
  grace_.set(grace, 0);
  grace_.start();
}

void Listener::on_grace_over() {
  if (exit_status_) return;
  std::string how = fmt::format("the command {}", util::describe_wait_status(*command_status_));
  if (check_.state(true) == CriteriaCheck::State::kMet) {
    finish(0, *command_status_ != 0 ? "the criteria held, but " + how : std::string());
  } else {
    finish(1, fmt::format("{} ({})", check_.unmet(), how));
  }
}

void Listener::on_signal(int sig) {
  if (exit_status_) {  // a second signal: do not wait for the command any longer
    kill_command(SIGKILL);
    return;
  }
  if (!opts_.criteria.any()) {
    finish(0);
  } else {
    finish(128 + sig, fmt::format("{} (interrupted by SIG{})", check_.unmet(), sigabbrev_np(sig)));
  }
}

void Listener::finish(int exit_status, std::string message) {
  exit_status_ = exit_status;
  message_ = std::move(message);
  io_.stop();
  timeout_.stop();
  grace_.stop();
  if (pid_ > 0 && !command_status_) {
    kill_command(SIGTERM);
    kill_timer_.start();
  } else {
    loop_.stop();
  }
}

void Listener::kill_command(int sig) {
  if (pid_ <= 0 || command_status_) return;
  // The whole process group: a shell's children go too, and do not hold our stdout open.
  if (::kill(-pid_, sig) < 0) ::kill(pid_, sig);
}

int run_listen(ListenOptions opts) {
  // A closed stdout must give an error, not kill the listener and orphan the command.
  ::signal(SIGPIPE, SIG_IGN);
  std::optional<UniqueFd> sock = bind_loopback(opts.port);
  if (!sock) return 1;
  Listener listener(std::move(opts), std::move(*sock));
  return listener.run();
}

// `cairn stats status`: the broker's statsd client counters (stats.status), as a table or JSON.
int stats_status(bool json) {
  constexpr const char* kTopic = "stats.status";
  std::optional<client::Client> c = connect_or_fail();
  if (!c) return 1;
  client::Response r = c->rpc(kTopic);
  if (!r.ok()) return fail_response(kTopic, r);
  try {
    nlohmann::json doc = nlohmann::json::parse(r.payload);
    if (json) {
      fmt::print("{}\n", doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      return 0;
    }
    std::string endpoint = doc.at("endpoint").get<std::string>();
    fmt::print("{:<16} {}\n", "enabled", doc.at("enabled").get<bool>() ? "yes" : "no");
    fmt::print("{:<16} {}\n", "endpoint", endpoint.empty() ? "-" : endpoint);
    for (const char* key :
         {"packets", "bytes", "send_errors", "dropped_lines", "dropped_samples", "invalid_names"})
      fmt::print("{:<16} {}\n", key, doc.at(key).get<uint64_t>());
  } catch (const nlohmann::json::exception& e) {
    return fail(kTopic, fmt::format("malformed reply from the broker: {}", e.what()));
  }
  return 0;
}

}  // namespace

void add_stats(CLI::App& app, int& status) {
  CLI::App* stats = app.add_subcommand("stats", "statsd telemetry: watch it, check the client");
  stats->require_subcommand(1);

  auto opts = std::make_shared<ListenOptions>();
  auto count = std::make_shared<uint64_t>(0);
  auto timeout = std::make_shared<double>(0);
  CLI::App* listen = stats->add_subcommand(
      "listen",
      "Listen for statsd packets on a free UDP port of 127.0.0.1, print each line, optionally "
      "run COMMAND [ARG...] (after the options, or after --) with CAIRN_STATSD set to that port, "
      "and check what arrives");
  listen->add_option("--port", opts->port, "UDP port to bind (default: a free one)")
      ->check(in_range(0, 65535));
  CLI::Option* count_opt =
      listen->add_option("--count", *count, "succeed once at least N packets have arrived")
          ->check(at_least(1));
  CLI::Option* search_opt =
      listen
          ->add_option("--search", opts->criteria.search,
                       "succeed once some line contains TEXT (repeatable: every TEXT)")
          ->allow_extra_args(false);
  listen->add_flag("--validate", opts->criteria.validate,
                   "fail on the first line that is not NAME:VALUE|TYPE statsd");
  CLI::Option* none_opt =
      listen->add_flag("--none", opts->criteria.none,
                       "succeed if nothing arrives until COMMAND exits (or until --timeout)");
  none_opt->excludes(count_opt)->excludes(search_opt);
  CLI::Option* timeout_opt =
      listen
          ->add_option("--timeout", *timeout,
                       "give up after S seconds (default 30 with criteria, none without; 0: none)")
          ->check(number_at_least(0));
  listen->add_flag("--json", opts->json, "print one JSON object per packet");
  listen->add_flag("--summary", opts->summary,
                   "at exit, print a table of each metric's type, last value and line count, "
                   "and a counter's sum and rate per second over the run");
  // Everything from the first non-option word (or after `--`) on is COMMAND and its arguments.
  listen->add_option("command", opts->command, "COMMAND [ARG...] to run");
  listen->positionals_at_end();
  listen->callback([&status, opts, count, timeout, count_opt, timeout_opt]() {
    if (count_opt->count() > 0) opts->criteria.count = *count;
    if (timeout_opt->count() > 0) opts->timeout = *timeout;
    status = run_listen(std::move(*opts));
  });

  auto status_json = std::make_shared<bool>(false);
  CLI::App* st = stats->add_subcommand(
      "status", "Print the broker's telemetry counters (packets, bytes, send errors, drops)");
  st->add_flag("--json", *status_json, "print the broker's JSON reply");
  st->callback([&status, status_json]() { status = stats_status(*status_json); });
}

}  // namespace cairn::cmd
