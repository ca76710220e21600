// ZapHandler (see zap_handler.hpp). A ZAP request is [version, request id, domain, address,
// identity, mechanism, credentials...]; the reply [version, request id, status code, status
// text, user id, metadata] names the client's key as its user id.
#include "broker/zap_handler.hpp"

#include <fmt/format.h>
#include <zmq.h>

#include <ctime>
#include <vector>

#include "broker/startup_error.hpp"
#include "libmsg/zmq_io.hpp"

namespace cairn::broker {

std::string z85(const uint8_t* key32) {
  char text[41];
  zmq_z85_encode(text, key32, 32);
  return text;
}

ZapHandler::ZapHandler(reactor::Loop& loop, const msg::ZmqContext& zctx,
                       std::set<std::string> owners, std::set<std::string> users, Log& log)
    : socket_(zctx, ZMQ_REP), owners_(std::move(owners)), users_(std::move(users)), log_(log) {
  if (!socket_ || zmq_bind(socket_.get(), "inproc://zeromq.zap.01") < 0)
    throw StartupError("security",
                       fmt::format("cannot start the ZAP handler: {}", zmq_strerror(zmq_errno())));
  watcher_ = std::make_unique<reactor::ZmqWatcher>(loop, socket_.get(), reactor::kRead,
                                                   [this](reactor::ZmqWatcher&, int) { answer(); });
  watcher_->start();
}

void ZapHandler::answer() {
  std::vector<std::string> req;
  if (msg::recv_frames(socket_.get(), req, ZMQ_DONTWAIT) != 1) return;
  // version, request id, domain, address, identity, mechanism, credentials...
  std::string request_id = req.size() > 1 ? req[1] : std::string();
  std::string key;
  const char* role = nullptr;
  if (req.size() >= 7 && req[0] == "1.0" && req[5] == "CURVE" && req[6].size() == 32) {
    key = z85(reinterpret_cast<const uint8_t*>(req[6].data()));
    if (owners_.count(key))
      role = "owner";
    else if (users_.count(key))
      role = "user";
  }
  if (!role) log_refusal(key.empty() ? std::string("(no CURVE key)") : key);
  msg::send_frames(socket_.get(),
                   {"1.0", request_id, role ? "200" : "400", role ? "OK" : "client key not allowed",
                    role ? std::string(role) + " " + key : key, ""},
                   ZMQ_DONTWAIT);
}

void ZapHandler::log_refusal(const std::string& key) {
  double now = static_cast<double>(time(nullptr));
  auto it = last_refusal_.find(key);
  if (it != last_refusal_.end() && now - it->second < 60) return;
  if (last_refusal_.size() > 1000) last_refusal_.clear();
  last_refusal_[key] = now;
  // Fresh keys defeat the per-key limit: the source's rate limit bounds the total.
  log_.log_limited("refused CURVE clients", Level::kWarning,
                   fmt::format("refused CURVE client {}: not in security.allowed-clients or "
                               "security.user-clients",
                               key));
}

}  // namespace cairn::broker
