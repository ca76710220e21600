// Broker (see broker.hpp): request dispatch from local:// connections (local_listener.hpp) and
// the tcp:// ROUTER socket, the built-in services, the heartbeat and ordered shutdown; replies
// leave through responders.hpp, CURVE clients are admitted by zap_handler.hpp. Wire: a local://
// frame is one batch; a ZeroMQ client (DEALER) message arrives as [identity, header, topic,
// payload] or [identity, batch]; a REQ-style empty delimiter after the identity is accepted and
// echoed back.
#include "broker/broker.hpp"

#include <czmq.h>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "broker/broker_context.hpp"
#include "broker/local_listener.hpp"
#include "broker/responders.hpp"
#include "broker/zap_handler.hpp"
#include "libmsg/zmq_handle.hpp"
#include "libmsg/zmq_io.hpp"

namespace cairn::broker {

namespace {

// What a client with the user role may ask for: the content cache, telemetry status, ping. Not
// jobs, plugins, the log or anything a module adds later.
bool user_may(std::string_view topic) {
  return topic.starts_with("content.") || topic.starts_with("stats.") || topic == "broker.ping";
}

std::string hex(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

constexpr std::string_view kLocalScheme = "local://";

// Room for a batch of small requests, or one request with the largest payload a module takes
// (ModuleContext::accept_payloads_up_to), and its headers.
constexpr uint64_t kFrameOverhead = 64 * 1024;

constexpr std::string_view kCurveUserHint =
    "this client's key is in security.user-clients, which allows content.*, stats.* and "
    "broker.ping; list it in security.allowed-clients (owners) for everything";

}  // namespace

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
    log_.log(level_from_syslog(level), text);  // libstats prefixes its lines with "stats: "
  };
  stats_ = std::make_unique<stats::Stats>(loop_, std::move(so));
  stats_ctx_ = stats_->context(config_.string("stats.prefix"), config_.number("stats.period"));
  requests_ = stats_ctx_->counter("broker.requests");
  replies_refused_ = stats_ctx_->counter("broker.replies-refused");
  slow_clients_dropped_ = stats_ctx_->counter("broker.clients-dropped");

  bind(opts_.listen);
  if (endpoint_) {
    watcher_ =
        std::make_unique<reactor::ZmqWatcher>(loop_, endpoint_->socket(), reactor::kRead,
                                              [this](reactor::ZmqWatcher&, int) { on_readable(); });
    watcher_->start();
  }
  // Replies to batches leave once per loop iteration, before the loop waits.
  flush_hook_ = std::make_unique<reactor::Prepare>(loop_, [this](reactor::Prepare&) {
    if (local_) local_->flush();
    if (endpoint_) endpoint_->flush();
  });
  flush_hook_->start();
  heartbeat_timer_.start();

  context_ = std::make_unique<BrokerContext>(*this);
  add_builtin_services();
  for (const auto& m : opts_.modules) {
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
  // Replies queued since the last iteration, including any EIO above.
  if (local_) local_->flush();
  if (endpoint_) endpoint_->flush();
  flush_hook_.reset();
  local_.reset();
  watcher_.reset();
  zap_.reset();
  endpoint_.reset();  // responders still held somewhere become no-ops
  stats_ctx_.reset();
  stats_.reset();
}

ModuleContext& Broker::context() { return *context_; }

uint64_t Broker::frame_limit() const {
  return std::min(msg::kMaxStreamFrame, payload_limit_ + kFrameOverhead);
}

void Broker::accept_payloads_up_to(uint64_t bytes) {
  payload_limit_ = std::max(payload_limit_, bytes);
  if (local_) local_->set_max_frame(frame_limit());
}

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

  const auto& owners = config_.list("security.allowed-clients");
  const auto& users = config_.list("security.user-clients");
  if (owners.empty() && users.empty())
    log_.log(Level::kWarning,
             "security.allowed-clients and security.user-clients are empty: every CURVE client "
             "will be refused");
  zap_ = std::make_unique<ZapHandler>(loop_, zctx_,
                                      std::set<std::string>(owners.begin(), owners.end()),
                                      std::set<std::string>(users.begin(), users.end()), log_);
  int on = 1;
  zmq_setsockopt(endpoint_->socket(), ZMQ_CURVE_SERVER, &on, sizeof on);
  zmq_setsockopt(endpoint_->socket(), ZMQ_CURVE_SECRETKEY, secret, 32);
  const char domain[] = "cairn";
  zmq_setsockopt(endpoint_->socket(), ZMQ_ZAP_DOMAIN, domain, sizeof domain - 1);
}

void Broker::bind(const std::string& uri) {
  if (uri.starts_with(kLocalScheme)) {
    bind_local(uri.substr(kLocalScheme.size()));
    return;
  }
  if (uri.starts_with("ipc://"))
    throw StartupError("listen", fmt::format("{}: ipc:// is retired: local clients connect to "
                                             "local://PATH (the default, in the statedir); give "
                                             "--listen local://{}",
                                             uri, uri.substr(6)));
  if (!uri.starts_with("tcp://"))
    throw StartupError("listen", fmt::format("'{}' is not an endpoint cairn can listen on: give "
                                             "local://PATH or tcp://HOST:PORT",
                                             uri));
  if (!zctx_) throw StartupError("zeromq", zmq_strerror(zmq_errno()));
  msg::ZmqSocket socket(zctx_, ZMQ_ROUTER);
  if (!socket) throw StartupError("zeromq", zmq_strerror(zmq_errno()));
  void* router = socket.get();
  endpoint_ = std::make_shared<Endpoint>(
      std::move(socket), log_, static_cast<uint64_t>(config_.integer("broker.peer-queue-limit")));
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

void Broker::bind_local(const std::string& path) {
  // Owners besides the broker's own user and root, by user name or group name.
  for (const std::string& name : config_.list("security.local-owners")) {
    char buf[16384];
    struct passwd pw, *user = nullptr;
    if (getpwnam_r(name.c_str(), &pw, buf, sizeof buf, &user) == 0 && user)
      local_owner_uids_.push_back(user->pw_uid);
    struct group gr, *group = nullptr;
    if (getgrnam_r(name.c_str(), &gr, buf, sizeof buf, &group) == 0 && group) {
      local_owner_gids_.push_back(group->gr_gid);
      for (char** member = group->gr_mem; *member; ++member) {
        char mbuf[16384];
        struct passwd mpw, *m = nullptr;
        if (getpwnam_r(*member, &mpw, mbuf, sizeof mbuf, &m) == 0 && m)
          local_owner_uids_.push_back(m->pw_uid);
      }
    }
  }
  LocalListener::Limits limits{frame_limit(),
                               static_cast<uint64_t>(config_.integer("broker.peer-queue-limit"))};
  auto is_owner = [this, self = geteuid()](uid_t uid, gid_t gid) {
    return uid == 0 || uid == self ||
           std::find(local_owner_uids_.begin(), local_owner_uids_.end(), uid) !=
               local_owner_uids_.end() ||
           std::find(local_owner_gids_.begin(), local_owner_gids_.end(), gid) !=
               local_owner_gids_.end();
  };
  local_ = std::make_unique<LocalListener>(
      loop_, path, log_, limits, std::move(is_owner),
      [this](LocalConnection& conn, const std::weak_ptr<LocalConnection>& handle,
             std::string_view frame) { return dispatch_local(conn, handle, frame); });
  uri_ = std::string(kLocalScheme) + path;
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
  // [identity, (empty delimiter,) batch] or [identity, (empty delimiter,) header, topic, payload]
  std::string_view identity = in.part(0);
  size_t count = in.count();
  bool batch_delimiter = count == 3 && in.part(1).empty();
  size_t batch_at = batch_delimiter ? 2 : 1;
  // A CURVE client's role rides on every part the client sent (ZapHandler); the identity part
  // is the ROUTER's own and carries none.
  bool user = zap_ && count > 1 && ZapHandler::is_user(in.property(1, "User-Id"));
  if (count == batch_at + 1 && msg::looks_like_batch(in.part(batch_at))) {
    dispatch_batch(identity, batch_delimiter, user, in.part(batch_at));
    return;
  }
  bool delimiter = count == 5 && in.part(1).empty();
  msg::Message& req = request_;  // its buffers serve message after message
  util::Status st = in.decode_into(delimiter ? 2 : 1, req);
  dispatch_one(
      user, kCurveUserHint, st, req,
      [&](const msg::Message& r) {
        return std::make_shared<RouterResponder>(endpoint_, std::string(identity), delimiter, false,
                                                 r);
      },
      [&] { return hex(identity); });
}

void Broker::dispatch_batch(std::string_view identity, bool delimiter, bool user,
                            std::string_view frame) {
  auto batch = msg::BatchReader::open(frame);
  if (!batch) {
    log_.log_limited("malformed messages", Level::kWarning,
                     fmt::format("dropped a malformed message from client {}: {}", hex(identity),
                                 batch.error().text));
    return;
  }
  // In order: a batch's requests are served as if they had come one by one.
  while (!batch->done()) {
    util::Status st = batch->next(request_);
    dispatch_one(
        user, kCurveUserHint, st, request_,
        [&](const msg::Message& req) {
          return std::make_shared<RouterResponder>(endpoint_, std::string(identity), delimiter,
                                                   true, req);
        },
        [&] { return hex(identity); });
  }
}

bool Broker::dispatch_local(LocalConnection& conn, const std::weak_ptr<LocalConnection>& handle,
                            std::string_view frame) {
  auto batch = msg::BatchReader::open(frame);
  if (!batch) {
    log_.log_limited("malformed messages", Level::kWarning,
                     fmt::format("closed the local:// connection of {}: a malformed frame: {}",
                                 conn.describe(), batch.error().text));
    return false;
  }
  bool user = !conn.peer().owner;
  std::string hint;
  if (user)
    hint = fmt::format(
        "uid {} is not an owner of this broker, so it may use content.*, "
        "stats.* and broker.ping only; name its user or group in "
        "security.local-owners for everything",
        conn.peer().uid);
  while (!batch->done()) {
    util::Status st = batch->next(request_);
    dispatch_one(
        user, hint, st, request_,
        [&](const msg::Message& req) { return std::make_shared<ConnectionResponder>(handle, req); },
        [&] { return conn.describe(); });
  }
  return true;
}

template <typename MakeResponder, typename Who>
void Broker::dispatch_one(bool user, std::string_view denied_hint, const util::Status& decoded,
                          msg::Message& req, MakeResponder&& make_responder, Who&& who) {
  if (!decoded) {
    const std::string& why = decoded.error().text;
    log_.log_limited("malformed messages", Level::kWarning,
                     fmt::format("dropped a malformed message from client {}: {}", who(), why));
    // A request whose only fault is its topic is answered, so the client does not wait.
    if (why == msg::kBadTopicError && req.type == msg::Type::kRequest) {
      req.topic = "invalid-topic";
      req.payload.clear();
      make_responder(req)->error(EINVAL, std::string("invalid topic: ") + msg::kBadTopicError);
    }
    return;
  }
  if (req.type != msg::Type::kRequest) {
    log_.log_limited("responses sent to the broker", Level::kWarning,
                     fmt::format("dropped a response message ({}) sent to the broker by client {}",
                                 req.topic, who()));
    return;
  }
  requests_.add(1);
  ++requests_served_;
  ResponderPtr responder = make_responder(req);
  if (user && !user_may(req.topic)) {
    responder->error(EPERM, fmt::format("{}: permission denied: {}", req.topic, denied_hint));
    return;
  }
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
                     {"dropped_samples", c.dropped_samples},
                     {"invalid_names", c.invalid_names},
                     {"requests", requests_served_}};
    r->ok(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  });
}

void Broker::heartbeat() {
  log_.report_suppressed();
  if (endpoint_) {
    endpoint_->sweep();
    replies_refused_.total(static_cast<int64_t>(endpoint_->replies_refused()));
  }
  if (local_) slow_clients_dropped_.total(static_cast<int64_t>(local_->slow_peers_dropped()));
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
