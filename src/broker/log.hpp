// The broker's log: an spdlog logger whose ring-buffer sink keeps the last entries for
// `cairn dmesg` (broker.dmesg) and whose stderr sink prints warnings and errors as
// `cairn-broker: <text>`.
// Invariants: the ring holds at most `capacity` entries, oldest first. No call ever blocks on
// stderr: lines go to a bounded queue that a writer thread of its own drains; what does not
// fit is dropped and counted, and the count is printed once stderr drains. log_limited()
// passes at most kBurst messages per source per kWindow seconds and reports the rest as
// "N similar messages suppressed".
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/module-api/module.hpp"

namespace spdlog {
class logger;
}

namespace cairn::broker {

class RingSink;
class StderrSink;

class Log {
 public:
  struct Entry {
    double time;  // unix seconds
    Level level;
    std::string text;
  };

  static constexpr int kBurst = 5;                  // messages per source per window
  static constexpr double kWindow = 10.0;           // seconds
  static constexpr size_t kQueueBytes = 64 * 1024;  // stderr lines waiting for the writer

  // `to_stderr`: also print warnings and errors on `stderr_fd` (off in unit tests).
  explicit Log(size_t capacity = 1000, bool to_stderr = true, int stderr_fd = 2);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  void log(Level level, std::string_view text);
  // As log(), for messages a peer can cause at will (malformed messages, refused clients):
  // `source` names the kind ("malformed message"); past kBurst in a window they are counted.
  void log_limited(std::string_view source, Level level, std::string_view text);
  // Logs "N similar messages suppressed" for each source whose window has passed (call it
  // from the heartbeat, so a burst that stopped is still reported).
  void report_suppressed();
  // The rate-limit window, kWindow unless a test shortens it.
  void set_limit_window(double seconds) { window_ = seconds; }
  // stderr lines dropped because stderr was not being read (total).
  uint64_t stderr_dropped() const;
  std::vector<Entry> entries() const;
  // The broker.dmesg response: {"entries":[{"time":..,"level":"warning","text":".."},...]}.
  std::string dmesg_json() const;

  // "err", "warning", "notice", "info", "debug".
  static const char* level_name(Level level);

 private:
  struct Limit {
    double window_start = 0;  // steady seconds
    int passed = 0;           // messages logged in this window
    uint64_t suppressed = 0;  // messages dropped in this window
    Level level = Level::kWarning;
  };
  void report(const std::string& source, Limit& l);

  std::shared_ptr<RingSink> ring_;
  std::shared_ptr<StderrSink> stderr_;
  std::shared_ptr<spdlog::logger> logger_;
  std::map<std::string, Limit, std::less<>> limits_;
  double window_ = kWindow;
};

}  // namespace cairn::broker
