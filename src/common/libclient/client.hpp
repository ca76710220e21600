// cairn::client: a connection to a cairn broker. One DEALER socket carries any number of
// requests in flight; each request gets a fresh match tag and every response is matched to its
// request by that tag. Responses whose tag is not in flight (late, duplicate, foreign) are
// dropped. A streaming request stays in flight until its terminating response (errnum ENODATA,
// or any other error). Responses received while waiting for another tag are kept, in order,
// for the next recv(). Blocking and single-threaded: one Client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "libmsg/message.hpp"
#include "libmsg/zmq_handle.hpp"
#include "libmsg/zmq_io.hpp"
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

class Client {
 public:
  // Connects to `uri`, or to $CAIRN_URI when `uri` is empty. For tcp:// URIs, CURVE is used
  // with the client certificate named by $CAIRN_CLIENT_CERT and the broker's public key in
  // $CAIRN_SERVER_KEY. The reply timeout comes from $CAIRN_RPC_TIMEOUT (seconds, default 60).
  // On failure the Error's text reads `<what>: <why>`, for `cairn: <text>` (e.g. "CAIRN_URI is
  // not set: run the command under `cairn start`, ..."); its errno is EINVAL for a missing or
  // malformed setting, else the system's (ENOENT, ECONNREFUSED, ...).
  static util::Result<Client> connect(std::string_view uri = {});

  Client(Client&&) = default;
  Client& operator=(Client&&) = default;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() = default;

  // Sends a request and waits for its one response (at most timeout()). A timeout is reported
  // as errnum ETIMEDOUT with the text the user should see.
  Response rpc(std::string_view topic, std::string_view payload = {});

  // Sends a request without waiting; returns its match tag, or 0 with errno set on failure.
  uint32_t send(std::string_view topic, std::string_view payload = {}, uint32_t flags = 0);

  // Waits up to `timeout` for the next response to any request in flight. Returns ETIMEDOUT
  // (matchtag 0) when none arrives in time.
  Response recv(std::chrono::milliseconds timeout);
  Response recv() { return recv(timeout_); }

  // Waits up to `timeout` for the next response to the request `matchtag`; responses to other
  // requests that arrive meanwhile are kept for recv().
  Response recv_for(uint32_t matchtag, std::chrono::milliseconds timeout);

  // How many requests are awaiting (more) responses.
  size_t in_flight() const { return in_flight_.size(); }

  std::chrono::milliseconds timeout() const { return timeout_; }
  void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }
  const std::string& uri() const { return uri_; }

 private:
  struct Pending {
    std::string topic;
    bool streaming;
  };

  Client() = default;
  // Reads one response to a tag in flight into `out`, waiting up to `timeout`; ETIMEDOUT if
  // none came, or ZeroMQ's errno with "receive: <reason>". Drops malformed messages and
  // responses to tags not in flight.
  util::Status read_one(std::chrono::milliseconds timeout, Response& out);
  // The Response a failed read_one() gives the caller waiting for `matchtag`.
  Response read_failure(const util::Error& error, uint32_t matchtag, std::string topic) const;
  // Forgets the request at `it`, keeping its node for send() to reuse.
  void forget(std::unordered_map<uint32_t, Pending>::iterator it);
  Response timeout_response(uint32_t matchtag, std::string topic) const;

  msg::ZmqContext ctx_;  // declared before sock_: the socket closes first
  msg::ZmqSocket sock_;
  std::string uri_;
  std::chrono::milliseconds timeout_{60000};
  uint32_t next_tag_ = 1;
  std::unordered_map<uint32_t, Pending> in_flight_;
  // Nodes of answered requests, reused by send(): once warm, a request allocates nothing.
  static constexpr size_t kSpareNodes = 256;
  std::vector<std::unordered_map<uint32_t, Pending>::node_type> spare_;
  std::deque<Response> ready_;  // received while waiting for another tag
  msg::ZmqReceived received_;   // receive buffer, reused
  int rcvtimeo_ms_ = -2;        // ZMQ_RCVTIMEO last set on sock_ (-2: not yet)
};

// Reads $CAIRN_RPC_TIMEOUT (default 60 s): EINVAL, "'<value>' is not a positive number of
// seconds", when it is set but not a positive number.
util::Result<std::chrono::milliseconds> timeout_from_env();

}  // namespace cairn::client
