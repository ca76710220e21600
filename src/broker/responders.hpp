// How a request is answered: Endpoint (the ROUTER socket as responders see it), RouterResponder
// (a tcp:// client's request), ConnectionResponder (a local:// client's request) and
// LocalResponder (one module's call to another). Invariants: one final
// answer per request, later ones ignored, EIO if dropped unanswered; no Endpoint, nothing sent.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/log.hpp"
#include "broker/module-api/module.hpp"
#include "libmsg/batch.hpp"
#include "libmsg/message.hpp"
#include "libmsg/zmq_handle.hpp"

namespace cairn::broker {

// The ROUTER socket as responders see it: the Broker owns it and destroys it first at shutdown;
// responders hold a weak_ptr to it.
//
// Bounded replies: ZeroMQ keeps the replies a peer has not read yet, up to a count of messages
// however large each is. So every reply or batch of kTrackBytes or more is handed over without
// a copy, and its bytes are counted against its peer until libzmq frees it (written to the
// connection, or dropped). A reply that would take a peer past `peer_queue_limit` bytes is
// replaced by an ENOBUFS error; one reply is always let through to a peer with nothing queued,
// so any single reply can be read. Smaller replies are copied and not counted: ZeroMQ's
// high-water mark (1000 messages) bounds those to about 4 MB a peer.
class Endpoint {
 public:
  Endpoint(msg::ZmqSocket socket, Log& log, uint64_t peer_queue_limit)
      : socket_(std::move(socket)), log_(log), peer_queue_limit_(peer_queue_limit) {}
  // [identity, (empty delimiter,) header, topic, payload]: the header from `reply`'s fields,
  // its topic, and `payload`. Never blocks: a reply the socket cannot take now is dropped and
  // logged at debug level.
  void send(const std::string& identity, bool delimiter, const msg::Message& reply,
            std::string_view payload);
  // The same reply added to the peer's batch, which leaves at the next flush() (or sooner, once
  // it holds kBatchBytes): for a peer that sends batches, and so reads them.
  void queue(const std::string& identity, bool delimiter, const msg::Message& reply,
             std::string_view payload);
  // Sends every peer's batch as [identity, (empty delimiter,) batch]. The broker calls it once
  // per loop iteration, before the loop waits.
  void flush();
  // Forgets the peers with nothing queued (call it now and then: from the heartbeat).
  void sweep();
  void* socket() const { return socket_.get(); }
  // Replies replaced by ENOBUFS because their peer was not reading (total).
  uint64_t replies_refused() const { return refused_; }

  static constexpr size_t kBatchBytes = 256 * 1024;
  static constexpr size_t kTrackBytes = 4096;

  // Bytes of one peer's replies that libzmq holds. Shared with the messages in flight, whose
  // free callbacks (on libzmq's I/O thread) subtract their bytes.
  struct PeerQueue {
    std::atomic<uint64_t> bytes{0};
  };

 private:
  struct PeerBatch {
    std::string identity;
    bool delimiter = false;
    msg::BatchWriter batch;
    std::shared_ptr<PeerQueue> queue;  // looked up once the batch reaches kTrackBytes
  };
  void send_batch(PeerBatch& peer);
  // The routing parts in front of every reply: [identity, (empty delimiter,)], never blocking.
  bool send_envelope(const std::string& identity, bool delimiter);
  std::shared_ptr<PeerQueue>& queue_of(const std::string& identity);
  // Whether `bytes` more (after `pending` not yet handed over) may go to a peer with `queued`
  // bytes in libzmq; if not, counts and logs the refusal.
  bool admit(uint64_t queued, uint64_t pending, uint64_t bytes);
  // The ENOBUFS reply (fields, and its `text`) sent instead of one of `bytes` to a peer with
  // `ahead` bytes unread.
  msg::Message refusal(const msg::Message& reply, uint64_t ahead, uint64_t bytes,
                       std::string& text) const;

  msg::ZmqSocket socket_;
  Log& log_;
  uint64_t peer_queue_limit_;
  uint64_t refused_ = 0;
  // Batches being built, one per peer with replies this iteration; their buffers are reused.
  std::vector<PeerBatch> peers_;
  size_t peers_used_ = 0;
  std::unordered_map<std::string, std::shared_ptr<PeerQueue>> queues_;
};

// Rules every responder keeps: one final answer (ok, error or end), later ones ignored (a
// service bug); a request dropped unanswered gets EIO, so its caller does not wait for a
// timeout. Subclasses deliver the messages; their destructors call answer_if_dropped().
class OnceResponder : public Responder {
 public:
  explicit OnceResponder(const msg::Message& request)
      : reply_(msg::Message::response(request, {})) {}
  void ok(std::string_view payload) override { finish(0, payload); }
  void error(int errnum, std::string_view text) override { finish(errnum, text); }
  void end() override { finish(ENODATA, {}); }
  // A streamed response goes out as it is, until the final answer.
  void stream(std::string_view payload) override {
    if (!done_) deliver(payload);  // reply_.errnum is still 0
  }

 protected:
  // Sends reply_ (its errnum set) with `payload`.
  virtual void deliver(std::string_view payload) = 0;
  void finish(int errnum, std::string_view payload) {
    if (done_) return;
    done_ = true;
    reply_.errnum = errnum;
    deliver(payload);
  }
  void answer_if_dropped() {
    if (done_) return;  // the common case: answered; build no error message
    finish(EIO, reply_.topic + ": the service dropped the request without answering");
  }
  msg::Message reply_;  // the response's topic, match tag and flags; no payload
  bool done_ = false;
};

// Answers one request through the ROUTER, by the client's identity.
class RouterResponder final : public OnceResponder {
 public:
  // `batched`: the request came in a batch, so its replies join the peer's batch.
  RouterResponder(std::weak_ptr<Endpoint> endpoint, std::string identity, bool delimiter,
                  bool batched, const msg::Message& request)
      : OnceResponder(request),
        endpoint_(std::move(endpoint)),
        identity_(std::move(identity)),
        delimiter_(delimiter),
        batched_(batched) {}
  ~RouterResponder() override { answer_if_dropped(); }

 private:
  void deliver(std::string_view payload) override;
  std::weak_ptr<Endpoint> endpoint_;
  std::string identity_;
  bool delimiter_;
  bool batched_;
};

class LocalConnection;

// Answers one request of a local:// connection: the reply joins the connection's batch of this
// loop iteration (local_listener.hpp); nothing is sent once the connection is gone.
class ConnectionResponder final : public OnceResponder {
 public:
  ConnectionResponder(std::weak_ptr<LocalConnection> conn, const msg::Message& request)
      : OnceResponder(request), conn_(std::move(conn)) {}
  ~ConnectionResponder() override { answer_if_dropped(); }

 private:
  void deliver(std::string_view payload) override;
  std::weak_ptr<LocalConnection> conn_;
};

// Answers a request one module sent another (ModuleContext::call) by calling its callback.
class LocalResponder final : public OnceResponder {
 public:
  LocalResponder(const msg::Message& request, std::function<void(const msg::Message&)> on_response)
      : OnceResponder(request), on_response_(std::move(on_response)) {}
  ~LocalResponder() override { answer_if_dropped(); }
  // Module-to-module calls are plain requests: a stream's first response answers.
  void stream(std::string_view payload) override { ok(payload); }

 private:
  void deliver(std::string_view payload) override;
  std::function<void(const msg::Message&)> on_response_;
};

}  // namespace cairn::broker
