// Unit tests for the cairn message codec: every message survives encode -> decode unchanged,
// and every malformed multipart form is rejected with a reason (never a throw, never a crash).
#include <gtest/gtest.h>

#include <cerrno>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libmsg/message.hpp"
#include "libmsg/test/expect_same.hpp"

namespace cairn::msg {
namespace {

Message roundtrip(const Message& m) {
  auto d = decode(encode(m));
  EXPECT_TRUE(d.ok()) << d.error().text;
  return d.ok() ? std::move(d).value() : Message{};
}

using test::expect_same;

// Views of `frames`, as a receiver that keeps them in its own buffers passes them.
std::vector<std::string_view> views(const Frames& frames) {
  return std::vector<std::string_view>(frames.begin(), frames.end());
}

// Decodes `frames` and expects an EPROTO rejection whose reason contains `reason`, the same
// from views.
void expect_rejected(const Frames& frames, const std::string& reason) {
  std::optional<util::Result<Message>> d, from_views;
  ASSERT_NO_THROW(from_views.emplace(decode(views(frames))));
  ASSERT_NO_THROW(d.emplace(decode(Frames(frames))));
  ASSERT_FALSE(d->ok());
  EXPECT_EQ(d->error().errnum, EPROTO);
  EXPECT_NE(d->error().text.find(reason), std::string::npos) << "error was: " << d->error().text;
  ASSERT_FALSE(from_views->ok());
  EXPECT_EQ(from_views->error().errnum, EPROTO);
  EXPECT_EQ(from_views->error().text, d->error().text);
}

Frames valid_request() { return encode(Message::request("broker.ping", "x", 7)); }

TEST(Codec, RequestRoundTripKeepsEveryField) {
  Message m = Message::request("content.store", std::string("\0\x01\xff payload", 11), 0xdeadbeef,
                               kFlagStreaming);
  Message back = roundtrip(m);
  expect_same(back, m);
  EXPECT_EQ(back.type, Type::kRequest);
}

TEST(Codec, ResponseEchoesTopicAndTagOfTheRequest) {
  Message req = Message::request("broker.ping", "abc", 42, kFlagStreaming);
  Message resp = Message::response(req, "abc");
  EXPECT_EQ(resp.type, Type::kResponse);
  EXPECT_EQ(resp.topic, "broker.ping");
  EXPECT_EQ(resp.matchtag, 42u);
  EXPECT_EQ(resp.errnum, 0);
  expect_same(roundtrip(resp), resp);
}

TEST(Codec, ErrorResponseCarriesErrnoAndText) {
  Message req = Message::request("no.such", "", 1);
  Message err = Message::error(req, ENOSYS, "unknown service: no.such");
  Message back = roundtrip(err);
  EXPECT_EQ(back.errnum, ENOSYS);
  EXPECT_EQ(back.payload, "unknown service: no.such");
  expect_same(back, err);
}

TEST(Codec, NegativeErrnoAndExtremeValuesSurvive) {
  Message req =
      Message::request(std::string(255, 'a'), std::string(1 << 20, 'z'), 0xffffffffu, 0xffffffffu);
  expect_same(roundtrip(req), req);
  Message err = Message::error(req, -5, "");
  EXPECT_EQ(roundtrip(err).errnum, -5);
}

TEST(Codec, EmptyPayloadIsAllowed) {
  Message m = Message::request("broker.dmesg", "", 3);
  EXPECT_EQ(roundtrip(m).payload, "");
}

TEST(Codec, EncodingIsThreeFramesWithA16ByteLittleEndianHeader) {
  Frames f = encode(Message::request("t", "p", 0x04030201u, 0x08070605u));
  ASSERT_EQ(f.size(), 3u);
  ASSERT_EQ(f[0].size(), 16u);
  EXPECT_EQ(f[0][0], 1);  // version
  EXPECT_EQ(f[0][1], 1);  // request
  EXPECT_EQ(f[0].substr(4, 8), "\x01\x02\x03\x04\x05\x06\x07\x08");
  EXPECT_EQ(f[1], "t");
  EXPECT_EQ(f[2], "p");
}

TEST(Codec, EncodeHeaderIsFrameZeroOfEncode) {
  Message m = Message::error(Message::request("a.b", "x", 0xdeadbeef, kFlagStreaming), -7, "t");
  char header[kHeaderBytes];
  encode_header(m, header);
  EXPECT_EQ(std::string(header, sizeof header), encode(m)[0]);
}

// A receiver decodes message after message into one Message: each decode must leave nothing of
// the one before (a longer topic or payload, a streaming flag, an errno).
TEST(Codec, DecodeIntoAReusedMessageLeavesNothingOfTheLastOne) {
  Message into;
  Message first = Message::error(Message::request("a.much-longer-topic-than-the-next",
                                                  std::string(4096, 'x'), 9, kFlagStreaming),
                                 EPERM, "denied");
  util::Status st = decode_into(views(encode(first)), into);
  ASSERT_TRUE(st.ok()) << st.error().text;
  expect_same(into, first);
  Message second = Message::request("b.c", "", 10);
  st = decode_into(views(encode(second)), into);
  ASSERT_TRUE(st.ok()) << st.error().text;
  expect_same(into, second);
  // A malformed message is refused with decode()'s reason, and the next good one decodes whole.
  Frames bad = encode(second);
  bad[1] = "no spaces allowed";
  st = decode_into(views(bad), into);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().errnum, EPROTO);
  EXPECT_EQ(st.error().text, decode(Frames(bad)).error().text);
  Message third = Message::response(second, "ok");
  st = decode_into(views(encode(third)), into);
  ASSERT_TRUE(st.ok()) << st.error().text;
  expect_same(into, third);
}

TEST(Codec, DecodeByMoveAgreesWithDecodeFromViews) {
  Message m = Message::request("content.store", std::string(4096, 'z'), 42, kFlagStreaming);
  Frames frames = encode(m);
  auto from_views = decode(views(frames));
  auto by_move = decode(Frames(frames));
  ASSERT_TRUE(by_move.ok() && from_views.ok());
  expect_same(*by_move, m);
  expect_same(*from_views, m);
  // Malformed input is rejected the same way, with the same reason.
  Frames bad = {frames[0], "no spaces allowed", frames[2]};
  auto bad_views = decode(views(bad));
  auto bad_move = decode(std::move(bad));
  ASSERT_FALSE(bad_move.ok());
  ASSERT_FALSE(bad_views.ok());
  EXPECT_EQ(bad_views.error().text, bad_move.error().text);
  EXPECT_EQ(bad_move.error().text, kBadTopicError);
}

TEST(Codec, WrongFrameCountIsRejected) {
  expect_rejected({}, "expected 3 frames, got 0");
  Frames f = valid_request();
  f.pop_back();
  expect_rejected(f, "expected 3 frames, got 2");
  f = valid_request();
  f.push_back("extra");
  expect_rejected(f, "expected 3 frames, got 4");
}

TEST(Codec, WrongHeaderSizeIsRejected) {
  Frames f = valid_request();
  f[0].resize(15);
  expect_rejected(f, "header is 15 bytes");
  f[0].resize(17);
  expect_rejected(f, "header is 17 bytes");
  f[0].clear();
  expect_rejected(f, "header is 0 bytes");
}

TEST(Codec, UnknownVersionIsRejected) {
  Frames f = valid_request();
  f[0][0] = 2;
  expect_rejected(f, "unknown protocol version 2");
  f[0][0] = 0;
  expect_rejected(f, "unknown protocol version 0");
}

TEST(Codec, UnknownTypeIsRejected) {
  Frames f = valid_request();
  for (int t : {0, 3, 255}) {
    f[0][1] = static_cast<char>(t);
    expect_rejected(f, "unknown message type " + std::to_string(t));
  }
}

TEST(Codec, NonZeroReservedBytesAreRejected) {
  Frames f = valid_request();
  f[0][2] = 1;
  expect_rejected(f, "reserved header bytes");
  f = valid_request();
  f[0][3] = '\x80';
  expect_rejected(f, "reserved header bytes");
}

TEST(Codec, BadTopicsAreRejected) {
  for (const std::string& topic :
       {std::string(), std::string(256, 'a'), std::string("has space"), std::string("tab\t"),
        std::string("nl\n"), std::string("nul\0x", 5), std::string("del\x7f"),
        std::string("high\xc3\xa9")}) {
    Frames f = valid_request();
    f[1] = topic;
    expect_rejected(f, "topic must be 1-255 printable characters");
  }
}

TEST(Codec, RequestWithErrnoIsRejected) {
  Frames f = valid_request();
  f[0][12] = 5;
  expect_rejected(f, "request carries an errno");
}

}  // namespace
}  // namespace cairn::msg
