// The broker's log: an spdlog logger whose ring-buffer sink keeps the last entries for
// `cairn dmesg` (broker.dmesg) and whose stderr sink prints warnings and errors as
// `cairn-broker: <text>`. Invariant: the ring holds at most `capacity` entries, oldest first.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/module.hpp"

namespace spdlog {
class logger;
}

namespace cairn::broker {

class RingSink;

class Log {
 public:
  struct Entry {
    double time;  // unix seconds
    Level level;
    std::string text;
  };

  // `to_stderr`: also print warnings and errors on stderr (off in unit tests).
  explicit Log(size_t capacity = 1000, bool to_stderr = true);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  void log(Level level, std::string_view text);
  std::vector<Entry> entries() const;
  // The broker.dmesg response: {"entries":[{"time":..,"level":"warning","text":".."},...]}.
  std::string dmesg_json() const;

  // "err", "warning", "notice", "info", "debug".
  static const char* level_name(Level level);

 private:
  std::shared_ptr<RingSink> ring_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace cairn::broker
