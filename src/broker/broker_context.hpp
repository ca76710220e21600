// BrokerContext: the ModuleContext (module.hpp) the broker gives its modules, every call
// forwarded to the Broker that owns it. Invariants: it lives no longer than its Broker, and is
// used only on the loop's thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "broker/module-api/module.hpp"

namespace cairn::broker {

class Broker;

class BrokerContext : public ModuleContext {
 public:
  explicit BrokerContext(Broker& b) : b_(b) {}
  reactor::Loop& loop() override;
  void register_service(const std::string& topic, Handler handler) override;
  // A new context with stats.prefix and stats.period, on the broker's Stats.
  std::unique_ptr<stats::Context> stats_context() override;
  const ConfigValues& config() const override;
  const std::string& statedir() const override;
  int rank() const override;
  void log(Level level, std::string_view text) override;
  void on_heartbeat(std::function<void()> fn) override;
  void on_shutdown(std::function<void(std::function<void()>)> fn) override;
  // Kept in the Broker, in order (Broker::lost_data()).
  void report_lost_data(std::string what) override;
  void accept_payloads_up_to(uint64_t bytes) override;
  // Serves `request` as the broker serves a client's, answered through a LocalResponder.
  void call(msg::Message request,
            std::function<void(const msg::Message& response)> on_response) override;

 private:
  Broker& b_;
};

}  // namespace cairn::broker
