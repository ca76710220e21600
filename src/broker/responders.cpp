// Endpoint and the responders (see responders.hpp): how a reply leaves the broker. Wire: a
// reply goes out as [identity, (empty delimiter,) header, topic, payload], or, to a request
// that came in a batch, inside the peer's batch [identity, (empty delimiter,) batch]; the
// delimiter is echoed only if the request had one (a REQ-style client).
#include "broker/responders.hpp"

#include <fmt/format.h>
#include <zmq.h>

#include "libmsg/zmq_io.hpp"

namespace cairn::broker {

bool Endpoint::send_envelope(const std::string& identity, bool delimiter) {
  void* s = socket_.get();
  constexpr int kMore = ZMQ_DONTWAIT | ZMQ_SNDMORE;
  return zmq_send(s, identity.data(), identity.size(), kMore) >= 0 &&
         (!delimiter || zmq_send(s, "", 0, kMore) >= 0);
}

void Endpoint::send(const std::string& identity, bool delimiter, const msg::Message& reply,
                    std::string_view payload) {
  // A client that went away, or one that does not read, loses its reply; the broker
  // never blocks on it.
  bool sent = send_envelope(identity, delimiter) &&
              msg::send_body(socket_.get(), reply, reply.topic, payload, ZMQ_DONTWAIT);
  if (!sent)
    log_.log(Level::kDebug,
             fmt::format("reply to {} not sent: {}", reply.topic, zmq_strerror(zmq_errno())));
}

void Endpoint::queue(const std::string& identity, bool delimiter, const msg::Message& reply,
                     std::string_view payload) {
  PeerBatch* peer = nullptr;
  for (size_t i = 0; i < peers_used_; ++i) {
    if (peers_[i].identity == identity && peers_[i].delimiter == delimiter) {
      peer = &peers_[i];
      break;
    }
  }
  if (!peer) {
    if (peers_used_ == peers_.size()) peers_.emplace_back();
    peer = &peers_[peers_used_++];
    peer->identity = identity;
    peer->delimiter = delimiter;
  }
  peer->batch.add(reply, reply.topic, payload);
  if (peer->batch.size() >= kBatchBytes) send_batch(*peer);
}

void Endpoint::send_batch(PeerBatch& peer) {
  if (peer.batch.count() == 0) return;
  bool sent = send_envelope(peer.identity, peer.delimiter) &&
              msg::send_frame(socket_.get(), peer.batch.frame(), ZMQ_DONTWAIT);
  if (!sent)
    log_.log(Level::kDebug, fmt::format("batch of {} replies not sent: {}", peer.batch.count(),
                                        zmq_strerror(zmq_errno())));
  peer.batch.clear();
}

void Endpoint::flush() {
  for (size_t i = 0; i < peers_used_; ++i) send_batch(peers_[i]);
  peers_used_ = 0;
  // Keep a few buffers for the next iteration, not one per peer ever seen.
  constexpr size_t kKept = 8;
  if (peers_.size() > kKept) peers_.resize(kKept);
}

void RouterResponder::deliver(std::string_view payload) {
  auto ep = endpoint_.lock();
  if (!ep) return;
  if (batched_)
    ep->queue(identity_, delimiter_, reply_, payload);
  else
    ep->send(identity_, delimiter_, reply_, payload);
}

void LocalResponder::deliver(std::string_view payload) {
  reply_.payload.assign(payload);
  on_response_(reply_);
}

}  // namespace cairn::broker
