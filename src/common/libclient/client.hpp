// cairn::client: a connection to a cairn broker, over local:// (a Unix stream socket, read and
// written here with plain system calls) or tcp:// (a ZeroMQ DEALER socket with CURVE). One
// connection carries any number of requests in flight; each request gets a fresh match tag and
// every response is matched to its request by that tag. Responses whose tag is not in flight (late,
// duplicate, foreign) are dropped. A streaming request stays in flight until its terminating
// response (errnum ENODATA, or any other error). Responses received while waiting for another tag
// are kept, in order, for the next recv(). Blocking and single-threaded: one Client per thread.
//
// Batching (corking): send() queues its request; the queue leaves as one batch (one frame in one
// write on local://, one message on tcp://; doc/protocol.md) when the caller next has to wait
// for a response, calls flush(), or the queue reaches its bound. A caller that pipelines thus
// batches without asking, and a lone request leaves as soon as its caller waits for the answer.
// A request that cannot be sent comes back as a response with the errno and "cannot send the
// request: ...". While a large batch is being written, responses that arrive are read and kept,
// so a client and broker that both write never wait on each other.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "libmsg/batch.hpp"
#include "libmsg/message.hpp"
#include "libutil/result.hpp"

namespace cairn::client {

// One response (or a local failure such as a timeout, reported the same way).
struct Response {
  std::string topic;
  uint32_t matchtag = 0;
  int errnum = 0;       // 0: success
  std::string payload;  // the reply; on error the server's (or client's) text, may be empty

  bool ok() const { return errnum == 0; }
  // For messages: the error text if there is one, else strerror(errnum). Empty when ok().
  std::string error_text() const;
};

// How a Client moves batches: local:// or tcp:// (client.cpp).
class Transport;

class Client {
 public:
  // Connects to `uri`, or to $CAIRN_URI when `uri` is empty: local://PATH, or tcp://HOST:PORT
  // with CURVE, using the client certificate named by $CAIRN_CLIENT_CERT and the broker's
  // public key in $CAIRN_SERVER_KEY. The reply timeout comes from $CAIRN_RPC_TIMEOUT (seconds,
  // default 60). A socket that is not there, a refused tcp:// connection or a host name that
  // does not resolve fails here, at once. On failure the Error's text reads `<what>: <why>`,
  // for `cairn: <text>` (e.g. "CAIRN_URI is not set: run the command under `cairn start`,
  // ..."); its errno is EINVAL for a missing or malformed setting (an ipc:// URI among them:
  // that transport is retired), else the system's (ENOENT, ECONNREFUSED, ...).
  static util::Result<Client> connect(std::string_view uri = {});

  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  // A request still queued is not sent: call flush() first to send requests whose replies
  // will never be waited for. Nothing sent is waited for.
  ~Client();

  // Sends a request and waits for its one response (at most timeout()). A timeout is reported
  // as errnum ETIMEDOUT with the text the user should see.
  Response rpc(std::string_view topic, std::string_view payload = {});

  // Queues a request (see Batching above); returns its match tag. With a batch limit of 1 the
  // request is sent at once instead, and 0 is returned (errno set) if that fails.
  uint32_t send(std::string_view topic, std::string_view payload = {}, uint32_t flags = 0);

  // Sends the queued requests now, as one message. Every receive does this first.
  void flush();

  // Requests per batch message (default kDefaultBatchLimit); 1 sends each request as its own
  // message, at once. A batch also leaves once it holds kBatchBytes.
  static constexpr size_t kDefaultBatchLimit = 256;
  static constexpr size_t kBatchBytes = 256 * 1024;
  void set_batch_limit(size_t limit) {
    flush();
    batch_limit_ = limit < 1 ? 1 : limit;
  }

  // Waits up to `timeout` for the next response to any request in flight. Returns ETIMEDOUT
  // (matchtag 0) when none arrives in time.
  Response recv(std::chrono::milliseconds timeout);
  Response recv() { return recv(timeout_); }

  // Waits up to `timeout` for the next response to the request `matchtag`; responses to other
  // requests that arrive meanwhile are kept for recv().
  Response recv_for(uint32_t matchtag, std::chrono::milliseconds timeout);

  // How many requests are awaiting (more) responses.
  size_t in_flight() const { return in_flight_.size(); }

  // For a caller's own event loop (libcairn's cairn_pollfd/cairn_pollevents): a descriptor that
  // polls readable when a response may have arrived; then recv(0ms) until it times out. On
  // tcp:// it is ZeroMQ's ZMQ_FD, which signals edges only: check has_ready() before sleeping
  // on it. -1 if there is none.
  int pollfd() const;
  // True when recv(0ms) has a response, or bytes or a message that may hold one, to return at
  // once. On tcp:// reading ZMQ_EVENTS here also re-arms pollfd()'s edge.
  bool has_ready();

  std::chrono::milliseconds timeout() const { return timeout_; }
  void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }
  const std::string& uri() const { return uri_; }

 private:
  struct Pending {
    std::string topic;
    bool streaming;
  };

  Client();
  // Receives at least one message (a single response or a batch), waiting up to `timeout`,
  // and appends the responses in it to tags in flight to ready_; ETIMEDOUT if none came, or
  // the errno with "receive: <reason>". Malformed messages and responses to tags not in flight
  // are dropped. Flushes the queue first.
  util::Status receive_some(std::chrono::milliseconds timeout);
  // Adds a received response to ready_ if its tag is in flight, settling the tag when it is the
  // request's last response.
  void accept(msg::Message& m);
  // The Response a failed receive_some() gives the caller waiting for `matchtag`.
  Response read_failure(const util::Error& error, uint32_t matchtag, std::string topic) const;
  // Forgets the request at `it`, keeping its node for send() to reuse.
  void forget(std::unordered_map<uint32_t, Pending>::iterator it);
  // Registers `tag` as in flight.
  void track(uint32_t tag, std::string_view topic, bool streaming);
  Response timeout_response(uint32_t matchtag, std::string topic) const;

  // Fails each queued request with `error`, so no caller waits for a reply that cannot come.
  void fail_queued(const util::Error& error);
  // How long a send may wait for room (the reply timeout), in milliseconds.
  int send_wait_ms() const;

  std::unique_ptr<Transport> transport_;
  std::string uri_;
  std::chrono::milliseconds timeout_{60000};
  uint32_t next_tag_ = 1;
  std::unordered_map<uint32_t, Pending> in_flight_;
  // Nodes of answered requests, reused by send(): once warm, a request allocates nothing.
  static constexpr size_t kSpareNodes = 256;
  std::vector<std::unordered_map<uint32_t, Pending>::node_type> spare_;
  std::deque<Response> ready_;  // received, not yet handed to the caller
  size_t batch_limit_ = kDefaultBatchLimit;
  msg::BatchWriter queued_;            // requests sent but not yet flushed
  std::vector<uint32_t> queued_tags_;  // their tags, to fail them if the batch cannot be sent
};

// Reads $CAIRN_RPC_TIMEOUT (default 60 s): EINVAL, "'<value>' is not a positive number of
// seconds", when it is set but not a positive number.
util::Result<std::chrono::milliseconds> timeout_from_env();

}  // namespace cairn::client
