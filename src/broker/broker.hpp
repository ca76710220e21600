// The broker core: its listening endpoint on the reactor (local:// served by the reactor itself,
// or tcp:// through a ZeroMQ ROUTER socket with CURVE), a service table by exact topic, the log
// ring, the heartbeat, the broker's Stats, and the modules its program hands it
// (doc/architecture.md; the wire side in doc/protocol.md). Invariants: everything runs on the
// loop's thread; a Responder routes its reply to the client's connection (local://) or identity
// (tcp://) and becomes a no-op once that or the broker is gone; nothing a client sends stops or
// throws out of the broker (bad input is logged and dropped, or answered with an errno, or costs a
// local:// peer its own connection).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/config.hpp"
#include "broker/log.hpp"
#include "broker/module-api/module.hpp"
#include "broker/module_spec.hpp"
#include "broker/startup_error.hpp"
#include "libmsg/zmq_handle.hpp"
#include "libreactor/reactor.hpp"
#include "libstats/stats.hpp"

namespace cairn::msg {
class ZmqReceived;
}

namespace cairn::broker {

struct BrokerOptions {
  // Endpoint to bind: local://PATH, tcp://HOST:PORT (port * picks a free one; needs CURVE).
  std::string listen;
  std::string statedir;  // exists; backing store and state files go here
  int rank = 0;
  bool log_to_stderr = true;
  // Modules to create, in order (the program's list; unit tests give their own). The Config
  // given with them declares their keys.
  ModuleSpecs modules;
};

class Endpoint;
class LocalConnection;
class LocalListener;
class ZapHandler;
class BrokerContext;

class Broker {
 public:
  // Binds the endpoint, registers the built-in services, creates opts.modules in order.
  // Throws StartupError (endpoint, CURVE) or ConfigError.
  Broker(reactor::Loop& loop, const Config& config, BrokerOptions opts);
  ~Broker();  // destroys modules in reverse creation order, then closes the socket
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // The bound endpoint (a tcp://HOST:* is resolved to the real port).
  const std::string& uri() const { return uri_; }
  // The broker's CURVE public key (Z85) for tcp://; empty otherwise.
  const std::string& server_key() const { return server_key_; }
  Log& log() { return log_; }
  const Config& config() const { return config_; }
  ModuleContext& context();

  void register_service(const std::string& topic, Handler handler);

  // Starts an orderly shutdown: stops the heartbeat, calls every on_shutdown hook and calls
  // `done` once all of them have called theirs, or after `timeout` seconds (logged).
  // A second call does nothing.
  void shutdown(std::function<void()> done, double timeout = 60.0);

  // What modules reported lost (ModuleContext::report_lost_data), in order; empty if nothing.
  const std::vector<std::string>& lost_data() const { return lost_data_; }
  // ModuleContext::accept_payloads_up_to: local:// frames this long (plus headers) are let in.
  void accept_payloads_up_to(uint64_t bytes);

 private:
  friend class BrokerContext;
  void bind(const std::string& uri);
  void bind_local(const std::string& path);
  void setup_curve();
  void on_readable();
  void dispatch(const msg::ZmqReceived& in);
  // Serves the requests of one batch frame, in order; a malformed frame is logged and dropped.
  void dispatch_batch(std::string_view identity, bool delimiter, bool user, std::string_view frame);
  // Serves the requests of one local:// frame, in order; false (logged) if it is malformed.
  bool dispatch_local(LocalConnection& conn, const std::weak_ptr<LocalConnection>& handle,
                      std::string_view frame);
  // Serves one decoded request (`decoded` says whether decoding succeeded), or logs why not,
  // naming its client as `who()`; `make_responder(req)` makes the responder that answers it; a
  // `user` (role) gets EPERM outside its topics, with `denied_hint` saying how to be an owner.
  template <typename MakeResponder, typename Who>
  void dispatch_one(bool user, std::string_view denied_hint, const util::Status& decoded,
                    msg::Message& req, MakeResponder&& make_responder, Who&& who);
  // Hands `req` to its service (ENOSYS if none; EIO if the handler throws).
  void serve(const msg::Message& req, const ResponderPtr& responder);
  void add_builtin_services();
  void heartbeat();

  reactor::Loop& loop_;
  Config config_;
  BrokerOptions opts_;
  Log log_;
  std::string uri_;
  std::string server_key_;

  std::unique_ptr<stats::Stats> stats_;
  std::unique_ptr<stats::Context> stats_ctx_;
  stats::Counter requests_;
  uint64_t requests_served_ = 0;    // requests dispatched since start, for stats.status (cairn top)
  stats::Counter replies_refused_;  // Endpoint::replies_refused(), published each heartbeat

  // local://: the listener, its connections, and who besides the broker's user and root are
  // owners (security.local-owners, resolved at start).
  std::unique_ptr<LocalListener> local_;
  std::vector<uid_t> local_owner_uids_;
  std::vector<gid_t> local_owner_gids_;
  stats::Counter slow_clients_dropped_;  // LocalListener::slow_peers_dropped(), each heartbeat

  // ZeroMQ: context, ROUTER, optional ZAP handler; `endpoint_` is what responders point to.
  // Declared in this order so the sockets close before the context terminates.
  msg::ZmqContext zctx_;
  std::shared_ptr<Endpoint> endpoint_;
  std::unique_ptr<ZapHandler> zap_;
  std::unique_ptr<reactor::ZmqWatcher> watcher_;
  std::unique_ptr<reactor::Prepare> flush_hook_;  // flushes batched replies each iteration

  std::unordered_map<std::string, Handler> services_;  // topic -> handler, looked up per request
  // The client request being dispatched: a member so that its buffers are reused from one
  // request to the next.
  msg::Message request_;
  std::vector<std::function<void()>> heartbeat_hooks_;
  std::vector<std::function<void(std::function<void()>)>> shutdown_hooks_;
  reactor::Timer heartbeat_timer_;
  std::unique_ptr<reactor::Timer> shutdown_timer_;
  bool shutting_down_ = false;
  std::vector<std::string> lost_data_;
  uint64_t payload_limit_ = 1024 * 1024;  // the largest payload a module takes; 1 MiB at least
  uint64_t frame_limit() const;           // payload_limit_ and headers, within the stream's

  std::unique_ptr<BrokerContext> context_;
  std::vector<std::unique_ptr<Module>> modules_;
};

}  // namespace cairn::broker
