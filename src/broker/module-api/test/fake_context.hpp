// cairn::broker::testing::FakeContext: a ModuleContext without a broker, for modules' unit
// tests. It holds the module's own declared configuration (set() checks a value as the broker
// would), records services, log lines, hooks and reports of lost data, answers requests
// through a recording Responder, and runs its loop until an answer comes (with a 10 s guard
// against a hang).
// Invariant: a request() returns only once answered, or after the guard fired (a test failure).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/module-api/config_key.hpp"
#include "broker/module-api/module.hpp"
#include "libreactor/reactor.hpp"
#include "libstats/stats.hpp"
#include "libtest/run_until.hpp"

namespace cairn::broker::testing {

// One answer to a request: its errno and payload (or error text); streamed parts in `parts`.
struct Reply {
  bool answered = false;
  int errnum = 0;
  std::string payload;
  std::vector<std::string> parts;
};

class RecordingResponder : public Responder {
 public:
  explicit RecordingResponder(std::shared_ptr<Reply> r) : r_(std::move(r)) {}
  void ok(std::string_view payload) override { finish(0, payload); }
  void error(int errnum, std::string_view text) override { finish(errnum, text); }
  void stream(std::string_view payload) override { r_->parts.emplace_back(payload); }
  void end() override { finish(ENODATA, {}); }

 private:
  void finish(int errnum, std::string_view payload) {
    EXPECT_FALSE(r_->answered) << "answered twice";
    r_->answered = true;
    r_->errnum = errnum;
    r_->payload.assign(payload);
  }
  std::shared_ptr<Reply> r_;
};

class FakeContext : public ModuleContext {
 public:
  // `keys`: the module's declarations (e.g. content::config_keys(backings)), all at their defaults.
  // `stats_endpoint` empty: telemetry disabled; else a real UDP endpoint, immediate mode.
  explicit FakeContext(const ConfigKeys& keys, std::string statedir = "/tmp",
                       std::string stats_endpoint = {})
      : keys_(keys),
        config_(ConfigValues::with_defaults(keys)),
        statedir_(std::move(statedir)),
        stats_(loop_, stats::Options{std::move(stats_endpoint), 1440, {}}) {}

  // Sets a key as `cairn start -o` would after parsing; "" if accepted, else why not.
  std::string set(std::string_view key, Value v) {
    for (const auto& k : keys_)
      if (k.name == key) return config_.set(k, std::move(v));
    return "undeclared key " + std::string(key);
  }

  reactor::Loop& loop() override { return loop_; }
  void register_service(const std::string& topic, Handler h) override {
    services_[topic] = std::move(h);
  }
  std::unique_ptr<stats::Context> stats_context() override {
    return stats_.context("cairn.0", 0);  // immediate: every update is a packet
  }
  const ConfigValues& config() const override { return config_; }
  const std::string& statedir() const override { return statedir_; }
  int rank() const override { return 0; }
  void log(Level, std::string_view text) override { logs_.emplace_back(text); }
  void on_heartbeat(std::function<void()> fn) override { heartbeat_ = std::move(fn); }
  void on_shutdown(std::function<void(std::function<void()>)> fn) override {
    shutdown_ = std::move(fn);
  }
  void report_lost_data(std::string what) override { lost_data_.push_back(std::move(what)); }
  void accept_payloads_up_to(uint64_t bytes) override {
    accepted_payloads_ = std::max(accepted_payloads_, bytes);
  }

  // Sends a request to a registered service; the reply may not be answered yet.
  std::shared_ptr<Reply> send(const std::string& topic, const std::string& payload = {}) {
    auto r = std::make_shared<Reply>();
    auto it = services_.find(topic);
    if (it == services_.end()) {
      ADD_FAILURE() << "no handler for " << topic;
      r->answered = true;
      r->errnum = ENOSYS;
      return r;
    }
    it->second(msg::Message::request(topic, payload, 1), std::make_shared<RecordingResponder>(r));
    return r;
  }
  // Sends a request and runs the loop until it is answered.
  Reply request(const std::string& topic, const std::string& payload = {}) {
    auto r = send(topic, payload);
    run_until([&] { return r->answered; });
    return *r;
  }
  // Runs the loop until pred() holds; false (and a test failure) after 10 s.
  template <typename Pred>
  bool run_until(Pred pred) {
    return cairn::test::run_until(loop_, pred);
  }
  // Calls the module's shutdown hook; the flag turns true when the module says it is done.
  std::shared_ptr<bool> begin_shutdown() {
    auto done = std::make_shared<bool>(false);
    if (shutdown_)
      shutdown_([done] { *done = true; });
    else
      *done = true;
    return done;
  }
  // Runs the module's shutdown hook to its end.
  void shutdown() {
    auto done = begin_shutdown();
    run_until([&] { return *done; });
  }

  std::map<std::string, Handler> services_;
  std::function<void()> heartbeat_;
  std::vector<std::string> logs_;
  std::vector<std::string> lost_data_;  // report_lost_data(), in order
  uint64_t accepted_payloads_ = 0;      // the largest accept_payloads_up_to()

 private:
  ConfigKeys keys_;
  ConfigValues config_;
  reactor::Loop loop_;
  std::string statedir_;
  stats::Stats stats_;
  std::function<void(std::function<void()>)> shutdown_;
};

}  // namespace cairn::broker::testing
