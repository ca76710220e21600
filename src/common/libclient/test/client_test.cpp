// Unit tests for cairn::client::Client against an in-test ROUTER server running a scripted
// conversation on its own thread (a local:// socket in a private
// directory, or tcp:// with CURVE). Every wait is bounded.
#include "libclient/client.hpp"

#include <arpa/inet.h>
#include <czmq.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "libmsg/batch.hpp"
#include "libmsg/message.hpp"
#include "libmsg/stream.hpp"
#include "libmsg/zmq_io.hpp"
#include "libutil/fd.hpp"

namespace cairn::client {
namespace {

using std::chrono::milliseconds;
namespace msg = cairn::msg;

constexpr int kServerWaitMs = 10000;  // upper bound for any server-side wait

// One received request and the routing identity to answer it with.
struct Incoming {
  std::string identity;
  msg::Message request;
};

// The server side the test script drives from a thread: a ROUTER socket (tcp://), or a Unix
// stream socket that accepts one client (local://), as the broker's listener does.
class ServerSocket {
 public:
  explicit ServerSocket(void* sock) : sock_(sock) {}
  explicit ServerSocket(int listen_fd) : listen_fd_(listen_fd) {}

  // Receives one request (fails the test if none arrives within kServerWaitMs). The requests
  // of a batch are returned one per call, in order.
  Incoming recv() {
    if (!unread_.empty()) {
      Incoming in = std::move(unread_.front());
      unread_.pop_front();
      return in;
    }
    if (listen_fd_ >= 0) return recv_stream();
    zmq_pollitem_t item{sock_, 0, ZMQ_POLLIN, 0};
    int rc = zmq_poll(&item, 1, kServerWaitMs);
    EXPECT_EQ(rc, 1) << "server: no request arrived";
    if (rc != 1) return {};
    msg::Frames frames;
    EXPECT_EQ(msg::recv_frames(sock_, frames), 1);
    if (frames.empty()) return {};
    ++messages_;
    Incoming in;
    in.identity = frames.front();
    if (frames.size() == 2 && msg::looks_like_batch(frames[1])) {
      unbatch(in.identity, frames[1]);
      return recv();
    }
    auto d = msg::decode(msg::Frames(frames.begin() + 1, frames.end()));
    EXPECT_TRUE(d.ok()) << d.error().text;
    if (d) in.request = std::move(d).value();
    return in;
  }

  // Messages (frames on local://) received so far, and the request count of each batch among
  // them.
  size_t messages() const { return messages_; }
  const std::vector<uint32_t>& batch_sizes() const { return batch_sizes_; }

  // Sends `replies` to `identity` as one batch.
  void send_batch(const std::string& identity, const std::vector<msg::Message>& replies) {
    msg::BatchWriter w;
    for (const auto& m : replies) w.add(m, m.topic, m.payload);
    send_frames(identity, {w.frame()});
  }
  // tcp://: one multipart message. local://: each frame behind its length prefix.
  void send_frames(const std::string& identity, const msg::Frames& frames) {
    if (listen_fd_ >= 0) {
      for (const auto& f : frames) write_frame(f);
      return;
    }
    zmq_send(sock_, identity.data(), identity.size(), ZMQ_SNDMORE);
    msg::send_frames(sock_, frames);
  }
  void send(const std::string& identity, const msg::Message& m) {
    if (listen_fd_ >= 0) {
      send_batch(identity, {m});
      return;
    }
    send_frames(identity, msg::encode(m));
  }
  // local://: closes the client's connection.
  void hang_up() { conn_.reset(); }

 private:
  void unbatch(const std::string& identity, std::string_view frame) {
    auto batch = msg::BatchReader::open(frame);
    EXPECT_TRUE(batch.ok()) << batch.error().text;
    if (!batch) return;
    batch_sizes_.push_back(batch->count());
    while (!batch->done()) {
      Incoming one{identity, {}};
      EXPECT_TRUE(batch->next(one.request).ok());
      unread_.push_back(std::move(one));
    }
  }
  Incoming recv_stream() {
    if (!conn_) {
      pollfd p{listen_fd_, POLLIN, 0};
      EXPECT_EQ(poll(&p, 1, kServerWaitMs), 1) << "server: no client connected";
      conn_.reset(accept(listen_fd_, nullptr, nullptr));
      if (!conn_) return {};
    }
    while (unread_.empty()) {
      pollfd p{conn_.get(), POLLIN, 0};
      int rc = poll(&p, 1, kServerWaitMs);
      EXPECT_EQ(rc, 1) << "server: no request arrived";
      if (rc != 1) return {};
      char buf[65536];
      ssize_t n = read(conn_.get(), buf, sizeof buf);
      if (n <= 0) return {};
      (void)decoder_.feed(std::string_view(buf, static_cast<size_t>(n)), [&](std::string_view f) {
        ++messages_;
        unbatch({}, f);
        return true;
      });
    }
    return recv();
  }
  void write_frame(std::string_view frame) {
    char prefix[msg::kStreamPrefixBytes];
    msg::encode_stream_prefix(static_cast<uint32_t>(frame.size()), prefix);
    std::string bytes = std::string(prefix, sizeof prefix) + std::string(frame);
    EXPECT_EQ(::send(conn_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

  void* sock_ = nullptr;
  int listen_fd_ = -1;
  util::UniqueFd conn_;
  msg::FrameDecoder decoder_{uint64_t{1} << 32};
  std::deque<Incoming> unread_;  // the rest of the last batch
  size_t messages_ = 0;
  std::vector<uint32_t> batch_sizes_;
};

// Runs `script` on a thread against a bound socket; joins on destruction.
class TestServer {
 public:
  using Script = std::function<void(ServerSocket&)>;

  // local:// in a private temporary directory.
  explicit TestServer(Script script) {
    char tmpl[] = "/tmp/cairn-client-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::string path = dir_ + "/broker.sock";
    listen_fd_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
    EXPECT_EQ(::bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    EXPECT_EQ(listen(listen_fd_.get(), 16), 0);
    uri_ = "local://" + path;
    int fd = listen_fd_.get();
    thread_ = std::thread([fd, script = std::move(script)] {
      ServerSocket server(fd);
      script(server);
    });
  }
  // tcp:// on a free loopback port with CURVE: `server_cert` is the server's key pair.
  TestServer(Script script, zcert_t* server_cert) {
    bind("tcp://127.0.0.1:*", server_cert);
    void* s = sock_;
    thread_ = std::thread([s, script = std::move(script)] {
      ServerSocket server(s);
      script(server);
    });
  }
  ~TestServer() {
    if (thread_.joinable()) thread_.join();
    if (sock_) zmq_close(sock_);
    if (ctx_) zmq_ctx_term(ctx_);
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  void join() { thread_.join(); }
  const std::string& uri() const { return uri_; }

 private:
  void bind(const std::string& endpoint, zcert_t* cert) {
    ctx_ = zmq_ctx_new();
    sock_ = zmq_socket(ctx_, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(sock_, ZMQ_LINGER, &linger, sizeof linger);
    if (cert) {
      // No ZAP handler in this context: libzmq lets every CURVE client with the right server
      // key in (key filtering is the broker's job, not the client's).
      int one = 1;
      zmq_setsockopt(sock_, ZMQ_CURVE_SERVER, &one, sizeof one);
      zmq_setsockopt(sock_, ZMQ_CURVE_SECRETKEY, zcert_secret_key(cert), 32);
    }
    EXPECT_EQ(zmq_bind(sock_, endpoint.c_str()), 0) << zmq_strerror(zmq_errno());
    char last[256];
    size_t len = sizeof last;
    zmq_getsockopt(sock_, ZMQ_LAST_ENDPOINT, last, &len);
    uri_ = last;
  }

  void* ctx_ = nullptr;
  void* sock_ = nullptr;
  util::UniqueFd listen_fd_;
  std::string dir_;
  std::string uri_;
  std::thread thread_;
};

void echo(ServerSocket& s, int n) {
  for (int i = 0; i < n; ++i) {
    Incoming in = s.recv();
    s.send(in.identity, msg::Message::response(in.request, in.request.payload));
  }
}

Client must_connect(const std::string& uri) {
  auto c = Client::connect(uri);
  EXPECT_TRUE(c) << c.error().text;
  if (!c) std::abort();
  c->set_timeout(milliseconds(kServerWaitMs));
  return std::move(c).value();
}

// The match tag of a request that must have been sent.
uint32_t must_send(Client& c, std::string_view topic, std::string_view payload = {},
                   uint32_t flags = 0) {
  uint32_t tag = c.send(topic, payload, flags);
  EXPECT_NE(tag, 0u);
  return tag;
}

// Whether connecting failed with `errnum` and a text that reads `<what>: <why>`, as `cairn:`
// prints it.
::testing::AssertionResult refused(const util::Result<Client>& c, int errnum,
                                   const std::string& what) {
  if (c) return ::testing::AssertionFailure() << "connected";
  if (c.error().errnum != errnum)
    return ::testing::AssertionFailure() << "errno " << c.error().errnum << ": " << c.error().text;
  if (c.error().text.rfind(what + ": ", 0) != 0)
    return ::testing::AssertionFailure() << "text: " << c.error().text;
  return ::testing::AssertionSuccess();
}

TEST(Client, RpcRoundTripReturnsTheServersPayload) {
  TestServer server([](ServerSocket& s) { echo(s, 1); });
  Client c = must_connect(server.uri());
  Response r = c.rpc("broker.ping", std::string("hello\0world", 11));
  EXPECT_EQ(r.errnum, 0) << r.error_text();
  EXPECT_EQ(r.payload, std::string("hello\0world", 11));
  EXPECT_EQ(r.topic, "broker.ping");
  EXPECT_EQ(c.in_flight(), 0u);
}

TEST(Client, PipelinedRequestsAreMatchedToTheirResponsesOutOfOrder) {
  constexpr int kN = 64;
  TestServer server([](ServerSocket& s) {
    std::vector<Incoming> all;
    for (int i = 0; i < kN; ++i) all.push_back(s.recv());
    // Answer in a scrambled order: odd ones backwards, then even ones forwards.
    for (int i = kN - 1; i >= 0; --i)
      if (i % 2)
        s.send(all[i].identity,
               msg::Message::response(all[i].request, "r" + all[i].request.payload));
    for (int i = 0; i < kN; i += 2)
      s.send(all[i].identity, msg::Message::response(all[i].request, "r" + all[i].request.payload));
  });
  Client c = must_connect(server.uri());
  std::map<uint32_t, std::string> sent;
  for (int i = 0; i < kN; ++i) {
    uint32_t tag = must_send(c, "test.echo", std::to_string(i));
    ASSERT_TRUE(sent.emplace(tag, std::to_string(i)).second) << "match tag reused";
  }
  EXPECT_EQ(c.in_flight(), static_cast<size_t>(kN));
  std::vector<uint32_t> order;
  for (int i = 0; i < kN; ++i) {
    Response r = c.recv();
    ASSERT_EQ(r.errnum, 0) << r.error_text();
    ASSERT_TRUE(sent.count(r.matchtag)) << "unknown tag " << r.matchtag;
    EXPECT_EQ(r.payload, "r" + sent[r.matchtag]);
    order.push_back(r.matchtag);
    sent.erase(r.matchtag);
  }
  EXPECT_TRUE(sent.empty());
  EXPECT_EQ(c.in_flight(), 0u);
  EXPECT_GT(order.front(), order.back()) << "the server's order was not kept";
}

TEST(Client, StreamingResponsesShareATagUntilENODATA) {
  TestServer server([](ServerSocket& s) {
    Incoming in = s.recv();
    EXPECT_TRUE(in.request.flags & msg::kFlagStreaming);
    for (int i = 0; i < 3; ++i)
      s.send(in.identity, msg::Message::response(in.request, "part" + std::to_string(i)));
    s.send(in.identity, msg::Message::error(in.request, ENODATA));
    // A stray response after the end must be ignored by the client.
    s.send(in.identity, msg::Message::response(in.request, "late"));
    echo(s, 1);
  });
  Client c = must_connect(server.uri());
  uint32_t tag = must_send(c, "test.stream", {}, msg::kFlagStreaming);
  for (int i = 0; i < 3; ++i) {
    Response r = c.recv();
    EXPECT_EQ(r.matchtag, tag);
    EXPECT_EQ(r.errnum, 0);
    EXPECT_EQ(r.payload, "part" + std::to_string(i));
  }
  Response end = c.recv();
  EXPECT_EQ(end.matchtag, tag);
  EXPECT_EQ(end.errnum, ENODATA);
  EXPECT_EQ(c.in_flight(), 0u);
  Response after = c.rpc("test.after", "x");
  EXPECT_EQ(after.errnum, 0);
  EXPECT_EQ(after.payload, "x");
}

TEST(Client, ResponsesToUnknownTagsAndMalformedFramesAreIgnored) {
  TestServer server([](ServerSocket& s) {
    Incoming in = s.recv();
    msg::Message bogus = msg::Message::response(in.request, "wrong tag");
    bogus.matchtag = in.request.matchtag + 1000;
    s.send(in.identity, bogus);
    s.send_frames(in.identity, {"garbage"});
    msg::Frames short_header = msg::encode(msg::Message::response(in.request, "bad"));
    short_header[0].resize(7);
    s.send_frames(in.identity, short_header);
    s.send(in.identity, msg::Message::response(in.request, "right"));
  });
  Client c = must_connect(server.uri());
  Response r = c.rpc("test.x", "");
  EXPECT_EQ(r.errnum, 0);
  EXPECT_EQ(r.payload, "right");
}

TEST(Client, ErrorResponsesCarryErrnoAndText) {
  TestServer server([](ServerSocket& s) {
    Incoming a = s.recv();
    s.send(a.identity, msg::Message::error(a.request, ENOSYS, "unknown service: no.such"));
    Incoming b = s.recv();
    s.send(b.identity, msg::Message::error(b.request, EPERM));
  });
  Client c = must_connect(server.uri());
  Response a = c.rpc("no.such");
  EXPECT_EQ(a.errnum, ENOSYS);
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(a.error_text(), "unknown service: no.such");
  Response b = c.rpc("test.perm");
  EXPECT_EQ(b.errnum, EPERM);
  EXPECT_EQ(b.error_text(), std::strerror(EPERM));  // no text: strerror
}

TEST(Client, TimeoutGivesETIMEDOUTAndALateReplyIsDropped) {
  TestServer server([](ServerSocket& s) {
    Incoming first = s.recv();   // not answered until the client has given up on it
    Incoming second = s.recv();  // sent only after the client's timeout
    s.send(first.identity, msg::Message::response(first.request, "late"));
    s.send(second.identity, msg::Message::response(second.request, "second"));
  });
  Client c = must_connect(server.uri());
  c.set_timeout(milliseconds(100));
  Response r = c.rpc("test.slow", "1");
  EXPECT_EQ(r.errnum, ETIMEDOUT);
  EXPECT_EQ(r.topic, "test.slow");
  EXPECT_NE(r.error_text().find("no answer from the broker within 0.1 s"), std::string::npos)
      << r.error_text();
  EXPECT_EQ(c.in_flight(), 0u);
  c.set_timeout(milliseconds(kServerWaitMs));
  Response second = c.rpc("test.next", "2");
  EXPECT_EQ(second.errnum, 0);
  EXPECT_EQ(second.payload, "second");
}

TEST(Client, RecvTimesOutWithNothingInFlight) {
  TestServer server([](ServerSocket&) {});
  Client c = must_connect(server.uri());
  Response r = c.recv(milliseconds(20));
  EXPECT_EQ(r.errnum, ETIMEDOUT);
  EXPECT_EQ(r.matchtag, 0u);
}

TEST(Client, ResponsesArrivingDuringAnRpcAreKeptForRecv) {
  TestServer server([](ServerSocket& s) {
    Incoming a = s.recv();
    Incoming b = s.recv();
    s.send(a.identity, msg::Message::response(a.request, "A"));
    s.send(b.identity, msg::Message::response(b.request, "B"));
  });
  Client c = must_connect(server.uri());
  uint32_t tag_a = must_send(c, "test.a");
  Response b = c.rpc("test.b", "");
  EXPECT_EQ(b.payload, "B");
  Response a = c.recv();
  EXPECT_EQ(a.matchtag, tag_a);
  EXPECT_EQ(a.payload, "A");
}

// send() reuses the entry of an answered request: nothing of the old request may show through.
TEST(Client, AReusedRequestEntryKeepsNothingOfTheRequestBefore) {
  std::atomic<bool> finished{false};
  TestServer server([&](ServerSocket& s) {
    echo(s, 3);
    Incoming st = s.recv();
    EXPECT_TRUE(st.request.flags & msg::kFlagStreaming);
    s.send(st.identity, msg::Message::response(st.request, "p1"));
    s.send(st.identity, msg::Message::response(st.request, "p2"));
    s.send(st.identity, msg::Message::error(st.request, ENODATA));
    Incoming plain = s.recv();
    s.send(plain.identity, msg::Message::response(plain.request, "once"));
    s.send(plain.identity, msg::Message::response(plain.request, "twice"));  // must be dropped
    s.recv();                                                                // never answered
    while (!finished) std::this_thread::sleep_for(milliseconds(1));  // the connection stays up
  });
  Client c = must_connect(server.uri());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(c.rpc("test.a-topic-longer-than-sso", "x").errnum, 0);
  // A streaming request after plain ones: it stays in flight until its ENODATA.
  must_send(c, "test.stream", {}, msg::kFlagStreaming);
  // (In flight until its ENODATA is received: one read may bring that with the parts.)
  EXPECT_EQ(c.recv().payload, "p1");
  EXPECT_EQ(c.recv().payload, "p2");
  EXPECT_EQ(c.recv().errnum, ENODATA);
  EXPECT_EQ(c.in_flight(), 0u);
  // A plain request after the stream: its first answer settles it.
  Response once = c.rpc("test.plain", "");
  EXPECT_EQ(once.payload, "once");
  EXPECT_EQ(c.in_flight(), 0u);
  // A timeout names this request's topic, not one an earlier request left behind.
  c.set_timeout(milliseconds(100));
  Response late = c.rpc("t.short", "");
  EXPECT_EQ(late.errnum, ETIMEDOUT);
  EXPECT_EQ(late.topic, "t.short");
  EXPECT_EQ(c.in_flight(), 0u);
  finished = true;
}

// Environment handling -------------------------------------------------------------------

// Batching (client.hpp): what a pipelining caller sends before it waits leaves as one message.
TEST(Client, RequestsSentBeforeAWaitLeaveAsOneBatchAndABatchedReplyIsSplit) {
  constexpr int kN = 16;
  std::vector<uint32_t> sizes;
  TestServer server([&sizes](ServerSocket& s) {
    std::vector<msg::Message> replies;
    std::string identity;
    for (int i = 0; i < kN; ++i) {
      Incoming in = s.recv();
      identity = in.identity;
      replies.push_back(msg::Message::response(in.request, "r" + in.request.payload));
    }
    sizes = s.batch_sizes();
    s.send_batch(identity, replies);
  });
  Client c = must_connect(server.uri());
  std::vector<uint32_t> tags;
  for (int i = 0; i < kN; ++i) tags.push_back(must_send(c, "test.echo", std::to_string(i)));
  for (int i = 0; i < kN; ++i) {
    Response r = c.recv();
    ASSERT_EQ(r.errnum, 0) << r.error_text();
    EXPECT_EQ(r.matchtag, tags[i]);  // the batch's order
    EXPECT_EQ(r.payload, "r" + std::to_string(i));
  }
  server.join();
  EXPECT_EQ(sizes, std::vector<uint32_t>{kN});
  EXPECT_EQ(c.in_flight(), 0u);
}

TEST(Client, RecvForFindsItsReplyInsideABatchAndKeepsTheOthers) {
  TestServer server([](ServerSocket& s) {
    Incoming a = s.recv(), b = s.recv(), c = s.recv();
    s.send_batch(a.identity,
                 {msg::Message::response(c.request, "c"), msg::Message::response(a.request, "a"),
                  msg::Message::response(b.request, "b")});
  });
  Client c = must_connect(server.uri());
  uint32_t ta = must_send(c, "t.a"), tb = must_send(c, "t.b"), tc = must_send(c, "t.c");
  Response rb = c.recv_for(tb, milliseconds(kServerWaitMs));
  EXPECT_EQ(rb.payload, "b");
  Response r1 = c.recv(), r2 = c.recv();
  EXPECT_EQ(r1.matchtag, tc);
  EXPECT_EQ(r2.matchtag, ta);
}

TEST(Client, TheBatchLimitBoundsABatchAndOneSendsEachRequestAlone) {
  std::vector<uint32_t> sizes;
  size_t messages = 0;
  TestServer server([&](ServerSocket& s) {
    echo(s, 10 + 5);
    sizes = s.batch_sizes();
    messages = s.messages();
  });
  Client c = must_connect(server.uri());
  c.set_batch_limit(4);
  for (int i = 0; i < 10; ++i) must_send(c, "test.echo", "x");
  for (int i = 0; i < 10; ++i) ASSERT_EQ(c.recv().errnum, 0);
  c.set_batch_limit(1);
  for (int i = 0; i < 5; ++i) must_send(c, "test.echo", "y");
  for (int i = 0; i < 5; ++i) ASSERT_EQ(c.recv().errnum, 0);
  server.join();
  // Full batches leave at once, then five frames of one request each.
  EXPECT_EQ(sizes, (std::vector<uint32_t>{4, 4, 2, 1, 1, 1, 1, 1}));
  EXPECT_EQ(messages, 3u + 5u);
}

TEST(Client, ABatchLeavesBeforeItOutgrowsItsByteBound) {
  std::vector<uint32_t> sizes;
  TestServer server([&](ServerSocket& s) {
    echo(s, 4);
    sizes = s.batch_sizes();
  });
  Client c = must_connect(server.uri());
  std::string big(Client::kBatchBytes / 2, 'b');  // two of these would pass the bound
  for (int i = 0; i < 4; ++i) must_send(c, "test.echo", big);
  for (int i = 0; i < 4; ++i) {
    Response r = c.recv();
    ASSERT_EQ(r.errnum, 0) << r.error_text();
    EXPECT_EQ(r.payload, big);
  }
  server.join();
  EXPECT_EQ(sizes, (std::vector<uint32_t>{1, 1, 1, 1}));
}

TEST(Client, FlushSendsWhatIsQueuedWithoutWaiting) {
  std::vector<std::string> got;
  std::atomic<bool> received{false};
  TestServer server([&](ServerSocket& s) {
    for (int i = 0; i < 2; ++i) got.push_back(s.recv().request.topic);
    received = true;
  });
  Client c = must_connect(server.uri());
  must_send(c, "t.one");
  must_send(c, "t.two");
  c.flush();
  // The client does not wait for a reply: the server gets both requests all the same.
  auto deadline = std::chrono::steady_clock::now() + milliseconds(kServerWaitMs);
  while (!received && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(1));
  server.join();
  EXPECT_EQ(got, (std::vector<std::string>{"t.one", "t.two"}));
}

TEST(Client, AMalformedBatchAndRepliesToUnknownTagsAreDropped) {
  TestServer server([](ServerSocket& s) {
    Incoming in = s.recv();
    std::string cut("\x01\x03\0\0\x05\0\0\0", 8);  // promises five messages, holds none
    s.send_frames(in.identity, {cut});
    s.send_batch(in.identity, {msg::Message::response(msg::Message::request("x.y", "", 999), "?"),
                               msg::Message::response(in.request, "ok")});
  });
  Client c = must_connect(server.uri());
  Response r = c.rpc("test.echo");
  EXPECT_EQ(r.errnum, 0) << r.error_text();
  EXPECT_EQ(r.payload, "ok");
  EXPECT_EQ(c.in_flight(), 0u);
}

class ClientEnv : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const char* v :
         {"CAIRN_URI", "CAIRN_RPC_TIMEOUT", "CAIRN_CLIENT_CERT", "CAIRN_SERVER_KEY"})
      unsetenv(v);
  }
};

TEST_F(ClientEnv, UnsetCairnUriIsAClearError) {
  unsetenv("CAIRN_URI");
  auto c = Client::connect();
  ASSERT_TRUE(refused(c, EINVAL, "CAIRN_URI is not set"));
  EXPECT_NE(c.error().text.find("cairn start"), std::string::npos);
}

TEST_F(ClientEnv, CairnUriIsUsedWhenNoUriIsGiven) {
  TestServer server([](ServerSocket& s) { echo(s, 1); });
  setenv("CAIRN_URI", server.uri().c_str(), 1);
  auto c = Client::connect();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->uri(), server.uri());
  EXPECT_EQ(c->rpc("broker.ping", "p").payload, "p");
}

TEST_F(ClientEnv, RpcTimeoutComesFromTheEnvironment) {
  TestServer server([](ServerSocket&) {});  // listens; nothing needs to be answered
  const std::string& uri = server.uri();
  setenv("CAIRN_RPC_TIMEOUT", "2.5", 1);
  auto c = Client::connect(uri);
  ASSERT_TRUE(c) << c.error().text;
  EXPECT_EQ(c->timeout(), milliseconds(2500));
  unsetenv("CAIRN_RPC_TIMEOUT");
  auto d = Client::connect(uri);
  ASSERT_TRUE(d) << d.error().text;
  EXPECT_EQ(d->timeout(), milliseconds(60000));
  for (const char* bad : {"abc", "0", "-1", "5s"}) {
    setenv("CAIRN_RPC_TIMEOUT", bad, 1);
    auto refusal = Client::connect(uri);
    EXPECT_TRUE(refused(refusal, EINVAL, "CAIRN_RPC_TIMEOUT")) << bad;
    EXPECT_NE(refusal ? std::string::npos : refusal.error().text.find(bad), std::string::npos);
    auto t = timeout_from_env();
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.error().text, std::string("'") + bad + "' is not a positive number of seconds");
  }
}

TEST_F(ClientEnv, ABatchThatCannotBeSentAnswersEachOfItsRequestsWithTheError) {
  // A server that accepts and never reads: once the socket's buffers are full, a write waits
  // CAIRN_RPC_TIMEOUT and fails.
  std::atomic<bool> done{false};
  TestServer server([&](ServerSocket& s) {
    while (!done) std::this_thread::sleep_for(milliseconds(5));
    s.hang_up();
  });
  setenv("CAIRN_RPC_TIMEOUT", "0.1", 1);
  auto c = Client::connect(server.uri());
  ASSERT_TRUE(c) << c.error().text;
  c->set_batch_limit(3);  // every third send leaves, as one batch of 3
  std::string payload(64 * 1024, 'p');
  std::vector<uint32_t> tags;
  // At most 300 batches of 192 KiB: should a failed send go unanswered, the test ends soon.
  while (c->in_flight() == tags.size() && tags.size() < 900)
    tags.push_back(must_send(*c, "t.x", payload));
  done = true;
  // The batch that failed is answered at once, each request with the error, in order.
  ASSERT_EQ(c->in_flight(), tags.size() - 3) << "no send failed in " << tags.size() << " requests";
  ASSERT_EQ(tags.size() % 3, 0u);
  for (size_t i = tags.size() - 3; i < tags.size(); i++) {
    Response r = c->recv_for(tags[i], milliseconds(kServerWaitMs));
    EXPECT_EQ(r.matchtag, tags[i]);
    EXPECT_EQ(r.topic, "t.x");
    EXPECT_EQ(r.errnum, ETIMEDOUT);
    EXPECT_EQ(r.payload, "cannot send the request: send: the broker is not reading its socket");
  }
  // Part of a frame may have gone: the connection is unusable from then on, and says so.
  uint32_t after = must_send(*c, "t.x", "");
  Response r = c->recv_for(after, milliseconds(kServerWaitMs));
  EXPECT_EQ(r.errnum, ETIMEDOUT);
}

TEST_F(ClientEnv, BadUriIsReported) {
  auto c = Client::connect("nonsense://x");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().text.rfind("nonsense://x: not a cairn URI: give local://PATH or tcp://", 0),
            0u)
      << c.error().text;
}

TEST_F(ClientEnv, AnIpcUriIsRefusedNamingLocal) {
  auto c = Client::connect("ipc:///tmp/x.sock");
  ASSERT_TRUE(refused(c, EINVAL, "ipc:///tmp/x.sock"));
  EXPECT_NE(c.error().text.find("ipc:// is retired: local clients connect to local://PATH (here "
                                "local:///tmp/x.sock)"),
            std::string::npos)
      << c.error().text;
}

TEST_F(ClientEnv, AMissingSocketFileIsEnoentAndNamesTheUri) {
  auto c = Client::connect("local:///nonexistent/cairn");
  ASSERT_TRUE(refused(c, ENOENT, "local:///nonexistent/cairn"));
  EXPECT_NE(c.error().text.find("no broker is running on that socket"), std::string::npos);
}

TEST_F(ClientEnv, ABrokerThatClosesTheConnectionFailsTheWaitAtOnce) {
  TestServer server([](ServerSocket& s) {
    s.recv();
    s.hang_up();
  });
  Client c = must_connect(server.uri());
  Response r = c.rpc("test.x");
  EXPECT_EQ(r.errnum, ECONNRESET);
  EXPECT_EQ(r.payload, "receive: the broker closed the connection (did it stop? see its log)");
}

// CURVE ---------------------------------------------------------------------------------

class Curve : public ClientEnv {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn-curve-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    server_cert_ = zcert_new();
    client_cert_ = zcert_new();
    client_path_ = dir_ + "/client";
    zcert_save(client_cert_, client_path_.c_str());
  }
  void TearDown() override {
    zcert_destroy(&server_cert_);
    zcert_destroy(&client_cert_);
    std::filesystem::remove_all(dir_);
    ClientEnv::TearDown();
  }
  std::string dir_, client_path_;
  zcert_t* server_cert_ = nullptr;
  zcert_t* client_cert_ = nullptr;
};

TEST_F(Curve, MissingClientCertIsNamed) {
  setenv("CAIRN_SERVER_KEY", zcert_public_txt(server_cert_), 1);
  EXPECT_TRUE(
      refused(Client::connect("tcp://127.0.0.1:1"), EINVAL, "CAIRN_CLIENT_CERT is not set"));
}

TEST_F(Curve, MissingOrInvalidServerKeyIsNamed) {
  setenv("CAIRN_CLIENT_CERT", (client_path_ + "_secret").c_str(), 1);
  EXPECT_TRUE(refused(Client::connect("tcp://127.0.0.1:1"), EINVAL, "CAIRN_SERVER_KEY is not set"));
  setenv("CAIRN_SERVER_KEY", "tooshort", 1);
  auto c = Client::connect("tcp://127.0.0.1:1");
  ASSERT_TRUE(refused(c, EINVAL, "CAIRN_SERVER_KEY"));
  EXPECT_NE(c.error().text.find("tooshort"), std::string::npos);
}

TEST_F(Curve, UnreadableOrPublicOnlyCertIsRefused) {
  setenv("CAIRN_SERVER_KEY", zcert_public_txt(server_cert_), 1);
  setenv("CAIRN_CLIENT_CERT", (dir_ + "/absent").c_str(), 1);
  auto absent = Client::connect("tcp://127.0.0.1:1");
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().text.rfind("CAIRN_CLIENT_CERT: ", 0), 0u) << absent.error().text;
  EXPECT_NE(absent.error().text.find("absent"), std::string::npos);
  std::string public_only = dir_ + "/public-only";
  zcert_save_public(client_cert_, public_only.c_str());
  setenv("CAIRN_CLIENT_CERT", public_only.c_str(), 1);
  auto public_only_cert = Client::connect("tcp://127.0.0.1:1");
  ASSERT_TRUE(refused(public_only_cert, EINVAL, "CAIRN_CLIENT_CERT"));
  EXPECT_NE(public_only_cert.error().text.find("no secret key"), std::string::npos);
}

TEST_F(Curve, ATcpPortWhereNothingListensIsRefusedAtOnce) {
  setenv("CAIRN_SERVER_KEY", zcert_public_txt(server_cert_), 1);
  setenv("CAIRN_CLIENT_CERT", (client_path_ + "_secret").c_str(), 1);
  // A port that was free a moment ago: nothing listens there.
  util::UniqueFd probe(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  ASSERT_EQ(::bind(probe.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(getsockname(probe.get(), reinterpret_cast<sockaddr*>(&sa), &len), 0);
  std::string uri = "tcp://127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
  probe.reset();
  auto c = Client::connect(uri);
  ASSERT_TRUE(refused(c, ECONNREFUSED, uri));
  EXPECT_NE(c.error().text.find("Connection refused (no broker listens on that port)"),
            std::string::npos)
      << c.error().text;
}

TEST_F(Curve, ATcpHostThatDoesNotResolveIsNamedAtOnce) {
  setenv("CAIRN_SERVER_KEY", zcert_public_txt(server_cert_), 1);
  setenv("CAIRN_CLIENT_CERT", (client_path_ + "_secret").c_str(), 1);
  auto c = Client::connect("tcp://nosuchhost.invalid:5555");
  ASSERT_TRUE(refused(c, EHOSTUNREACH, "tcp://nosuchhost.invalid:5555"));
  EXPECT_NE(c.error().text.find("cannot resolve the host 'nosuchhost.invalid'"), std::string::npos)
      << c.error().text;
}

TEST_F(Curve, RpcOverTcpWithCurveWorks) {
  TestServer server([](ServerSocket& s) { echo(s, 1); }, server_cert_);
  setenv("CAIRN_SERVER_KEY", zcert_public_txt(server_cert_), 1);
  setenv("CAIRN_CLIENT_CERT", (client_path_ + "_secret").c_str(), 1);
  Client c = must_connect(server.uri());
  Response r = c.rpc("broker.ping", "over curve");
  EXPECT_EQ(r.errnum, 0) << r.error_text();
  EXPECT_EQ(r.payload, "over curve");
}

}  // namespace
}  // namespace cairn::client
