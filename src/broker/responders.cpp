// Endpoint and the responders (see responders.hpp): how a reply leaves the broker. Wire: a
// reply goes out as [identity, (empty delimiter,) header, topic, payload], or, to a request
// that came in a batch, inside the peer's batch [identity, (empty delimiter,) batch]; the
// delimiter is echoed only if the request had one (a REQ-style client).
#include "broker/responders.hpp"

#include <fmt/format.h>
#include <zmq.h>

#include <cerrno>

#include "broker/local_listener.hpp"
#include "libmsg/zmq_io.hpp"

namespace cairn::broker {

namespace {

// A reply's bytes while libzmq holds them, counted against their peer until it frees them.
struct Tracked {
  std::string bytes;
  std::shared_ptr<Endpoint::PeerQueue> queue;
};

void free_tracked(void*, void* hint) {  // on libzmq's I/O thread
  auto* t = static_cast<Tracked*>(hint);
  t->queue->bytes.fetch_sub(t->bytes.size(), std::memory_order_relaxed);
  delete t;
}

// Sends `bytes` as the last part without copying them, counted against `queue` until freed.
bool send_tracked(void* sock, std::string&& bytes,
                  const std::shared_ptr<Endpoint::PeerQueue>& queue) {
  auto* t = new Tracked{std::move(bytes), queue};
  queue->bytes.fetch_add(t->bytes.size(), std::memory_order_relaxed);
  zmq_msg_t part;
  zmq_msg_init_data(&part, t->bytes.data(), t->bytes.size(), free_tracked, t);
  if (zmq_msg_send(&part, sock, ZMQ_DONTWAIT) >= 0) return true;
  int errnum = zmq_errno();
  zmq_msg_close(&part);  // frees `t`, uncounting it
  errno = errnum;
  return false;
}

// A reply's header and topic parts, more to follow.
bool send_head(void* sock, const msg::Message& reply) {
  char header[msg::kHeaderBytes];
  msg::encode_header(reply, header);
  constexpr int kMore = ZMQ_DONTWAIT | ZMQ_SNDMORE;
  return zmq_send(sock, header, sizeof header, kMore) >= 0 &&
         zmq_send(sock, reply.topic.data(), reply.topic.size(), kMore) >= 0;
}

}  // namespace

bool Endpoint::send_envelope(const std::string& identity, bool delimiter) {
  void* s = socket_.get();
  constexpr int kMore = ZMQ_DONTWAIT | ZMQ_SNDMORE;
  return zmq_send(s, identity.data(), identity.size(), kMore) >= 0 &&
         (!delimiter || zmq_send(s, "", 0, kMore) >= 0);
}

std::shared_ptr<Endpoint::PeerQueue>& Endpoint::queue_of(const std::string& identity) {
  auto& q = queues_[identity];
  if (!q) q = std::make_shared<PeerQueue>();
  return q;
}

bool Endpoint::admit(uint64_t queued, uint64_t pending, uint64_t bytes) {
  uint64_t ahead = queued + pending;
  if (ahead == 0 || ahead + bytes <= peer_queue_limit_) return true;
  ++refused_;
  log_.log_limited("reply queue limit", Level::kWarning,
                   fmt::format("a reply of {} bytes was refused (ENOBUFS): its client has {} "
                               "bytes of replies it has not read, past broker.peer-queue-limit "
                               "({})",
                               bytes, ahead, peer_queue_limit_));
  return false;
}

msg::Message Endpoint::refusal(const msg::Message& reply, uint64_t ahead, uint64_t bytes,
                               std::string& text) const {
  msg::Message r = reply;
  r.errnum = ENOBUFS;
  text = fmt::format(
      "the reply ({} bytes) was not sent: {} bytes of earlier replies to this "
      "client are still unread, past the broker's broker.peer-queue-limit ({}); "
      "read replies as they arrive, or raise the limit",
      bytes, ahead, peer_queue_limit_);
  return r;
}

void Endpoint::send(const std::string& identity, bool delimiter, const msg::Message& reply,
                    std::string_view payload) {
  // A client that went away, or one that does not read, loses its reply; the broker
  // never blocks on it.
  void* s = socket_.get();
  bool sent = send_envelope(identity, delimiter);
  if (sent && payload.size() < kTrackBytes) {
    sent = msg::send_body(s, reply, reply.topic, payload, ZMQ_DONTWAIT);
  } else if (sent) {
    auto& queue = queue_of(identity);
    uint64_t queued = queue->bytes.load(std::memory_order_relaxed);
    if (admit(queued, 0, payload.size())) {
      sent = send_head(s, reply) && send_tracked(s, std::string(payload), queue);
    } else {
      std::string text;
      msg::Message r = refusal(reply, queued, payload.size(), text);
      sent = msg::send_body(s, r, r.topic, text, ZMQ_DONTWAIT);
    }
  }
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
    peer->queue.reset();
  }
  size_t pending = peer->batch.size();
  if (pending + payload.size() >= kTrackBytes) {
    if (!peer->queue) peer->queue = queue_of(identity);
    uint64_t queued = peer->queue->bytes.load(std::memory_order_relaxed);
    if (!admit(queued, pending, payload.size())) {
      std::string text;
      msg::Message r = refusal(reply, queued + pending, payload.size(), text);
      peer->batch.add(r, r.topic, text);
      return;
    }
  }
  peer->batch.add(reply, reply.topic, payload);
  if (peer->batch.size() >= kBatchBytes) send_batch(*peer);
}

void Endpoint::send_batch(PeerBatch& peer) {
  if (peer.batch.count() == 0) return;
  void* s = socket_.get();
  std::string& frame = peer.batch.frame();
  bool sent = send_envelope(peer.identity, peer.delimiter);
  if (sent && frame.size() < kTrackBytes) {
    sent = zmq_send(s, frame.data(), frame.size(), ZMQ_DONTWAIT) >= 0;
  } else if (sent) {
    if (!peer.queue) peer.queue = queue_of(peer.identity);
    // A large frame is handed over whole; a smaller one is copied, as zmq_send would, so the
    // batch keeps its buffer.
    std::string bytes = frame.size() >= msg::kZeroCopyBytes ? std::move(frame) : frame;
    sent = send_tracked(s, std::move(bytes), peer.queue);
  }
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

void Endpoint::sweep() {
  std::erase_if(queues_, [](const auto& kv) {
    return kv.second.use_count() == 1 && kv.second->bytes.load(std::memory_order_relaxed) == 0;
  });
}

void RouterResponder::deliver(std::string_view payload) {
  auto ep = endpoint_.lock();
  if (!ep) return;
  if (batched_)
    ep->queue(identity_, delimiter_, reply_, payload);
  else
    ep->send(identity_, delimiter_, reply_, payload);
}

void ConnectionResponder::deliver(std::string_view payload) {
  if (auto conn = conn_.lock()) conn->queue(reply_, payload);
}

void LocalResponder::deliver(std::string_view payload) {
  reply_.payload.assign(payload);
  on_response_(reply_);
}

}  // namespace cairn::broker
