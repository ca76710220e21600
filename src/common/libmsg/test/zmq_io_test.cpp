// ZmqReceived, send_body, send_frames and recv_frames over an inproc PAIR: what goes out with
// send_body decodes to the same message, a message longer than kMaxParts is counted and
// reported without disturbing the next one, a received message survives a move, and whole
// messages go through as Frames.
#include "libmsg/zmq_io.hpp"

#include <gtest/gtest.h>
#include <zmq.h>

#include <string>
#include <vector>

namespace cairn::msg {
namespace {

class ZmqIoTest : public ::testing::Test {
 protected:
  ZmqIoTest()
      : ctx_(zmq_ctx_new()), a_(zmq_socket(ctx_, ZMQ_PAIR)), b_(zmq_socket(ctx_, ZMQ_PAIR)) {
    int ms = 5000;  // a lost message fails the test instead of hanging it
    zmq_setsockopt(b_, ZMQ_RCVTIMEO, &ms, sizeof ms);
    zmq_bind(a_, "inproc://zmq-io-test");
    zmq_connect(b_, "inproc://zmq-io-test");
  }
  ~ZmqIoTest() override {
    zmq_close(a_);
    zmq_close(b_);
    zmq_ctx_term(ctx_);
  }
  void send_parts(const std::vector<std::string>& parts) {
    for (size_t i = 0; i < parts.size(); ++i)
      zmq_send(a_, parts[i].data(), parts[i].size(), i + 1 < parts.size() ? ZMQ_SNDMORE : 0);
  }
  void* ctx_;
  void* a_;
  void* b_;
};

TEST_F(ZmqIoTest, NothingWaitingIsZeroWithDontwait) {
  ZmqReceived in;
  EXPECT_EQ(in.receive(b_, ZMQ_DONTWAIT), 0);
  EXPECT_EQ(in.count(), 0u);
}

TEST_F(ZmqIoTest, SendBodyDecodesToTheSameMessage) {
  Message m = Message::error(Message::request("content.load", "", 77, kFlagStreaming), ENOENT,
                             std::string(3000, 'e'));
  ASSERT_TRUE(send_body(a_, m, m.topic, m.payload));
  ZmqReceived in;
  ASSERT_EQ(in.receive(b_), 1);
  ASSERT_EQ(in.count(), 3u);
  EXPECT_EQ(std::string(in.part(0)), encode(m)[0]);
  util::Result<Message> d = in.decode();
  ASSERT_TRUE(d) << d.error().text;
  EXPECT_EQ(d->type, Type::kResponse);
  EXPECT_EQ(d->topic, "content.load");
  EXPECT_EQ(d->matchtag, 77u);
  EXPECT_EQ(d->flags, kFlagStreaming);
  EXPECT_EQ(d->errnum, ENOENT);
  EXPECT_EQ(d->payload, m.payload);
}

TEST_F(ZmqIoTest, AnEnvelopeIsSkippedByDecodingFromItsEnd) {
  Frames body = encode(Message::request("broker.ping", "x", 5));
  send_parts({"identity", "", body[0], body[1], body[2]});
  ZmqReceived in;
  ASSERT_EQ(in.receive(b_), 1);
  ASSERT_EQ(in.count(), 5u);
  EXPECT_EQ(in.part(0), "identity");
  util::Result<Message> d = in.decode(2);
  ASSERT_TRUE(d) << d.error().text;
  EXPECT_EQ(d->topic, "broker.ping");
  EXPECT_EQ(d->payload, "x");
}

TEST_F(ZmqIoTest, ALongMessageIsCountedAndRejectedAndTheNextOneIsWhole) {
  send_parts({"1", "2", "3", "4", "5", "6", "7"});
  Frames next = encode(Message::request("broker.ping", "after", 6));
  send_parts(next);
  ZmqReceived in;
  ASSERT_EQ(in.receive(b_), 1);
  EXPECT_EQ(in.count(), 7u);
  EXPECT_EQ(in.part(4), "5");  // the parts kept are the first ones
  util::Result<Message> d = in.decode(1);
  EXPECT_FALSE(d);
  EXPECT_EQ(d.error().text, "expected 3 frames, got 6");
  ASSERT_EQ(in.receive(b_), 1);
  util::Result<Message> n = in.decode();
  ASSERT_TRUE(n) << n.error().text;
  EXPECT_EQ(n->payload, "after");
}

TEST_F(ZmqIoTest, AReceivedMessageSurvivesAMove) {
  send_parts(encode(Message::request("a.b", "moved", 9)));
  send_parts(encode(Message::request("c.d", "other", 10)));
  ZmqReceived in;
  ASSERT_EQ(in.receive(b_), 1);
  ZmqReceived moved(std::move(in));
  EXPECT_EQ(in.count(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  // The moved-from one can receive again; that must not change what `moved` holds (small parts
  // live inside each zmq_msg_t, so the moved message has to look at its own).
  ASSERT_EQ(in.receive(b_), 1);  // NOLINT(bugprone-use-after-move)
  ASSERT_EQ(moved.count(), 3u);
  EXPECT_EQ(moved.part(1), "a.b");
  util::Result<Message> d = moved.decode();
  ASSERT_TRUE(d) << d.error().text;
  EXPECT_EQ(d->topic, "a.b");
  EXPECT_EQ(d->payload, "moved");
  util::Result<Message> other = in.decode();
  ASSERT_TRUE(other) << other.error().text;
  EXPECT_EQ(other->payload, "other");
}

TEST_F(ZmqIoTest, ClearReleasesThePartsAndTheNextReceiveWorks) {
  send_parts(encode(Message::request("a.b", std::string(1 << 20, 'm'), 1)));
  send_parts(encode(Message::request("a.b", "next", 2)));
  ZmqReceived in;
  ASSERT_EQ(in.receive(b_), 1);
  in.clear();
  EXPECT_EQ(in.count(), 0u);
  EXPECT_NE(in.decode().error().text.find("got 0"), std::string::npos);
  ASSERT_EQ(in.receive(b_), 1);
  util::Result<Message> d = in.decode();
  ASSERT_TRUE(d) << d.error().text;
  EXPECT_EQ(d->payload, "next");
}

TEST_F(ZmqIoTest, FramesGoThroughWholeAndNothingWaitingIsZero) {
  Frames got{"stale"};
  EXPECT_EQ(recv_frames(b_, got, ZMQ_DONTWAIT), 0);
  EXPECT_TRUE(got.empty());
  Frames sent{"one", "", std::string(1000, 'x'), std::string("nul\0inside", 10)};
  ASSERT_TRUE(send_frames(a_, sent));
  ASSERT_TRUE(send_frames(a_, {"next"}));
  EXPECT_EQ(recv_frames(b_, got), 1);
  EXPECT_EQ(got, sent);
  EXPECT_EQ(recv_frames(b_, got, ZMQ_DONTWAIT), 1);  // replaces, does not append
  EXPECT_EQ(got, Frames{"next"});
}

}  // namespace
}  // namespace cairn::msg
