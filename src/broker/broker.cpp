// Broker core (see broker.hpp): request dispatch on the ROUTER socket, responders, the ZAP
// handler that admits CURVE clients, built-in services, heartbeat and ordered shutdown.
// Wire: a client (DEALER) message arrives as [identity, header, topic, payload]; a REQ-style
// empty delimiter after the identity is accepted and echoed back.
#include "broker/broker.hpp"

#include <czmq.h>
#include <fmt/format.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "libmsg/zmq_handle.hpp"
#include "libmsg/zmq_io.hpp"

namespace cairn::broker {

namespace {

std::string hex(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

std::string z85(const uint8_t* key32) {
  char text[41];
  zmq_z85_encode(text, key32, 32);
  return text;
}

}  // namespace

// The ROUTER socket as responders see it: alive as long as the broker.
class Endpoint {
 public:
  Endpoint(msg::ZmqSocket socket, Log& log) : socket_(std::move(socket)), log_(log) {}
  // [identity, (empty delimiter,) header, topic, payload]: the header from `reply`'s fields,
  // its topic, and `payload`, each straight from its buffer (no Frames built).
  void send(const std::string& identity, bool delimiter, const msg::Message& reply,
            std::string_view payload) {
    void* s = socket_.get();
    constexpr int kMore = ZMQ_DONTWAIT | ZMQ_SNDMORE;
    // A client that went away, or one that does not read, loses its reply; the broker
    // never blocks on it.
    bool sent = zmq_send(s, identity.data(), identity.size(), kMore) >= 0 &&
                (!delimiter || zmq_send(s, "", 0, kMore) >= 0) &&
                msg::send_body(s, reply, reply.topic, payload, ZMQ_DONTWAIT);
    if (!sent)
      log_.log(Level::kDebug,
               fmt::format("reply to {} not sent: {}", reply.topic, zmq_strerror(zmq_errno())));
  }
  void* socket() const { return socket_.get(); }

 private:
  msg::ZmqSocket socket_;
  Log& log_;
};

namespace {

// Rules every responder keeps: one final answer (ok, error or end), later ones ignored (a
// service bug); a request dropped unanswered gets EIO, so its caller does not wait for a
// timeout. Subclasses deliver the messages; their destructors call answer_if_dropped().
class OnceResponder : public Responder {
 public:
  explicit OnceResponder(const msg::Message& request)
      : reply_(msg::Message::response(request, {})) {}
  void ok(std::string payload) override { finish(0, std::move(payload)); }
  void error(int errnum, std::string text) override { finish(errnum, std::move(text)); }
  void end() override { finish(ENODATA, {}); }

 protected:
  // Sends reply_ (its errnum set) with `payload`.
  virtual void deliver(std::string&& payload) = 0;
  void finish(int errnum, std::string&& payload) {
    if (done_) return;
    done_ = true;
    reply_.errnum = errnum;
    deliver(std::move(payload));
  }
  void answer_if_dropped() {
    if (done_) return;  // the common case: answered; build no error message
    finish(EIO, reply_.topic + ": the service dropped the request without answering");
  }
  msg::Message reply_;  // the response's topic, match tag and flags; no payload
  bool done_ = false;
};

// Answers one request through the ROUTER, by the client's identity.
class RouterResponder : public OnceResponder {
 public:
  RouterResponder(std::weak_ptr<Endpoint> endpoint, std::string identity, bool delimiter,
                  const msg::Message& request)
      : OnceResponder(request),
        endpoint_(std::move(endpoint)),
        identity_(std::move(identity)),
        delimiter_(delimiter) {}
  ~RouterResponder() override { answer_if_dropped(); }
  void stream(std::string payload) override {
    if (!done_) deliver(std::move(payload));  // reply_.errnum is still 0
  }

 private:
  void deliver(std::string&& payload) override {
    if (auto ep = endpoint_.lock()) ep->send(identity_, delimiter_, reply_, payload);
  }
  std::weak_ptr<Endpoint> endpoint_;
  std::string identity_;
  bool delimiter_;
};

// Answers a request one module sent another (ModuleContext::call) by calling its callback.
class LocalResponder : public OnceResponder {
 public:
  LocalResponder(const msg::Message& request, std::function<void(const msg::Message&)> on_response)
      : OnceResponder(request), on_response_(std::move(on_response)) {}
  ~LocalResponder() override { answer_if_dropped(); }
  // Module-to-module calls are plain requests: a stream's first response answers.
  void stream(std::string payload) override { ok(std::move(payload)); }

 private:
  void deliver(std::string&& payload) override {
    reply_.payload = std::move(payload);
    on_response_(reply_);
  }
  std::function<void(const msg::Message&)> on_response_;
};

}  // namespace

// ZAP handler (RFC 27) on inproc://zeromq.zap.01: admits CURVE clients whose public key is in
// security.allowed-clients. It runs on the reactor; libzmq's I/O thread waits for its answer.
class ZapHandler {
 public:
  ZapHandler(reactor::Loop& loop, const msg::ZmqContext& zctx, std::set<std::string> allowed,
             Log& log)
      : socket_(zctx, ZMQ_REP), allowed_(std::move(allowed)), log_(log) {
    if (!socket_ || zmq_bind(socket_.get(), "inproc://zeromq.zap.01") < 0)
      throw StartupError(
          "security", fmt::format("cannot start the ZAP handler: {}", zmq_strerror(zmq_errno())));
    watcher_ = std::make_unique<reactor::ZmqWatcher>(
        loop, socket_.get(), reactor::kRead, [this](reactor::ZmqWatcher&, int) { answer(); });
    watcher_->start();
  }

 private:
  void answer() {
    std::vector<std::string> req;
    if (msg::recv_frames(socket_.get(), req, ZMQ_DONTWAIT) != 1) return;
    // version, request id, domain, address, identity, mechanism, credentials...
    std::string request_id = req.size() > 1 ? req[1] : std::string();
    std::string key;
    bool allowed = false;
    if (req.size() >= 7 && req[0] == "1.0" && req[5] == "CURVE" && req[6].size() == 32) {
      key = z85(reinterpret_cast<const uint8_t*>(req[6].data()));
      allowed = allowed_.count(key) > 0;
    }
    if (!allowed) log_refusal(key.empty() ? std::string("(no CURVE key)") : key);
    msg::send_frames(socket_.get(),
                     {"1.0", request_id, allowed ? "200" : "400",
                      allowed ? "OK" : "client key not allowed", key, ""},
                     ZMQ_DONTWAIT);
  }
  // A refused client reconnects every 100 ms or so: log each key once a minute at most.
  void log_refusal(const std::string& key) {
    double now = static_cast<double>(time(nullptr));
    auto it = last_refusal_.find(key);
    if (it != last_refusal_.end() && now - it->second < 60) return;
    if (last_refusal_.size() > 1000) last_refusal_.clear();
    last_refusal_[key] = now;
    // Fresh keys defeat the per-key limit: the source's rate limit bounds the total.
    log_.log_limited("refused CURVE clients", Level::kWarning,
                     fmt::format("refused CURVE client {}: not in security.allowed-clients", key));
  }

  msg::ZmqSocket socket_;
  std::set<std::string> allowed_;
  Log& log_;
  std::map<std::string, double> last_refusal_;
  std::unique_ptr<reactor::ZmqWatcher> watcher_;
};

// What modules see of the broker.
class BrokerContext : public ModuleContext {
 public:
  explicit BrokerContext(Broker& b) : b_(b) {}
  reactor::Loop& loop() override { return b_.loop_; }
  void register_service(const std::string& topic, Handler handler) override {
    b_.register_service(topic, std::move(handler));
  }
  std::unique_ptr<stats::Context> stats_context() override {
    return b_.stats_->context(b_.config_.string("stats.prefix"), b_.config_.number("stats.period"));
  }
  const ConfigValues& config() const override { return b_.config_.values(); }
  const std::string& statedir() const override { return b_.opts_.statedir; }
  int rank() const override { return b_.opts_.rank; }
  void log(Level level, std::string_view text) override { b_.log_.log(level, text); }
  void on_heartbeat(std::function<void()> fn) override {
    b_.heartbeat_hooks_.push_back(std::move(fn));
  }
  void on_shutdown(std::function<void(std::function<void()>)> fn) override {
    b_.shutdown_hooks_.push_back(std::move(fn));
  }
  void call(msg::Message request,
            std::function<void(const msg::Message& response)> on_response) override {
    b_.serve(request, std::make_shared<LocalResponder>(request, std::move(on_response)));
  }

 private:
  Broker& b_;
};

Broker::Broker(reactor::Loop& loop, const Config& config, BrokerOptions opts)
    : loop_(loop),
      config_(config),
      opts_(std::move(opts)),
      log_(1000, opts_.log_to_stderr),
      heartbeat_timer_(loop, config.number("heartbeat.period"), config.number("heartbeat.period"),
                       [this](reactor::Timer&) { heartbeat(); }) {
  stats::Options so;
  so.endpoint = config_.string("stats.endpoint");
  so.max_packet = static_cast<size_t>(config_.integer("stats.max-packet"));
  so.log = [this](int level, const std::string& text) {
    if (level < 3) level = 3;
    if (level > 7) level = 7;
    log_.log(static_cast<Level>(level), text);  // libstats prefixes its lines with "stats: "
  };
  stats_ = std::make_unique<stats::Stats>(loop_, std::move(so));
  stats_ctx_ = stats_->context(config_.string("stats.prefix"), config_.number("stats.period"));
  requests_ = stats_ctx_->counter("broker.requests");

  bind(opts_.listen);
  watcher_ =
      std::make_unique<reactor::ZmqWatcher>(loop_, endpoint_->socket(), reactor::kRead,
                                            [this](reactor::ZmqWatcher&, int) { on_readable(); });
  watcher_->start();
  heartbeat_timer_.start();

  context_ = std::make_unique<BrokerContext>(*this);
  add_builtin_services();
  for (const auto& m : opts_.modules ? *opts_.modules : builtin_modules()) {
    auto module = m.factory(*context_);
    if (!module)
      throw StartupError(m.name, "module failed to start (see `cairn dmesg` or the log above)");
    modules_.push_back(std::move(module));
    log_.log(Level::kDebug, fmt::format("module {} loaded", m.name));
  }
  log_.log(Level::kInfo, fmt::format("broker up at {}", uri_));
}

Broker::~Broker() {
  heartbeat_timer_.stop();
  shutdown_timer_.reset();
  while (!modules_.empty()) modules_.pop_back();  // reverse creation order
  services_.clear();
  heartbeat_hooks_.clear();
  shutdown_hooks_.clear();
  watcher_.reset();
  zap_.reset();
  endpoint_.reset();  // responders still held somewhere become no-ops
  stats_ctx_.reset();
  stats_.reset();
}

ModuleContext& Broker::context() { return *context_; }

void Broker::setup_curve() {
  const std::string& path = config_.string("security.curve-cert");
  if (path.empty())
    throw ConfigError("security.curve-cert",
                      "a tcp:// endpoint requires CURVE: set security.curve-cert to the broker's "
                      "secret certificate (make one with `cairn keygen PATH`)");
  zcert_t* cert = zcert_load(path.c_str());
  if (!cert)
    throw ConfigError("security.curve-cert",
                      fmt::format("cannot load the certificate '{}' (make one with `cairn keygen "
                                  "PATH`)",
                                  path));
  uint8_t secret[32], pub[32];
  std::memcpy(secret, zcert_secret_key(cert), 32);
  std::memcpy(pub, zcert_public_key(cert), 32);
  zcert_destroy(&cert);
  static const uint8_t zeros[32] = {};
  if (std::memcmp(secret, zeros, 32) == 0)
    throw ConfigError("security.curve-cert",
                      fmt::format("'{}' holds no secret key: give the PATH_secret file that "
                                  "`cairn keygen PATH` wrote",
                                  path));
  server_key_ = z85(pub);

  const auto& clients = config_.list("security.allowed-clients");
  if (clients.empty())
    log_.log(Level::kWarning,
             "security.allowed-clients is empty: every CURVE client will be refused");
  zap_ = std::make_unique<ZapHandler>(loop_, zctx_,
                                      std::set<std::string>(clients.begin(), clients.end()), log_);
  int on = 1;
  zmq_setsockopt(endpoint_->socket(), ZMQ_CURVE_SERVER, &on, sizeof on);
  zmq_setsockopt(endpoint_->socket(), ZMQ_CURVE_SECRETKEY, secret, 32);
  const char domain[] = "cairn";
  zmq_setsockopt(endpoint_->socket(), ZMQ_ZAP_DOMAIN, domain, sizeof domain - 1);
}

void Broker::bind(const std::string& uri) {
  if (!zctx_) throw StartupError("zeromq", zmq_strerror(zmq_errno()));
  msg::ZmqSocket socket(zctx_, ZMQ_ROUTER);
  if (!socket) throw StartupError("zeromq", zmq_strerror(zmq_errno()));
  void* router = socket.get();
  endpoint_ = std::make_shared<Endpoint>(std::move(socket), log_);
  if (uri.rfind("tcp://", 0) == 0) setup_curve();
  if (zmq_bind(router, uri.c_str()) < 0)
    throw StartupError("listen", fmt::format("cannot bind {}: {}", uri, zmq_strerror(zmq_errno())));
  char last[1024];
  size_t len = sizeof last;
  if (zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, last, &len) == 0 && len > 1)
    uri_.assign(last, len - 1);
  else
    uri_ = uri;
}

void Broker::register_service(const std::string& topic, Handler handler) {
  services_[topic] = std::move(handler);
}

void Broker::on_readable() {
  // A bounded batch per wake-up keeps one busy client from starving timers; the watcher
  // calls again on the next iteration while messages remain.
  msg::ZmqReceived in;
  for (int n = 0; n < 64 && in.receive(endpoint_->socket(), ZMQ_DONTWAIT) > 0; ++n) dispatch(in);
}

void Broker::dispatch(const msg::ZmqReceived& in) {
  // [identity, (empty delimiter,) header, topic, payload]
  std::string identity(in.part(0));
  bool delimiter = in.count() == 5 && in.part(1).empty();
  msg::Message& req = request_;  // its buffers serve message after message
  if (!in.decode_into(delimiter ? 2 : 1, req, decode_error_)) {
    log_.log_limited("malformed messages", Level::kWarning,
                     fmt::format("dropped a malformed message from client {}: {}", hex(identity),
                                 decode_error_));
    // A request whose only fault is its topic is answered, so the client does not wait.
    if (decode_error_ == msg::kBadTopicError && req.type == msg::Type::kRequest) {
      req.topic = "invalid-topic";
      req.payload.clear();
      RouterResponder(endpoint_, std::move(identity), delimiter, req)
          .error(EINVAL, std::string("invalid topic: ") + msg::kBadTopicError);
    }
    return;
  }
  if (req.type != msg::Type::kRequest) {
    log_.log_limited("responses sent to the broker", Level::kWarning,
                     fmt::format("dropped a response message ({}) sent to the broker by client {}",
                                 req.topic, hex(identity)));
    return;
  }
  requests_.add(1);
  auto responder =
      std::make_shared<RouterResponder>(endpoint_, std::move(identity), delimiter, req);
  serve(req, responder);
}

void Broker::serve(const msg::Message& req, const ResponderPtr& responder) {
  auto it = services_.find(req.topic);
  if (it == services_.end()) {
    responder->error(ENOSYS, "unknown service: " + req.topic);
    return;
  }
  // Nothing a service throws may cross the reactor: log it and answer for it.
  try {
    it->second(req, responder);
  } catch (const std::exception& e) {
    log_.log(Level::kErr, fmt::format("{}: handler failed: {}", req.topic, e.what()));
    responder->error(EIO, fmt::format("{}: internal error: {}", req.topic, e.what()));
  } catch (...) {
    log_.log(Level::kErr, fmt::format("{}: handler failed", req.topic));
    responder->error(EIO, req.topic + ": internal error");
  }
}

void Broker::add_builtin_services() {
  register_service("broker.ping",
                   [](const msg::Message& req, ResponderPtr r) { r->ok(req.payload); });
  register_service("broker.dmesg",
                   [this](const msg::Message&, ResponderPtr r) { r->ok(log_.dmesg_json()); });
  register_service("stats.status", [this](const msg::Message&, ResponderPtr r) {
    stats::SelfCounters c = stats_->self_counters();
    bool enabled = stats_->enabled();
    nlohmann::json j{{"enabled", enabled},
                     {"endpoint", enabled ? config_.string("stats.endpoint") : std::string()},
                     {"packets", c.packets},
                     {"bytes", c.bytes},
                     {"send_errors", c.send_errors},
                     {"dropped_lines", c.dropped_lines},
                     {"dropped_samples", c.dropped_samples}};
    r->ok(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  });
}

void Broker::heartbeat() {
  log_.report_suppressed();
  // Hooks may register further hooks; index so growth during the loop is safe.
  for (size_t i = 0; i < heartbeat_hooks_.size(); ++i) heartbeat_hooks_[i]();
}

void Broker::shutdown(std::function<void()> done, double timeout) {
  if (shutting_down_) return;
  shutting_down_ = true;
  heartbeat_timer_.stop();
  auto pending = std::make_shared<size_t>(shutdown_hooks_.size());
  auto finish = std::make_shared<std::function<void()>>(std::move(done));
  auto complete = [this, finish]() {
    if (!*finish) return;
    if (shutdown_timer_) shutdown_timer_->stop();
    auto fn = std::move(*finish);
    *finish = nullptr;
    fn();
  };
  if (*pending == 0) {
    complete();
    return;
  }
  shutdown_timer_ = std::make_unique<reactor::Timer>(
      loop_, timeout, 0, [this, pending, timeout, complete](reactor::Timer&) {
        log_.log(Level::kErr, fmt::format("shutdown: {} module(s) did not finish within {} s; "
                                          "exiting anyway",
                                          *pending, timeout));
        complete();
      });
  shutdown_timer_->start();
  for (size_t i = 0; i < shutdown_hooks_.size(); ++i) {
    auto called = std::make_shared<bool>(false);
    shutdown_hooks_[i]([pending, called, complete]() {
      if (*called) return;  // each hook counts once
      *called = true;
      if (--*pending == 0) complete();
    });
  }
}

}  // namespace cairn::broker
