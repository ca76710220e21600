// Unit tests for the broker core over tcp:// (a real ROUTER socket with CURVE, and DEALER test
// clients with an allowed key): dispatch, ENOSYS, malformed input, responders that outlive their
// client or the broker, streaming, built-in services, heartbeat, shutdown hooks, CURVE admission;
// and the log ring. local:// has its own tests (local_test.cpp).
#include "broker/broker.hpp"

#include <czmq.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "libmsg/batch.hpp"
#include "libmsg/zmq_io.hpp"
#include "libtest/temp_dir.hpp"

using namespace cairn;
using namespace cairn::broker;

namespace {

// A DEALER client driven from the test thread; it turns the broker's loop while it waits.
class Client {
 public:
  Client(void* zctx, const std::string& uri, const uint8_t* server_key = nullptr,
         zcert_t* cert = nullptr)
      : socket_(zmq_socket(zctx, ZMQ_DEALER)) {
    int linger = 0;
    zmq_setsockopt(socket_, ZMQ_LINGER, &linger, sizeof linger);
    if (server_key) {
      zmq_setsockopt(socket_, ZMQ_CURVE_SERVERKEY, server_key, 32);
      zmq_setsockopt(socket_, ZMQ_CURVE_PUBLICKEY, zcert_public_key(cert), 32);
      zmq_setsockopt(socket_, ZMQ_CURVE_SECRETKEY, zcert_secret_key(cert), 32);
    }
    EXPECT_EQ(zmq_connect(socket_, uri.c_str()), 0);
  }
  ~Client() { close(); }
  void close() {
    if (socket_) zmq_close(socket_);
    socket_ = nullptr;
  }

  void send_frames(const std::vector<std::string>& frames) {
    for (size_t i = 0; i < frames.size(); ++i)
      ASSERT_GE(zmq_send(socket_, frames[i].data(), frames[i].size(),
                         i + 1 < frames.size() ? ZMQ_SNDMORE : 0),
                0);
  }
  void send(const std::string& topic, const std::string& payload, uint32_t tag = 1,
            uint32_t flags = 0) {
    send_frames(msg::encode(msg::Message::request(topic, payload, tag, flags)));
  }
  // Sends `requests` as one batch.
  void send_batch(const std::vector<msg::Message>& requests) {
    msg::BatchWriter w;
    for (const auto& m : requests) w.add(m, m.topic, m.payload);
    send_frames({w.frame()});
  }
  // Waits (bounded) for one response, running `loop` meanwhile.
  std::optional<msg::Message> recv(reactor::Loop& loop, double timeout = 5.0) {
    auto frames = recv_frames(loop, timeout);
    if (!frames) return std::nullopt;
    auto d = msg::decode(std::move(*frames));
    EXPECT_TRUE(d) << d.error().text;
    if (!d) return std::nullopt;
    return std::move(d).value();
  }
  // Waits (bounded) for one batch of responses.
  std::vector<msg::Message> recv_batch(reactor::Loop& loop, double timeout = 5.0) {
    std::vector<msg::Message> out;
    auto frames = recv_frames(loop, timeout);
    EXPECT_TRUE(frames && frames->size() == 1) << "expected a one-frame batch";
    if (!frames || frames->size() != 1) return out;
    auto batch = msg::BatchReader::open((*frames)[0]);
    EXPECT_TRUE(batch) << batch.error().text;
    if (!batch) return out;
    while (!batch->done()) {
      msg::Message m;
      EXPECT_TRUE(batch->next(m));
      out.push_back(std::move(m));
    }
    return out;
  }
  // Waits (bounded) for one message, as frames.
  std::optional<msg::Frames> recv_frames(reactor::Loop& loop, double timeout = 5.0) {
    loop.now_update();
    double deadline = loop.now() + timeout;
    while (true) {
      loop.run_once(false);
      zmq_pollitem_t item{socket_, 0, ZMQ_POLLIN, 0};
      if (zmq_poll(&item, 1, 5) > 0) break;
      loop.now_update();
      if (loop.now() > deadline) return std::nullopt;
    }
    msg::Frames frames;
    int more = 1;
    while (more) {
      zmq_msg_t part;
      zmq_msg_init(&part);
      EXPECT_GE(zmq_msg_recv(&part, socket_, 0), 0);
      frames.emplace_back(static_cast<char*>(zmq_msg_data(&part)), zmq_msg_size(&part));
      more = zmq_msg_more(&part);
      zmq_msg_close(&part);
    }
    return frames;
  }
  std::optional<msg::Message> rpc(reactor::Loop& loop, const std::string& topic,
                                  const std::string& payload = {}) {
    send(topic, payload, ++tag_);
    return recv(loop);
  }

 private:
  void* socket_;
  uint32_t tag_ = 100;
};

// Runs the loop until pred() holds or `timeout` passes; returns pred().
template <typename Pred>
bool run_until(reactor::Loop& loop, Pred pred, double timeout = 5.0) {
  loop.now_update();
  double deadline = loop.now() + timeout;
  while (!pred()) {
    loop.run_once(false);
    zmq_poll(nullptr, 0, 2);  // a short pause without busy-spinning
    loop.now_update();
    if (loop.now() > deadline) return pred();
  }
  return true;
}

bool log_has(Broker& b, const std::string& text) {
  for (const auto& e : b.log().entries())
    if (e.text.find(text) != std::string::npos) return true;
  return false;
}

class BrokerTest : public testing::Test {
 protected:
  void SetUp() override {
    zctx_ = zmq_ctx_new();
    ASSERT_EQ(zcert_save(server_, (dir_.path() + "/default-server").c_str()), 0);
  }
  void TearDown() override {
    clients_.clear();
    broker_.reset();
    zmq_ctx_term(zctx_);
    zcert_destroy(&server_);
    zcert_destroy(&owner_);
  }
  // A broker on `listen`; by default on tcp://127.0.0.1:* with server_'s certificate, admitting
  // owner_, the key client() uses.
  Broker& start(const std::vector<std::string>& options = {}, std::string listen = {}) {
    Config config(module_config_keys(modules_));
    if (listen.empty()) {
      config.set_option("security.curve-cert=" + dir_.path() + "/default-server");
      config.set_option("security.allowed-clients=['" + std::string(zcert_public_txt(owner_)) +
                        "']");
    }
    for (const auto& o : options) config.set_option(o);
    BrokerOptions opts;
    opts.listen = listen.empty() ? "tcp://127.0.0.1:*" : listen;
    opts.statedir = dir_.path();
    opts.log_to_stderr = false;
    opts.modules = modules_;
    broker_ = std::make_unique<Broker>(loop_, config, opts);
    return *broker_;
  }
  Client& client() {
    clients_.push_back(
        std::make_unique<Client>(zctx_, broker_->uri(), zcert_public_key(server_), owner_));
    return *clients_.back();
  }

  ModuleSpecs modules_;
  reactor::Loop loop_;
  test::TempDir dir_{"cairn-broker-test", "/tmp"};
  void* zctx_;
  zcert_t* server_ = zcert_new();
  zcert_t* owner_ = zcert_new();
  std::unique_ptr<Broker> broker_;
  std::vector<std::unique_ptr<Client>> clients_;
};

// libstats and jobtap plugins log with syslog numbers; every number maps to one Level.
TEST(Level, ASyslogPriorityMapsOntoTheNearestLevel) {
  EXPECT_EQ(broker::level_from_syslog(0), broker::Level::kErr);  // LOG_EMERG
  EXPECT_EQ(broker::level_from_syslog(3), broker::Level::kErr);
  EXPECT_EQ(broker::level_from_syslog(4), broker::Level::kWarning);
  EXPECT_EQ(broker::level_from_syslog(5), broker::Level::kNotice);
  EXPECT_EQ(broker::level_from_syslog(7), broker::Level::kDebug);
  EXPECT_EQ(broker::level_from_syslog(42), broker::Level::kDebug);
  EXPECT_EQ(broker::level_from_syslog(-1), broker::Level::kErr);
}

TEST_F(BrokerTest, PingEchoesThePayload) {
  start();
  auto r = client().rpc(loop_, "broker.ping", std::string("hello\0world", 11));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->errnum, 0);
  EXPECT_EQ(r->type, msg::Type::kResponse);
  EXPECT_EQ(r->topic, "broker.ping");
  EXPECT_EQ(r->payload, std::string("hello\0world", 11));
}

TEST_F(BrokerTest, UnknownTopicGetsENOSYS) {
  start();
  auto r = client().rpc(loop_, "no.such.service");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->errnum, ENOSYS);
  EXPECT_EQ(r->payload, "unknown service: no.such.service");
}

TEST_F(BrokerTest, MalformedMessagesAreDroppedAndTheBrokerStillAnswers) {
  start();
  Client& c = client();
  c.send_frames({"just one frame"});
  c.send_frames({std::string(16, '\0'), "broker.ping", "x"});  // version 0
  c.send_frames({"short", "broker.ping", "x"});
  c.send_frames({"a", "b", "c", "d"});                 // 5 parts with the identity
  c.send_frames({"a", "b", "c", "d", "e"});            // one more than the broker keeps
  c.send_frames({"a", "b", "c", "d", "e", "f", "g"});  // parts dropped as they arrive
  // A response sent to the broker is not a request.
  c.send_frames(
      msg::encode(msg::Message::response(msg::Message::request("broker.ping", "", 9), "x")));
  auto r = c.rpc(loop_, "broker.ping", "still here");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload, "still here");
  EXPECT_TRUE(log_has(*broker_, "dropped a malformed message"));
  EXPECT_TRUE(log_has(*broker_, "expected 3 frames, got 1"));
  EXPECT_TRUE(log_has(*broker_, "expected 3 frames, got 4"));
  EXPECT_TRUE(log_has(*broker_, "expected 3 frames, got 5"));
  EXPECT_TRUE(log_has(*broker_, "unknown protocol version 0"));
  // The sixth malformed message within the rate-limit window is counted, not logged.
  EXPECT_FALSE(log_has(*broker_, "expected 3 frames, got 7"));
  EXPECT_TRUE(log_has(*broker_, "dropped a response message"));
}

TEST_F(BrokerTest, ARequestWithAnInvalidTopicIsAnsweredEinvalNotLeftWaiting) {
  start();
  Client& c = client();
  for (const char* topic : {"has space", ""}) {
    msg::Frames frames = msg::encode(msg::Message::request("x", "", 77));
    frames[1] = topic;
    c.send_frames(frames);
    auto r = c.recv(loop_);
    ASSERT_TRUE(r) << "no answer for topic '" << topic << "'";
    EXPECT_EQ(r->matchtag, 77u);
    EXPECT_EQ(r->errnum, EINVAL);
    EXPECT_EQ(r->payload, std::string("invalid topic: ") + msg::kBadTopicError);
  }
}

TEST_F(BrokerTest, ResponseCarriesTheRequestMatchTagAndRepliesMayComeOutOfOrder) {
  Broker& b = start();
  std::vector<ResponderPtr> held;
  b.register_service("test.later", [&](const msg::Message& req, ResponderPtr r) {
    r->ok(req.payload);  // answered at once...
    held.push_back(r);   // ...and a second answer later is ignored
  });
  std::vector<std::pair<uint32_t, ResponderPtr>> pending;
  b.register_service("test.hold", [&](const msg::Message& req, ResponderPtr r) {
    pending.emplace_back(req.matchtag, r);
  });
  Client& c = client();
  c.send("test.hold", "", 7);
  c.send("test.hold", "", 8);
  ASSERT_TRUE(run_until(loop_, [&] { return pending.size() == 2; }));
  pending[1].second->ok("eight");
  pending[0].second->ok("seven");
  auto r1 = c.recv(loop_);
  auto r2 = c.recv(loop_);
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->matchtag, 8u);
  EXPECT_EQ(r1->payload, "eight");
  EXPECT_EQ(r2->matchtag, 7u);
  EXPECT_EQ(r2->payload, "seven");

  auto r3 = c.rpc(loop_, "test.later", "once");
  ASSERT_TRUE(r3);
  held.at(0)->ok("twice");
  held.at(0)->error(EINVAL, "thrice");
  auto r4 = c.rpc(loop_, "broker.ping", "next");
  ASSERT_TRUE(r4);
  EXPECT_EQ(r4->payload, "next");  // nothing else was queued before it
}

TEST_F(BrokerTest, ABatchIsServedInOrderAndItsRepliesLeaveAsOneBatch) {
  Broker& b = start();
  std::vector<std::string> order;
  b.register_service("test.order", [&](const msg::Message& req, ResponderPtr r) {
    order.push_back(req.payload);
    r->ok("got " + req.payload);
  });
  ResponderPtr held;
  b.register_service("test.hold", [&](const msg::Message&, ResponderPtr r) { held = r; });
  Client& c = client();
  c.send_batch(
      {msg::Message::request("test.order", "a", 1), msg::Message::request("no.such.service", "", 2),
       msg::Message::request("test.hold", "", 3), msg::Message::request("test.order", "b", 4),
       msg::Message::request("has space", "", 5), msg::Message::request("broker.ping", "c", 6)});
  auto replies = c.recv_batch(loop_);
  ASSERT_EQ(replies.size(), 5u);  // all but the held one, in the order they were produced
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(replies[0].matchtag, 1u);
  EXPECT_EQ(replies[0].payload, "got a");
  EXPECT_EQ(replies[1].matchtag, 2u);
  EXPECT_EQ(replies[1].errnum, ENOSYS);
  EXPECT_EQ(replies[2].matchtag, 4u);
  EXPECT_EQ(replies[3].matchtag, 5u);
  EXPECT_EQ(replies[3].errnum, EINVAL);  // a bad topic inside a batch is answered too
  EXPECT_EQ(replies[4].matchtag, 6u);
  EXPECT_EQ(replies[4].payload, "c");
  // A reply produced later leaves in a batch of its own.
  ASSERT_TRUE(held);
  held->ok("late");
  auto later = c.recv_batch(loop_);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].matchtag, 3u);
  EXPECT_EQ(later[0].payload, "late");
}

// What a client that stopped reading got, once it reads: whole replies, ENOBUFS refusals, and
// the last refusal's text.
struct UnreadTally {
  int ok = 0;
  int refused = 0;
  std::string why;
};

// Sends `count` test.big requests (each answered with `reply` bytes), as single messages or as
// one batch, from a client that stops reading: libzmq's receive queue on its side holds one
// message and the kernel little, so the rest of what the broker sends it waits in the broker.
// Once the broker has served them all, reads every answer.
UnreadTally flood_unread(reactor::Loop& loop, void* zctx, const std::string& uri,
                         const uint8_t* server_key, zcert_t* cert, const int& served, int count,
                         size_t reply, bool batched) {
  UnreadTally t;
  void* sock = zmq_socket(zctx, ZMQ_DEALER);
  zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_key, 32);
  zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, zcert_public_key(cert), 32);
  zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, zcert_secret_key(cert), 32);
  int one = 1, small = 4096, linger = 0;
  zmq_setsockopt(sock, ZMQ_RCVHWM, &one, sizeof one);
  zmq_setsockopt(sock, ZMQ_RCVBUF, &small, sizeof small);
  zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
  EXPECT_EQ(zmq_connect(sock, uri.c_str()), 0);
  msg::BatchWriter batch;
  for (int i = 1; i <= count; ++i) {
    auto req = msg::Message::request("test.big", "", static_cast<uint32_t>(i));
    if (batched)
      batch.add(req, req.topic, req.payload);
    else
      EXPECT_TRUE(msg::send_frames(sock, msg::encode(req)));
  }
  if (batched) EXPECT_TRUE(msg::send_frames(sock, {batch.frame()}));
  EXPECT_TRUE(run_until(
      loop, [&] { return served == count; }, 20));
  int answered = 0;
  while (answered < count) {
    zmq_pollitem_t item{sock, 0, ZMQ_POLLIN, 0};
    if (!run_until(
            loop, [&] { return zmq_poll(&item, 1, 0) > 0; }, 10)) {
      ADD_FAILURE() << "only " << answered << " of " << count << " answers came";
      break;
    }
    msg::Frames frames;
    EXPECT_EQ(msg::recv_frames(sock, frames), 1);
    std::vector<msg::Message> replies;
    if (batched) {
      EXPECT_EQ(frames.size(), 1u) << "expected a one-frame batch";
      auto reader = msg::BatchReader::open(frames.at(0));
      EXPECT_TRUE(reader) << reader.error().text;
      if (!reader) break;
      for (msg::Message m; !reader->done() && reader->next(m);) replies.push_back(std::move(m));
    } else {
      auto d = msg::decode(std::move(frames));
      EXPECT_TRUE(d) << d.error().text;
      if (!d) break;
      replies.push_back(std::move(d).value());
    }
    for (const auto& m : replies) {
      ++answered;
      if (m.errnum == 0) {
        EXPECT_EQ(m.payload.size(), reply);
        ++t.ok;
      } else {
        EXPECT_EQ(m.errnum, ENOBUFS);
        t.why = m.payload;
        ++t.refused;
      }
    }
  }
  zmq_close(sock);
  return t;
}

// At least `min_ok` whole replies (the limit's worth), at least half of `count` refused.
void expect_bounded(const UnreadTally& t, int count, int min_ok) {
  EXPECT_GE(t.ok, min_ok);
  EXPECT_GE(t.refused, count / 2);
  EXPECT_EQ(t.ok + t.refused, count);
  EXPECT_NE(t.why.find("bytes of earlier replies to this client are still unread, past the "
                       "broker's broker.peer-queue-limit (1048576); read replies as they arrive"),
            std::string::npos)
      << t.why;
}

TEST_F(BrokerTest, RepliesAClientLeavesUnreadAreBoundedInBytesTheRestAreEnobufs) {
  Broker& b = start({"broker.peer-queue-limit=1048576"});
  constexpr size_t kReply = 256 * 1024;
  int served = 0;
  b.register_service("test.big", [&](const msg::Message& req, ResponderPtr r) {
    ++served;
    r->ok(std::string(req.payload == "huge" ? 2 * 1048576 : kReply, 'x'));
  });
  constexpr int kRequests = 64;  // 16 MiB of replies
  UnreadTally t = flood_unread(loop_, zctx_, b.uri(), zcert_public_key(server_), owner_, served,
                               kRequests, kReply, false);
  EXPECT_TRUE(log_has(b, "past broker.peer-queue-limit (1048576)"));
  expect_bounded(t, kRequests, 4);  // four payloads of 256 KiB fill 1 MiB
  // A client that reads as it goes gets everything, and a reply larger than the limit still
  // reaches a client with nothing unread.
  Client& reader = client();
  for (int i = 0; i < 8; ++i) {
    auto r = reader.rpc(loop_, "test.big");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->errnum, 0);
  }
  auto huge = reader.rpc(loop_, "test.big", "huge");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->errnum, 0);
  EXPECT_EQ(huge->payload.size(), 2u * 1048576);
}

TEST_F(BrokerTest, RepliesToABatchAreBoundedTooTheRestAreEnobufsInsideTheBatch) {
  Broker& b = start({"broker.peer-queue-limit=1048576"});
  constexpr size_t kReply = 256 * 1024;
  int served = 0;
  b.register_service("test.big", [&](const msg::Message&, ResponderPtr r) {
    ++served;
    r->ok(std::string(kReply, 'x'));
  });
  constexpr int kRequests = 64;
  // A batch counts its framing too: three replies and their entry headers fit under 1 MiB.
  expect_bounded(flood_unread(loop_, zctx_, b.uri(), zcert_public_key(server_), owner_, served,
                              kRequests, kReply, true),
                 kRequests, 3);
}

TEST_F(BrokerTest, AMalformedBatchIsDroppedAndLoggedAndTheBrokerStillAnswers) {
  start();
  Client& c = client();
  c.send_frames({std::string("\x01\x03\0\0\x05\0\0\0", 8)});  // five promised, none there
  msg::BatchWriter w;
  w.add(msg::Message::request("broker.ping", "", 1), "broker.ping", "x");
  std::string padded = w.frame() + "junk";
  c.send_frames({padded});
  auto r = c.rpc(loop_, "broker.ping", "still here");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload, "still here");  // a single request is still answered singly
  EXPECT_TRUE(log_has(*broker_, "batch: message 1 of 5 is cut short"));
  EXPECT_TRUE(log_has(*broker_, "batch: 4 bytes after the last of 1 messages"));
}

TEST_F(BrokerTest, ResponderIsSafeAfterTheClientWentAway) {
  Broker& b = start();
  ResponderPtr kept;
  b.register_service("test.hold", [&](const msg::Message&, ResponderPtr r) { kept = r; });
  Client& gone = client();
  gone.send("test.hold", "");
  ASSERT_TRUE(run_until(loop_, [&] { return kept != nullptr; }));
  gone.close();
  loop_.run_once(false);
  kept->ok("nobody listens");
  kept->stream("still nobody");
  kept.reset();
  auto r = client().rpc(loop_, "broker.ping", "alive");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload, "alive");
}

TEST_F(BrokerTest, ResponderIsANoOpAfterTheBrokerIsDestroyed) {
  Broker& b = start();
  ResponderPtr kept;
  b.register_service("test.hold", [&](const msg::Message&, ResponderPtr r) { kept = r; });
  client().send("test.hold", "");
  ASSERT_TRUE(run_until(loop_, [&] { return kept != nullptr; }));
  clients_.clear();
  broker_.reset();
  kept->ok("after the broker");
  kept.reset();  // the unanswered-request path must not touch the broker either
}

TEST_F(BrokerTest, StreamingSendsEveryResponseThenENODATA) {
  Broker& b = start();
  b.register_service("test.count", [](const msg::Message& req, ResponderPtr r) {
    int n = std::stoi(req.payload);
    for (int i = 0; i < n; ++i) r->stream(std::to_string(i));
    r->end();
  });
  Client& c = client();
  c.send("test.count", "3", 42, msg::kFlagStreaming);
  for (int i = 0; i < 3; ++i) {
    auto r = c.recv(loop_);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->matchtag, 42u);
    EXPECT_EQ(r->errnum, 0);
    EXPECT_EQ(r->payload, std::to_string(i));
  }
  auto end = c.recv(loop_);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->errnum, ENODATA);
  EXPECT_EQ(end->matchtag, 42u);
}

TEST_F(BrokerTest, RequestDroppedWithoutAnswerGetsEIO) {
  Broker& b = start();
  b.register_service("test.forget", [](const msg::Message&, ResponderPtr) {});
  auto r = client().rpc(loop_, "test.forget");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->errnum, EIO);
  EXPECT_NE(r->payload.find("without answering"), std::string::npos);
}

TEST_F(BrokerTest, AThrowingHandlerIsAnsweredAndLogged) {
  Broker& b = start();
  b.register_service("test.throw",
                     [](const msg::Message&, ResponderPtr) { throw std::runtime_error("boom"); });
  auto r = client().rpc(loop_, "test.throw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->errnum, EIO);
  EXPECT_TRUE(log_has(b, "test.throw: handler failed: boom"));
  auto p = client().rpc(loop_, "broker.ping", "ok");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload, "ok");
}

TEST_F(BrokerTest, ManyClientsEachGetTheirOwnReplies) {
  start();
  std::vector<Client*> cs;
  for (int i = 0; i < 5; ++i) cs.push_back(&client());
  for (int i = 0; i < 5; ++i) cs[i]->send("broker.ping", "c" + std::to_string(i), i);
  for (int i = 0; i < 5; ++i) {
    auto r = cs[i]->recv(loop_);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->payload, "c" + std::to_string(i));
    EXPECT_EQ(r->matchtag, static_cast<uint32_t>(i));
  }
}

TEST_F(BrokerTest, DmesgReturnsTheLogRingAsJson) {
  Broker& b = start();
  b.context().log(Level::kWarning, "something to see");
  auto r = client().rpc(loop_, "broker.dmesg");
  ASSERT_TRUE(r);
  auto j = nlohmann::json::parse(r->payload);
  auto& entries = j.at("entries");
  ASSERT_FALSE(entries.empty());
  const auto& last = entries.back();
  EXPECT_EQ(last.at("level"), "warning");
  EXPECT_EQ(last.at("text"), "something to see");
  EXPECT_GT(last.at("time").get<double>(), 1.6e9);
}

TEST_F(BrokerTest, StatsStatusReportsTheBrokersStats) {
  start({"stats.endpoint="});
  auto r = client().rpc(loop_, "stats.status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->errnum, 0);
  auto j = nlohmann::json::parse(r->payload);
  EXPECT_EQ(j.at("enabled"), false);
  EXPECT_EQ(j.at("endpoint"), "");
  for (const char* k :
       {"packets", "bytes", "send_errors", "dropped_lines", "dropped_samples", "invalid_names"})
    EXPECT_TRUE(j.contains(k)) << k;
}

TEST_F(BrokerTest, ModuleContextGivesTypedConfigAndRegistersServices) {
  // The broker knows a module's keys from the list it is given.
  modules_ = {{"m",
               [](ModuleContext&) { return std::make_unique<Module>(); },
               {ConfigKey::choice("m.hash", "sha1", {"sha1", "sha256"}, "a choice"),
                ConfigKey::integer("m.batch", 256, 1, 1024, "an integer")}}};
  Broker& b = start({"m.hash=sha256", "heartbeat.period=0.5"});
  ModuleContext& ctx = b.context();
  EXPECT_EQ(ctx.config().string("m.hash"), "sha256");
  EXPECT_EQ(ctx.config().number("heartbeat.period"), 0.5);
  EXPECT_EQ(ctx.config().integer("m.batch"), 256);
  EXPECT_EQ(ctx.statedir(), dir_.path());
  EXPECT_EQ(ctx.rank(), 0);
  ASSERT_TRUE(ctx.stats_context());
  ctx.register_service("mod.hello", [](const msg::Message&, ResponderPtr r) { r->ok("hi"); });
  auto r = client().rpc(loop_, "mod.hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload, "hi");
}

TEST_F(BrokerTest, HeartbeatCallsEveryHook) {
  Broker& b = start({"heartbeat.period=0.01"});
  int a = 0, c = 0;
  b.context().on_heartbeat([&] { ++a; });
  b.context().on_heartbeat([&] { ++c; });
  EXPECT_TRUE(run_until(loop_, [&] { return a >= 2 && c >= 2; }));
}

TEST_F(BrokerTest, ShutdownWaitsForEveryHookThenCallsDoneOnce) {
  Broker& b = start();
  std::function<void()> later;
  int first = 0;
  b.context().on_shutdown([&](std::function<void()> done) {
    ++first;
    done();
    done();  // a second call counts once
  });
  b.context().on_shutdown([&](std::function<void()> done) { later = done; });
  int finished = 0;
  b.shutdown([&] { ++finished; });
  b.shutdown([&] { ++finished; });  // ignored
  EXPECT_EQ(first, 1);
  EXPECT_EQ(finished, 0);
  ASSERT_TRUE(later);
  later();
  EXPECT_EQ(finished, 1);
  later();
  EXPECT_EQ(finished, 1);
}

TEST_F(BrokerTest, ShutdownGivesUpOnAHookThatNeverFinishes) {
  Broker& b = start();
  b.context().on_shutdown([](std::function<void()>) {});
  bool finished = false;
  b.shutdown([&] { finished = true; }, 0.05);
  EXPECT_TRUE(run_until(loop_, [&] { return finished; }));
  EXPECT_TRUE(log_has(b, "did not finish within"));
}

TEST_F(BrokerTest, LostDataReportedByModulesIsKeptInOrder) {
  Broker& b = start();
  EXPECT_TRUE(b.lost_data().empty());
  b.context().on_shutdown([&](std::function<void()> done) {
    b.context().report_lost_data("content: 3 blobs");
    b.context().report_lost_data("jobs: 1 output");
    done();
  });
  bool finished = false;
  b.shutdown([&] { finished = true; });
  EXPECT_TRUE(finished);
  EXPECT_EQ(b.lost_data(), (std::vector<std::string>{"content: 3 blobs", "jobs: 1 output"}));
}

TEST_F(BrokerTest, TcpWithoutCurveCertIsRefusedNamingTheKey) {
  try {
    start({}, "tcp://127.0.0.1:*");
    FAIL() << "tcp:// without security.curve-cert was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "security.curve-cert");
  }
}

TEST_F(BrokerTest, CurveAdmitsListedClientsAndRefusesOthers) {
  zcert_t* server = zcert_new();
  zcert_t* allowed = zcert_new();
  zcert_t* stranger = zcert_new();
  std::string cert_path = dir_.path() + "/server";
  ASSERT_EQ(zcert_save(server, cert_path.c_str()), 0);
  Broker& b = start({"security.curve-cert=" + cert_path,
                     "security.allowed-clients=['" + std::string(zcert_public_txt(allowed)) + "']"},
                    "tcp://127.0.0.1:*");
  EXPECT_EQ(b.uri().rfind("tcp://127.0.0.1:", 0), 0u);
  EXPECT_EQ(b.uri().find('*'), std::string::npos) << b.uri();
  EXPECT_EQ(b.server_key(), zcert_public_txt(server));

  clients_.push_back(std::make_unique<Client>(zctx_, b.uri(), zcert_public_key(server), allowed));
  auto r = clients_.back()->rpc(loop_, "broker.ping", "curve");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload, "curve");

  clients_.push_back(std::make_unique<Client>(zctx_, b.uri(), zcert_public_key(server), stranger));
  Client& refused = *clients_.back();
  refused.send("broker.ping", "let me in");
  std::string expect = std::string("refused CURVE client ") + zcert_public_txt(stranger);
  EXPECT_TRUE(run_until(loop_, [&] { return log_has(b, expect); }));
  // Once refused, its request is never served.
  EXPECT_FALSE(refused.recv(loop_, 0.2));
  zcert_destroy(&server);
  zcert_destroy(&allowed);
  zcert_destroy(&stranger);
}

TEST_F(BrokerTest, AUserKeyMayUseContentAndStatsButNotJobsWhichOwnersMay) {
  zcert_t* server = zcert_new();
  zcert_t* owner = zcert_new();
  zcert_t* user = zcert_new();
  std::string cert_path = dir_.path() + "/server";
  ASSERT_EQ(zcert_save(server, cert_path.c_str()), 0);
  Broker& b = start({"security.curve-cert=" + cert_path,
                     "security.allowed-clients=['" + std::string(zcert_public_txt(owner)) + "']",
                     "security.user-clients=['" + std::string(zcert_public_txt(user)) + "']"},
                    "tcp://127.0.0.1:*");
  for (const char* topic : {"content.load", "job-manager.submit", "jobtap.load"})
    b.register_service(topic, [](const msg::Message& req, ResponderPtr r) { r->ok(req.topic); });
  clients_.push_back(std::make_unique<Client>(zctx_, b.uri(), zcert_public_key(server), user));
  Client& u = *clients_.back();
  for (const char* topic : {"broker.ping", "content.load", "stats.status"}) {
    auto r = u.rpc(loop_, topic);
    ASSERT_TRUE(r) << topic;
    EXPECT_EQ(r->errnum, 0) << topic << ": " << r->payload;
  }
  for (const char* topic : {"job-manager.submit", "jobtap.load", "broker.dmesg"}) {
    auto r = u.rpc(loop_, topic);
    ASSERT_TRUE(r) << topic;
    EXPECT_EQ(r->errnum, EPERM) << topic;
    EXPECT_EQ(r->payload.rfind(std::string(topic) + ": permission denied: this client's key is "
                                                    "in security.user-clients",
                               0),
              0u)
        << r->payload;
  }
  // The same for the requests of a batch: each is judged on its own.
  u.send_batch(
      {msg::Message::request("content.load", "", 1), msg::Message::request("jobtap.load", "", 2)});
  auto replies = u.recv_batch(loop_);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].errnum, 0);
  EXPECT_EQ(replies[1].errnum, EPERM);
  // An owner may do everything.
  clients_.push_back(std::make_unique<Client>(zctx_, b.uri(), zcert_public_key(server), owner));
  for (const char* topic : {"job-manager.submit", "jobtap.load", "broker.dmesg"}) {
    auto r = clients_.back()->rpc(loop_, topic);
    ASSERT_TRUE(r) << topic;
    EXPECT_EQ(r->errnum, 0) << topic << ": " << r->payload;
  }
  zcert_destroy(&server);
  zcert_destroy(&owner);
  zcert_destroy(&user);
}

// Fake modules that record their life in `events`.
std::vector<std::string> events;
struct FakeModule : Module {
  FakeModule(ModuleContext& ctx, std::string name) : name_(std::move(name)) {
    events.push_back("create " + name_);
    ctx.register_service(name_ + ".hello", [n = name_](const msg::Message&, ResponderPtr r) {
      r->ok("hello from " + n);
    });
    ctx.on_shutdown([this](std::function<void()> done) {
      events.push_back("shutdown " + name_);
      done();
    });
  }
  ~FakeModule() override { events.push_back("destroy " + name_); }
  std::string name_;
};
std::unique_ptr<Module> make_a(ModuleContext& ctx) {
  return std::make_unique<FakeModule>(ctx, "a");
}
std::unique_ptr<Module> make_b(ModuleContext& ctx) {
  return std::make_unique<FakeModule>(ctx, "b");
}
std::unique_ptr<Module> make_none(ModuleContext&) { return nullptr; }

TEST_F(BrokerTest, ModulesAreCreatedInOrderServeAndAreDestroyedInReverse) {
  events.clear();
  modules_ = {{"a", make_a}, {"b", make_b}};
  Broker& b = start();
  auto r = client().rpc(loop_, "b.hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload, "hello from b");
  bool finished = false;
  b.shutdown([&] { finished = true; });
  EXPECT_TRUE(finished);
  clients_.clear();
  broker_.reset();
  EXPECT_EQ(events, (std::vector<std::string>{"create a", "create b", "shutdown a", "shutdown b",
                                              "destroy b", "destroy a"}));
}

TEST_F(BrokerTest, ModulesCallServicesInProcess) {
  Broker& b = start();
  ModuleContext& ctx = b.context();
  ctx.register_service(
      "mod.echo", [](const msg::Message& req, ResponderPtr r) { r->ok("echo " + req.payload); });
  ctx.register_service("mod.forget", [](const msg::Message&, ResponderPtr) {});
  ctx.register_service("mod.throw",
                       [](const msg::Message&, ResponderPtr) { throw std::runtime_error("bad"); });
  std::vector<msg::Message> got;
  auto collect = [&](const msg::Message& m) { got.push_back(m); };
  ctx.call(msg::Message::request("mod.echo", "x", 5), collect);
  ctx.call(msg::Message::request("mod.none", "", 6), collect);
  ctx.call(msg::Message::request("mod.forget", "", 7), collect);
  ctx.call(msg::Message::request("mod.throw", "", 8), collect);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].errnum, 0);
  EXPECT_EQ(got[0].payload, "echo x");
  EXPECT_EQ(got[0].matchtag, 5u);
  EXPECT_EQ(got[1].errnum, ENOSYS);
  EXPECT_EQ(got[1].payload, "unknown service: mod.none");
  EXPECT_EQ(got[2].errnum, EIO);
  EXPECT_EQ(got[3].errnum, EIO);
}

TEST_F(BrokerTest, AModuleThatFailsToStartStopsStartUp) {
  events.clear();
  modules_ = {{"a", make_a}, {"broken", make_none}};
  EXPECT_THROW(start(), StartupError);
  EXPECT_EQ(events, (std::vector<std::string>{"create a", "destroy a"}));
}

TEST(Log, RingKeepsTheLastEntriesOldestFirstWithTheirLevels) {
  Log log(3, false);
  log.log(Level::kErr, "one");
  log.log(Level::kWarning, "two");
  log.log(Level::kNotice, "three");
  log.log(Level::kInfo, "four");
  log.log(Level::kDebug, "five");
  auto e = log.entries();
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].text, "three");
  EXPECT_EQ(e[0].level, Level::kNotice);
  EXPECT_EQ(e[1].level, Level::kInfo);
  EXPECT_EQ(e[2].text, "five");
  EXPECT_EQ(e[2].level, Level::kDebug);
  EXPECT_LE(e[0].time, e[2].time);
}

TEST(Log, DmesgJsonSurvivesInvalidUtf8) {
  Log log(10, false);
  log.log(Level::kWarning, std::string("bad \xff byte"));
  auto j = nlohmann::json::parse(log.dmesg_json());
  EXPECT_EQ(j.at("entries").size(), 1u);
}

}  // namespace

// A stderr that nobody reads (a full pipe) must never block logging: the lines that do not
// fit are dropped and counted, and the count is printed once the pipe drains.
TEST(Log, AStderrNobodyReadsNeverBlocksAndDroppedLinesAreReported) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  alarm(60);  // a blocked log() would hang here forever: fail the test instead
  {
    Log log(100, true, p[1]);
    for (int i = 0; i < 20000; i++) log.log(Level::kWarning, "line that nobody reads");
    EXPECT_GT(log.stderr_dropped(), 0u);
    EXPECT_EQ(log.entries().size(), 100u) << "the ring keeps everything regardless";
    // Drain the pipe until the writer reports what it dropped.
    std::string seen;
    char buf[65536];
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    for (int tries = 0; tries < 1000 && seen.find("dropped") == std::string::npos; tries++) {
      ssize_t n = read(p[0], buf, sizeof buf);
      if (n > 0) {
        seen.append(buf, static_cast<size_t>(n));
        if (seen.size() > (1u << 20)) seen.erase(0, seen.size() - 4096);
      } else {
        usleep(10000);
      }
    }
    EXPECT_NE(seen.find("log line(s) dropped: stderr was not being read"), std::string::npos);
  }
  alarm(0);
  close(p[0]);
  close(p[1]);
}

TEST(Log, DestroyingTheLogDoesNotHangOnAFullStderr) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  alarm(60);
  {
    Log log(10, true, p[1]);
    for (int i = 0; i < 5000; i++) log.log(Level::kErr, "filling the pipe");
  }  // the writer gives up within its deadline
  alarm(0);
  close(p[0]);
  close(p[1]);
}

TEST(Log, ALimitedSourcePassesABurstThenCountsTheRest) {
  Log log(1000, false);
  for (int i = 0; i < 100; i++)
    log.log_limited("malformed messages", Level::kWarning, "dropped message " + std::to_string(i));
  log.log_limited("other source", Level::kWarning, "another kind");
  auto entries = log.entries();
  ASSERT_EQ(entries.size(), static_cast<size_t>(Log::kBurst) + 1);
  EXPECT_EQ(entries[0].text, "dropped message 0");
  EXPECT_EQ(entries[Log::kBurst - 1].text, "dropped message " + std::to_string(Log::kBurst - 1));
  EXPECT_EQ(entries.back().text, "another kind");
  log.report_suppressed();  // the window has not passed: nothing yet
  EXPECT_EQ(log.entries().size(), static_cast<size_t>(Log::kBurst) + 1);
}

TEST(Log, SuppressedMessagesAreCountedOnceTheWindowPasses) {
  Log log(1000, false);
  log.set_limit_window(0.01);
  for (int i = 0; i < 100; i++) log.log_limited("malformed messages", Level::kWarning, "m");
  usleep(20000);  // let the (shortened) window pass
  log.report_suppressed();
  auto entries = log.entries();
  ASSERT_EQ(entries.size(), static_cast<size_t>(Log::kBurst) + 1);
  EXPECT_EQ(entries.back().text,
            fmt::format("{} similar messages suppressed (malformed messages) in the last 0.01 s",
                        100 - Log::kBurst));
  EXPECT_EQ(entries.back().level, Level::kWarning);
}
