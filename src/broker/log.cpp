// Log ring and stderr output for the broker (see log.hpp).
// spdlog has no "notice" level, so syslog levels are shifted one step down onto spdlog's
// (notice -> info, info -> debug, debug -> trace) and shifted back when read: the mapping
// is lossless and only warn and err reach the stderr sink.
#include "broker/log.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

namespace cairn::broker {

namespace {
spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::kErr:
      return spdlog::level::err;
    case Level::kWarning:
      return spdlog::level::warn;
    case Level::kNotice:
      return spdlog::level::info;
    case Level::kInfo:
      return spdlog::level::debug;
    case Level::kDebug:
      return spdlog::level::trace;
  }
  return spdlog::level::err;
}
Level from_spdlog(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::warn:
      return Level::kWarning;
    case spdlog::level::info:
      return Level::kNotice;
    case spdlog::level::debug:
      return Level::kInfo;
    case spdlog::level::trace:
      return Level::kDebug;
    default:
      return Level::kErr;
  }
}
}  // namespace

// Keeps the last `capacity` messages with their level and time.
class RingSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit RingSink(size_t capacity) : capacity_(capacity) {}
  std::vector<Log::Entry> entries() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {entries_.begin(), entries_.end()};
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    using namespace std::chrono;
    double t = duration<double>(msg.time.time_since_epoch()).count();
    if (entries_.size() == capacity_) entries_.pop_front();
    entries_.push_back(
        {t, from_spdlog(msg.level), std::string(msg.payload.data(), msg.payload.size())});
  }
  void flush_() override {}

 private:
  size_t capacity_;
  std::deque<Log::Entry> entries_;
};

// Prints `cairn-broker: <text>` lines on a file descriptor without ever blocking the caller:
// lines wait in a queue of at most Log::kQueueBytes that a thread of its own writes out, and
// a line that does not fit is dropped and counted; once the queue has drained, the writer
// prints how many were dropped. The writer waits for the descriptor with poll() in slices,
// so destruction never hangs on a stderr that nobody reads (it gives up after 2 s).
class StderrSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit StderrSink(int fd) : fd_(fd), thread_([this] { run(); }) {}
  ~StderrSink() override {
    {
      std::lock_guard lock(queue_mutex_);
      stopping_ = true;
      give_up_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    }
    wake_.notify_one();
    thread_.join();
  }
  uint64_t dropped() {
    std::lock_guard lock(queue_mutex_);
    return dropped_total_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string line = "cairn-broker: ";
    line.append(msg.payload.data(), std::min<size_t>(msg.payload.size(), 4000));
    line += '\n';
    {
      std::lock_guard lock(queue_mutex_);
      if (queued_bytes_ + line.size() > Log::kQueueBytes) {
        dropped_++;
        dropped_total_++;
        return;
      }
      queued_bytes_ += line.size();
      queue_.push_back(std::move(line));
    }
    wake_.notify_one();
  }
  void flush_() override {}

 private:
  // Writes all of `line`, waiting for the descriptor in 100 ms slices; false if it gave up
  // (an error, or stopping and give_up_at_ passed, however long the line has waited).
  bool write_line(const std::string& line) {
    size_t done = 0;
    while (done < line.size()) {
      pollfd p{fd_, POLLOUT, 0};
      int r = poll(&p, 1, 100);
      if (r < 0 && errno != EINTR) return false;
      if (r <= 0) {
        std::lock_guard lock(queue_mutex_);
        if (stopping_ && std::chrono::steady_clock::now() > give_up_at_) return false;
        continue;
      }
      ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0 && errno != EINTR && errno != EAGAIN) return false;
      if (n > 0) done += static_cast<size_t>(n);
    }
    return true;
  }

  void run() {
    std::unique_lock lock(queue_mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        if (stopping_) return;
        continue;
      }
      std::string line = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= line.size();
      bool report = queue_.empty() && dropped_ > 0;
      uint64_t dropped = report ? dropped_ : 0;
      if (report) dropped_ = 0;
      lock.unlock();
      bool ok = write_line(line);
      if (ok && report)
        ok =
            write_line(fmt::format("cairn-broker: {} log line(s) dropped: stderr was not "
                                   "being read (see cairn dmesg)\n",
                                   dropped));
      lock.lock();
      if (!ok && stopping_) return;
    }
  }

  int fd_;
  std::mutex queue_mutex_;  // guards everything below
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  uint64_t dropped_ = 0;        // since the last report
  uint64_t dropped_total_ = 0;  // ever
  bool stopping_ = false;
  std::chrono::steady_clock::time_point give_up_at_;  // set with stopping_
  std::thread thread_;                                // last: starts once everything it uses exists
};

Log::Log(size_t capacity, bool to_stderr, int stderr_fd)
    : ring_(std::make_shared<RingSink>(capacity)) {
  std::vector<spdlog::sink_ptr> sinks{ring_};
  if (to_stderr) {
    stderr_ = std::make_shared<StderrSink>(stderr_fd);
    stderr_->set_level(spdlog::level::warn);
    sinks.push_back(stderr_);
  }
  logger_ = std::make_shared<spdlog::logger>("cairn-broker", sinks.begin(), sinks.end());
  logger_->set_level(spdlog::level::trace);
}

Log::~Log() = default;

void Log::log(Level level, std::string_view text) { logger_->log(to_spdlog(level), text); }

namespace {
double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void Log::log_limited(std::string_view source, Level level, std::string_view text) {
  double now = steady_seconds();
  auto it = limits_.find(source);
  if (it == limits_.end()) it = limits_.emplace(std::string(source), Limit{now, 0, 0, level}).first;
  Limit& l = it->second;
  if (now - l.window_start >= window_) {
    report(it->first, l);
    l.window_start = now;
    l.passed = 0;
  }
  if (l.passed < kBurst) {
    l.passed++;
    log(level, text);
  } else {
    l.suppressed++;
    l.level = level;
  }
}

void Log::report(const std::string& source, Limit& l) {
  if (l.suppressed == 0) return;
  log(l.level, fmt::format("{} similar messages suppressed ({}) in the last {} s", l.suppressed,
                           source, window_));
  l.suppressed = 0;
}

void Log::report_suppressed() {
  double now = steady_seconds();
  for (auto it = limits_.begin(); it != limits_.end();) {
    if (now - it->second.window_start < window_) {
      ++it;
      continue;
    }
    report(it->first, it->second);
    it = limits_.erase(it);  // a quiet source starts afresh
  }
}

uint64_t Log::stderr_dropped() const { return stderr_ ? stderr_->dropped() : 0; }

std::vector<Log::Entry> Log::entries() const { return ring_->entries(); }

const char* Log::level_name(Level level) {
  switch (level) {
    case Level::kErr:
      return "err";
    case Level::kWarning:
      return "warning";
    case Level::kNotice:
      return "notice";
    case Level::kInfo:
      return "info";
    case Level::kDebug:
      return "debug";
  }
  return "err";
}

std::string Log::dmesg_json() const {
  auto entries = nlohmann::json::array();
  for (const auto& e : ring_->entries())
    entries.push_back({{"time", e.time}, {"level", level_name(e.level)}, {"text", e.text}});
  return nlohmann::json{{"entries", std::move(entries)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace cairn::broker
