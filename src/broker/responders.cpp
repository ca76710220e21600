// Endpoint and the responders (see responders.hpp): how a reply leaves the broker. Wire: a
// reply goes out as [identity, (empty delimiter,) header, topic, payload], the delimiter echoed
// only if the request had one (a REQ-style client).
#include "broker/responders.hpp"

#include <fmt/format.h>
#include <zmq.h>

#include "libmsg/zmq_io.hpp"

namespace cairn::broker {

void Endpoint::send(const std::string& identity, bool delimiter, const msg::Message& reply,
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

void RouterResponder::deliver(std::string&& payload) {
  if (auto ep = endpoint_.lock()) ep->send(identity_, delimiter_, reply_, payload);
}

void LocalResponder::deliver(std::string&& payload) {
  reply_.payload = std::move(payload);
  on_response_(reply_);
}

}  // namespace cairn::broker
