// `cairn top`: a live view of one broker, like `redis-cli --stat`. Every --interval seconds it
// asks for stats.status and content.stats-get (two requests in one batch) and draws a frame
// from the last two samples: the cache's state and, as rates over the interval, requests,
// loads, the hit rate and the backing store's reads and writes. Its own two requests per sample
// are not counted in requests/s.
// One ppoll() waits on the keyboard, the connection and the next deadline; the signals that
// end or stop it are blocked except inside that ppoll, so none is lost between checks. While it
// runs, a terminal on stdin is in non-canonical no-echo mode (for `q`); every way out, Ctrl-Z
// included, restores it first.
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cmd/commands.hpp"
#include "cmd/common.hpp"
#include "libclient/client.hpp"

namespace cairn::cmd {
namespace {

using Clock = std::chrono::steady_clock;
using client::Response;

constexpr const char* kWhat = "top";
constexpr const char* kStatusTopic = "stats.status";
constexpr const char* kContentTopic = "content.stats-get";
// Requests top itself adds to the broker's count between two stats.status replies: the
// previous sample's content.stats-get and this sample's stats.status.
constexpr uint64_t kOwnRequests = 2;
constexpr double kMaxInterval = 3600;

// What one sample of the broker says (running totals and the cache's state).
struct Sample {
  Clock::time_point at;
  uint64_t requests = 0;
  uint64_t count = 0, valid = 0, dirty = 0, size = 0;
  uint64_t load_hits = 0, load_misses = 0;
  uint64_t backing_reads = 0, backing_writes = 0;
  std::string backing;  // content.backing; "none": memory only
};

// Fills `s` from the two replies; on a malformed reply returns why.
std::optional<std::string> parse_sample(const std::string& status, const std::string& content,
                                        Sample& s) {
  const char* topic = kStatusTopic;
  try {
    auto j = nlohmann::json::parse(status);
    s.requests = j.at("requests").get<uint64_t>();
    topic = kContentTopic;
    j = nlohmann::json::parse(content);
    s.count = j.at("count").get<uint64_t>();
    s.valid = j.at("valid").get<uint64_t>();
    s.dirty = j.at("dirty").get<uint64_t>();
    s.size = j.at("size").get<uint64_t>();
    s.load_hits = j.at("load-hits").get<uint64_t>();
    s.load_misses = j.at("load-misses").get<uint64_t>();
    s.backing_reads = j.at("backing-reads").get<uint64_t>();
    s.backing_writes = j.at("backing-writes").get<uint64_t>();
    s.backing = j.at("backing").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return fmt::format(
        "{}: malformed reply from the broker ({}); is the broker older than this cairn?", topic,
        e.what());
  }
  return std::nullopt;
}

// `600 B`, `2.6 KiB`, `1.0 MiB`, ...
std::string human_bytes(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", v, kUnits[unit]);
}

// b - a, or 0 when the total went down (the broker restarted between the samples).
uint64_t grown(uint64_t a, uint64_t b) { return b > a ? b - a : 0; }

std::string percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "-";
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

// The frame for sample `now`; `prev` is the one before it (none: the rates read "-").
std::string frame(const std::string& uri, double interval, bool live, const Sample* prev,
                  const Sample& now) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  std::string out =
      fmt::format("cairn top: {}, every {:g} s{}  {:02d}:{:02d}:{:02d}\n", uri, interval,
                  live ? "; q or Ctrl-C quits" : "", tm.tm_hour, tm.tm_min, tm.tm_sec);
  uint64_t loads = now.load_hits + now.load_misses;
  out +=
      fmt::format("since start: {} loads, hit rate {}\n\n", loads, percent(now.load_hits, loads));

  const bool backed = now.backing != "none";
  std::string rate_req = "-", rate_loads = "-", hit = "-", reads = "-", writes = "-";
  if (prev) {
    double dt = std::chrono::duration<double>(now.at - prev->at).count();
    if (dt <= 0) dt = interval;
    auto rate = [dt](uint64_t n) { return fmt::format("{:.1f}", static_cast<double>(n) / dt); };
    uint64_t req = grown(prev->requests, now.requests);
    rate_req = rate(req > kOwnRequests ? req - kOwnRequests : 0);
    uint64_t hits = grown(prev->load_hits, now.load_hits);
    uint64_t interval_loads = hits + grown(prev->load_misses, now.load_misses);
    rate_loads = rate(interval_loads);
    hit = percent(hits, interval_loads);
    if (backed) {
      reads = rate(grown(prev->backing_reads, now.backing_reads));
      writes = rate(grown(prev->backing_writes, now.backing_writes));
    }
  }
  std::string store = backed ? fmt::format("--- backing {} ---", now.backing) : "no backing store";
  out += fmt::format("{:>82}\n", store);  // over READS/S and WRITES/S, ending with the row
  out += fmt::format("{:>8} {:>8} {:>8} {:>10} {:>8} {:>8} {:>6}  {:>8} {:>9}\n", "ENTRIES",
                     "VALID", "DIRTY", "SIZE", "REQ/S", "LOADS/S", "HIT%", "READS/S", "WRITES/S");
  out +=
      fmt::format("{:>8} {:>8} {:>8} {:>10} {:>8} {:>8} {:>6}  {:>8} {:>9}\n", now.count, now.valid,
                  now.dirty, human_bytes(now.size), rate_req, rate_loads, hit, reads, writes);
  return out;
}

// The signal that asked top to end or stop; 0 when none is pending. Set by the handlers only.
volatile sig_atomic_t caught_signal = 0;
void catch_signal(int sig) { caught_signal = sig; }

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGTSTP};

// Blocks kSignals and routes them to catch_signal(); restores both on destruction. `unblocked`
// is the mask for ppoll(): the one in force before, without kSignals.
class SignalGuard {
 public:
  SignalGuard() {
    sigset_t block;
    sigemptyset(&block);
    for (int sig : kSignals) sigaddset(&block, sig);
    sigprocmask(SIG_BLOCK, &block, &old_mask_);
    unblocked_ = old_mask_;
    for (int sig : kSignals) sigdelset(&unblocked_, sig);
    struct sigaction sa {};
    sa.sa_handler = catch_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < std::size(kSignals); ++i) sigaction(kSignals[i], &sa, &old_actions_[i]);
  }
  ~SignalGuard() {
    for (size_t i = 0; i < std::size(kSignals); ++i)
      sigaction(kSignals[i], &old_actions_[i], nullptr);
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

  const sigset_t* unblocked() const { return &unblocked_; }

 private:
  sigset_t old_mask_;
  sigset_t unblocked_;
  struct sigaction old_actions_[std::size(kSignals)];
};

// The terminal on stdin in non-canonical no-echo mode (so `q` arrives alone and unseen);
// restore() (also on destruction) puts it back. Inactive when stdin is not a terminal.
class TerminalMode {
 public:
  TerminalMode() {
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    active_ = true;
    apply();
  }
  ~TerminalMode() { restore(); }
  TerminalMode(const TerminalMode&) = delete;
  TerminalMode& operator=(const TerminalMode&) = delete;

  bool active() const { return active_; }
  void apply() {
    if (!active_) return;
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    applied_ = true;
  }
  void restore() {
    if (!applied_) return;
    tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    applied_ = false;
  }

 private:
  termios saved_{};
  bool active_ = false;
  bool applied_ = false;
};

// "\x1b[?25l": hide the cursor; "\x1b[?25h": show it; "\x1b[H\x1b[J": home, clear to the end.
constexpr const char* kHideCursor = "\x1b[?25l";
constexpr const char* kShowCursor = "\x1b[?25h";
constexpr const char* kClearScreen = "\x1b[H\x1b[J";

void write_out(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// For a failure that means the connection is gone: says so, since top outlives brokers.
std::string gone_hint(const Response& r) {
  bool gone = r.errnum == EPIPE || r.errnum == ECONNRESET || r.errnum == ENOTCONN;
  return gone ? " (the broker went away: has it stopped?)" : "";
}

class Top {
 public:
  Top(client::Client& client, double interval, bool once)
      : client_(client), interval_(interval), once_(once) {}
  // Shows the cursor again; then the terminal is restored, and only then the signals.
  ~Top() {
    if (!once_) write_out(std::string(kShowCursor) + "\n");
  }
  Top(const Top&) = delete;
  Top& operator=(const Top&) = delete;

  // Runs until --once has printed its frame, q, or a signal. Returns the exit status; a
  // failure's text is in error() (printed by the caller, once the terminal is restored).
  int run();
  const std::string& error() const { return error_; }

 private:
  // Sends the two requests of one sample; false (error_ set) if they cannot be sent.
  bool request_sample();
  // Takes one response; false (error_ set) on a failure.
  bool accept(const Response& r);
  void draw();
  // Handles a caught signal; returns the exit status if top is to end, else -1.
  int on_signal(int sig);
  int fail_with(std::string text) {
    error_ = std::move(text);
    return 1;
  }

  client::Client& client_;
  const double interval_;
  const bool once_;
  SignalGuard signals_;                     // before terminal_: restored after it
  std::unique_ptr<TerminalMode> terminal_;  // live mode only
  uint32_t status_tag_ = 0, content_tag_ = 0;
  std::optional<std::string> status_reply_, content_reply_;
  Clock::time_point sent_at_, reply_deadline_;
  std::optional<Sample> prev_, last_;
  std::string error_;
};

bool Top::request_sample() {
  sent_at_ = Clock::now();
  reply_deadline_ = sent_at_ + client_.timeout();
  status_reply_.reset();
  content_reply_.reset();
  status_tag_ = client_.send(kStatusTopic);
  content_tag_ = status_tag_ ? client_.send(kContentTopic) : 0;
  if (content_tag_ == 0) {
    fail_with(fmt::format("{}: cannot send the request: {}", kWhat, std::strerror(errno)));
    return false;
  }
  client_.flush();
  return true;
}

bool Top::accept(const Response& r) {
  if (r.matchtag != status_tag_ && r.matchtag != content_tag_) {
    if (r.ok() || r.matchtag != 0) return true;  // not ours (cannot happen: dropped)
    fail_with(fmt::format("{}: {}{}", kWhat, r.error_text(), gone_hint(r)));  // connection failed
    return false;
  }
  const char* topic = r.matchtag == status_tag_ ? kStatusTopic : kContentTopic;
  if (!r.ok()) {
    fail_with(fmt::format("{}: {}{}", topic, r.error_text(), gone_hint(r)));
    return false;
  }
  (r.matchtag == status_tag_ ? status_reply_ : content_reply_) = r.payload;
  if (!status_reply_ || !content_reply_) return true;
  Sample s;
  s.at = sent_at_;
  if (auto why = parse_sample(*status_reply_, *content_reply_, s)) {
    fail_with(*why);
    return false;
  }
  status_tag_ = content_tag_ = 0;
  prev_ = std::move(last_);
  last_ = std::move(s);
  return true;
}

void Top::draw() {
  std::string text = frame(client_.uri(), interval_, !once_, prev_ ? &*prev_ : nullptr, *last_);
  write_out(once_ ? text : kClearScreen + text);
}

int Top::on_signal(int sig) {
  if (sig == SIGTSTP) {  // Ctrl-Z: give the shell its terminal back, stop; redraw when resumed
    if (terminal_) terminal_->restore();
    write_out(kShowCursor);
    kill(getpid(), SIGSTOP);
    if (terminal_) terminal_->apply();
    write_out(kHideCursor);
    if (last_) draw();
    return -1;
  }
  return sig == SIGINT && !once_ ? 0 : 128 + sig;  // Ctrl-C is the way out of a live view
}

int Top::run() {
  if (!once_) {
    terminal_ = std::make_unique<TerminalMode>();
    write_out(std::string(kHideCursor) + "\x1b[2J");
  }
  const auto step =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval_));
  Clock::time_point next_sample = Clock::now();
  bool keyboard = terminal_ && terminal_->active();
  int status = -1;
  while (status < 0) {
    if (int sig = caught_signal; sig != 0) {
      caught_signal = 0;
      status = on_signal(sig);
      continue;
    }
    const bool waiting = status_tag_ != 0;
    Clock::time_point now = Clock::now();
    if (!waiting && now >= next_sample) {
      if (!request_sample()) return 1;
      next_sample += step;
      if (next_sample < now) next_sample = now + step;  // fell behind (stopped, slow broker)
      continue;
    }
    if (waiting) {
      // ZMQ_FD signals edges only: take every response already there before waiting again.
      Response r = client_.recv(std::chrono::milliseconds(0));
      if (r.errnum != ETIMEDOUT || r.matchtag != 0) {
        if (!accept(r)) return 1;
        if (status_tag_ == 0 && (!once_ || prev_)) {  // --once: only the frame with rates
          draw();
          if (once_) status = 0;
        }
        continue;
      }
      if (now >= reply_deadline_)
        return fail_with(fmt::format(
            "{}: no answer from the broker within {:g} s (is it running?); wait longer with "
            "CAIRN_RPC_TIMEOUT=SECONDS",
            kWhat, std::chrono::duration<double>(client_.timeout()).count()));
    }
    Clock::time_point until = waiting ? reply_deadline_ : next_sample;
    auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(until - now);
    if (left.count() < 0) left = std::chrono::nanoseconds(0);
    timespec ts{static_cast<time_t>(left.count() / 1000000000),
                static_cast<long>(left.count() % 1000000000)};
    // The connection only while a reply is awaited: between samples a closed one would wake
    // this loop without end; the next request finds out.
    pollfd fds[2];
    nfds_t nfds = 0;
    if (keyboard) fds[nfds++] = {STDIN_FILENO, POLLIN, 0};
    if (waiting) fds[nfds++] = {client_.pollfd(), POLLIN, 0};
    int n = ppoll(fds, nfds, &ts, signals_.unblocked());
    if (n < 0 && errno != EINTR)
      return fail_with(fmt::format("{}: poll: {}", kWhat, std::strerror(errno)));
    if (n > 0 && keyboard && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char keys[64];
      ssize_t got = read(STDIN_FILENO, keys, sizeof keys);
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
        keyboard = false;  // no more keys: only a signal ends it now
      for (ssize_t i = 0; i < got; ++i)
        if (keys[i] == 'q' || keys[i] == 'Q') status = 0;
    }
  }
  return status;
}

int top(double interval, bool once) {
  if (!once && !isatty(STDOUT_FILENO))
    return fail(kWhat,
                "standard output is not a terminal: use --once to print one frame (for a "
                "script or a log), or run it in a terminal");
  auto c = connect_or_fail();
  if (!c) return 1;
  int status;
  std::string error;
  {
    Top t(*c, interval, once);
    status = t.run();
    error = t.error();
  }  // the terminal is restored here, before anything more is printed
  if (!error.empty()) std::fprintf(stderr, "cairn: %s\n", error.c_str());
  return status;
}

}  // namespace

void add_top(CLI::App& app, int& status) {
  auto* cmd = app.add_subcommand(
      "top", "Show a broker's cache, request and backing-store rates, refreshed until q");
  auto interval = std::make_shared<double>(1.0);
  auto once = std::make_shared<bool>(false);
  cmd->add_option("-i,--interval", *interval, "seconds between refreshes (default 1)")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            double seconds = 0;
            if (!CLI::detail::lexical_cast(value, seconds)) return value + " is not a number";
            if (!(seconds > 0 && seconds <= kMaxInterval))
              return value + " is not allowed: expected more than 0 and at most 3600 seconds";
            return {};
          },
          "SECONDS"));
  cmd->add_flag("--once", *once,
                "print one frame, its rates measured over one interval, and exit (for scripts)");
  cmd->callback([&status, interval, once] { status = top(*interval, *once); });
}

}  // namespace cairn::cmd
