// Log ring and stderr output for the broker (see log.hpp).
// spdlog has no "notice" level, so syslog levels are shifted one step down onto spdlog's
// (notice -> info, info -> debug, debug -> trace) and shifted back when read: the mapping
// is lossless and only warn and err reach the stderr sink.
#include "broker/log.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>

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

Log::Log(size_t capacity, bool to_stderr) : ring_(std::make_shared<RingSink>(capacity)) {
  std::vector<spdlog::sink_ptr> sinks{ring_};
  if (to_stderr) {
    auto err = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    err->set_level(spdlog::level::warn);
    err->set_pattern("cairn-broker: %v");
    sinks.push_back(err);
  }
  logger_ = std::make_shared<spdlog::logger>("cairn-broker", sinks.begin(), sinks.end());
  logger_->set_level(spdlog::level::trace);
  logger_->flush_on(spdlog::level::warn);
}

Log::~Log() = default;

void Log::log(Level level, std::string_view text) { logger_->log(to_spdlog(level), text); }

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
