// The ZAP handler (ZeroMQ RFC 27) on inproc://zeromq.zap.01: admits CURVE clients whose public
// key is in security.allowed-clients (role owner) or security.user-clients (role user);
// libzmq's I/O thread waits for its answer, made on the reactor. The ZAP user id, which libzmq
// attaches to every message of the connection ("User-Id"), is "<role> <key>".
// Invariants: each request read gets 200 or 400; a refused key is logged 1/min at most.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "broker/log.hpp"
#include "libmsg/zmq_handle.hpp"
#include "libreactor/reactor.hpp"

namespace cairn::broker {

// The Z85 text (40 characters) of a 32-byte CURVE key.
std::string z85(const uint8_t* key32);

class ZapHandler {
 public:
  // Binds the handler in `zctx` (the context of the sockets it guards) and starts answering on
  // `loop`. `owners` and `users` hold Z85 public keys; a key in both is an owner. Throws
  // StartupError if it cannot bind.
  ZapHandler(reactor::Loop& loop, const msg::ZmqContext& zctx, std::set<std::string> owners,
             std::set<std::string> users, Log& log);

  // The role a message's "User-Id" property gives (nullptr: no ZAP).
  static bool is_user(const char* user_id) {
    return user_id && std::string_view(user_id).substr(0, 5) == "user ";
  }

 private:
  void answer();
  // A refused client reconnects every 100 ms or so: log each key once a minute at most.
  void log_refusal(const std::string& key);

  msg::ZmqSocket socket_;
  std::set<std::string> owners_, users_;
  Log& log_;
  std::map<std::string, double> last_refusal_;  // key -> when last logged
  std::unique_ptr<reactor::ZmqWatcher> watcher_;
};

}  // namespace cairn::broker
