// The ZAP handler (ZeroMQ RFC 27) on inproc://zeromq.zap.01: admits CURVE clients whose public
// key is in security.allowed-clients; libzmq's I/O thread waits for its answer, made on the
// reactor. Invariants: each request read gets 200 or 400; a refused key is logged 1/min at most.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "broker/log.hpp"
#include "libmsg/zmq_handle.hpp"
#include "libreactor/reactor.hpp"

namespace cairn::broker {

// The Z85 text (40 characters) of a 32-byte CURVE key.
std::string z85(const uint8_t* key32);

class ZapHandler {
 public:
  // Binds the handler in `zctx` (the context of the sockets it guards) and starts answering on
  // `loop`. `allowed` holds Z85 public keys. Throws StartupError if it cannot bind.
  ZapHandler(reactor::Loop& loop, const msg::ZmqContext& zctx, std::set<std::string> allowed,
             Log& log);

 private:
  void answer();
  // A refused client reconnects every 100 ms or so: log each key once a minute at most.
  void log_refusal(const std::string& key);

  msg::ZmqSocket socket_;
  std::set<std::string> allowed_;
  Log& log_;
  std::map<std::string, double> last_refusal_;  // key -> when last logged
  std::unique_ptr<reactor::ZmqWatcher> watcher_;
};

}  // namespace cairn::broker
