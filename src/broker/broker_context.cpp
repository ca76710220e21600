// BrokerContext (see broker_context.hpp): each method reaches into the Broker, whose friend it
// is, for exactly one thing.
#include "broker/broker_context.hpp"

#include "broker/broker.hpp"
#include "broker/responders.hpp"
#include "libstats/stats.hpp"

namespace cairn::broker {

reactor::Loop& BrokerContext::loop() { return b_.loop_; }

void BrokerContext::register_service(const std::string& topic, Handler handler) {
  b_.register_service(topic, std::move(handler));
}

std::unique_ptr<stats::Context> BrokerContext::stats_context() {
  return b_.stats_->context(b_.config_.string("stats.prefix"), b_.config_.number("stats.period"));
}

const ConfigValues& BrokerContext::config() const { return b_.config_.values(); }

const std::string& BrokerContext::statedir() const { return b_.opts_.statedir; }

int BrokerContext::rank() const { return b_.opts_.rank; }

void BrokerContext::log(Level level, std::string_view text) { b_.log_.log(level, text); }

void BrokerContext::on_heartbeat(std::function<void()> fn) {
  b_.heartbeat_hooks_.push_back(std::move(fn));
}

void BrokerContext::on_shutdown(std::function<void(std::function<void()>)> fn) {
  b_.shutdown_hooks_.push_back(std::move(fn));
}

void BrokerContext::report_lost_data(std::string what) { b_.lost_data_.push_back(std::move(what)); }

void BrokerContext::accept_payloads_up_to(uint64_t bytes) { b_.accept_payloads_up_to(bytes); }

void BrokerContext::call(msg::Message request,
                         std::function<void(const msg::Message& response)> on_response) {
  b_.serve(request, std::make_shared<LocalResponder>(request, std::move(on_response)));
}

}  // namespace cairn::broker
