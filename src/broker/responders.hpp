// How a request is answered: Endpoint (the ROUTER socket as responders see it), RouterResponder
// (a client's request) and LocalResponder (one module's call to another). Invariants: one final
// answer per request, later ones ignored, EIO if dropped unanswered; no Endpoint, nothing sent.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
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
class Endpoint {
 public:
  Endpoint(msg::ZmqSocket socket, Log& log) : socket_(std::move(socket)), log_(log) {}
  // [identity, (empty delimiter,) header, topic, payload]: the header from `reply`'s fields,
  // its topic, and `payload`, each straight from its buffer (no Frames built). Never blocks:
  // a reply the socket cannot take now is dropped and logged at debug level.
  void send(const std::string& identity, bool delimiter, const msg::Message& reply,
            std::string_view payload);
  // The same reply added to the peer's batch, which leaves at the next flush() (or sooner, once
  // it holds kBatchBytes): for a peer that sends batches, and so reads them.
  void queue(const std::string& identity, bool delimiter, const msg::Message& reply,
             std::string_view payload);
  // Sends every peer's batch as [identity, (empty delimiter,) batch]. The broker calls it once
  // per loop iteration, before the loop waits.
  void flush();
  void* socket() const { return socket_.get(); }

  static constexpr size_t kBatchBytes = 256 * 1024;

 private:
  struct PeerBatch {
    std::string identity;
    bool delimiter = false;
    msg::BatchWriter batch;
  };
  void send_batch(PeerBatch& peer);
  // The routing parts in front of every reply: [identity, (empty delimiter,)], never blocking.
  bool send_envelope(const std::string& identity, bool delimiter);

  msg::ZmqSocket socket_;
  Log& log_;
  // Batches being built, one per peer with replies this iteration; their buffers are reused.
  std::vector<PeerBatch> peers_;
  size_t peers_used_ = 0;
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
  void stream(std::string_view payload) override {
    if (!done_) deliver(payload);  // reply_.errnum is still 0
  }

 private:
  void deliver(std::string_view payload) override;
  std::weak_ptr<Endpoint> endpoint_;
  std::string identity_;
  bool delimiter_;
  bool batched_;
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
