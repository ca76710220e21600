// Unit tests for batch frames: every batch survives write -> read unchanged, entries come out in
// order, and every malformed frame is refused as a whole with a reason (never a throw, never a
// read past the frame). A seeded mutation loop stands in for the fuzzer in builds without one.
#include "libmsg/batch.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <random>
#include <string>
#include <vector>

#include "libmsg/test/expect_same.hpp"

namespace cairn::msg {
namespace {

std::vector<Message> sample() {
  std::vector<Message> ms;
  ms.push_back(Message::request("content.store", "hello\n", 1));
  ms.push_back(Message::request("broker.ping", "", 2, kFlagStreaming));
  ms.push_back(Message::request("content.load", std::string("\0\xff\n", 3), 0xffffffffu));
  ms.push_back(Message::request(std::string(255, 'x'), std::string(70000, 'p'), 4));
  return ms;
}

std::string write(const std::vector<Message>& ms) {
  BatchWriter w;
  for (const auto& m : ms) w.add(m, m.topic, m.payload);
  return w.frame();
}

using test::expect_same;

void expect_refused(const std::string& frame, const std::string& reason) {
  auto r = BatchReader::open(frame);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, EPROTO);
  EXPECT_NE(r.error().text.find(reason), std::string::npos) << r.error().text;
}

TEST(Batch, RoundTripKeepsOrderAndEveryField) {
  auto ms = sample();
  std::string frame = write(ms);
  EXPECT_EQ(frame.size(),
            kBatchHeaderBytes + 4 * kBatchEntryBytes + 13 + 6 + 11 + 12 + 3 + 255 + 70000);
  EXPECT_TRUE(looks_like_batch(frame));
  auto r = BatchReader::open(frame);
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_EQ(r->count(), 4u);
  Message got = Message::request("left.over", "old", 9);
  for (const auto& m : ms) {
    ASSERT_FALSE(r->done());
    ASSERT_TRUE(r->next(got).ok());
    expect_same(m, got);
  }
  EXPECT_TRUE(r->done());
}

TEST(Batch, ResponsesWithErrnoRoundTrip) {
  Message req = Message::request("no.such", "", 7);
  std::vector<Message> ms{Message::error(req, ENOSYS, "unknown service: no.such"),
                          Message::response(req, "ok")};
  std::string frame = write(ms);
  auto r = BatchReader::open(frame);
  ASSERT_TRUE(r.ok());
  Message got;
  for (const auto& m : ms) {
    ASSERT_TRUE(r->next(got).ok());
    expect_same(m, got);
  }
}

TEST(Batch, ViewsPointIntoTheFrame) {
  std::string frame = write(sample());
  auto r = BatchReader::open(frame);
  ASSERT_TRUE(r.ok());
  Message fields;
  std::string_view topic, payload;
  ASSERT_TRUE(r->next_view(fields, topic, payload).ok());
  EXPECT_EQ(topic, "content.store");
  EXPECT_EQ(payload, "hello\n");
  EXPECT_GE(payload.data(), frame.data());
  EXPECT_LT(payload.data(), frame.data() + frame.size());
}

TEST(Batch, WriterClearStartsAnEmptyBatch) {
  BatchWriter w;
  w.add(Message::request("a.b", "x", 1), "a.b", "x");
  w.clear();
  EXPECT_EQ(w.count(), 0u);
  EXPECT_EQ(w.size(), kBatchHeaderBytes);
  w.add(Message::request("c.d", "y", 2), "c.d", "y");
  auto r = BatchReader::open(w.frame());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->count(), 1u);
}

TEST(Batch, MalformedFramesAreRefusedWithAReason) {
  std::string good = write(sample());
  expect_refused("", "header is 0 bytes, expected 8");
  expect_refused(good.substr(0, 7), "header is 7 bytes");
  std::string s = good;
  s[1] = 1;
  expect_refused(s, "not a batch header");
  s = good;
  s[2] = 1;
  expect_refused(s, "reserved header bytes are not zero");
  // Count 0, and a count larger than the limit.
  BatchWriter empty;
  expect_refused(empty.frame(), "carries no message");
  s = good;
  s[4] = s[5] = s[6] = 0;
  s[7] = 1;  // 2^24 messages
  expect_refused(s, "at most 65536 allowed");
  // A count larger than what the frame holds; a frame cut inside an entry header; an entry
  // whose lengths run past the end; bytes left over.
  s = good;
  s[4] = 5;
  expect_refused(s, "message 5 of 5 is cut short");
  expect_refused(good.substr(0, kBatchHeaderBytes + 10), "message 1 of 4 is cut short");
  expect_refused(good.substr(0, good.size() - 1), "message 4 of 4 runs past the end");
  expect_refused(good + "x", "1 bytes after the last of 4 messages");
  // Lengths near 2^32 must not wrap around the bounds check.
  s = good;
  for (int i = 0; i < 4; ++i) s[kBatchHeaderBytes + kHeaderBytes + i] = '\xff';
  for (int i = 0; i < 4; ++i) s[kBatchHeaderBytes + kHeaderBytes + 4 + i] = '\xff';
  expect_refused(s, "message 1 of 4 runs past the end");
}

TEST(Batch, AnEntryWithABadTopicIsReportedAndSkipped) {
  BatchWriter w;
  w.add(Message::request("", "", 11), "has space", "x");
  w.add(Message::request("", "", 12), "fine.topic", "y");
  auto r = BatchReader::open(w.frame());
  ASSERT_TRUE(r.ok());
  Message m;
  auto st = r->next(m);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().text, kBadTopicError);
  EXPECT_EQ(m.matchtag, 11u);  // the header is decoded: the request can be answered
  ASSERT_TRUE(r->next(m).ok());
  EXPECT_EQ(m.matchtag, 12u);
  EXPECT_EQ(m.payload, "y");
}

TEST(Batch, AnEntryWithABadHeaderIsReportedAndSkipped) {
  std::string frame = write({Message::request("a.b", "1", 1), Message::request("c.d", "2", 2)});
  frame[kBatchHeaderBytes] = 9;  // first entry: unknown version
  auto r = BatchReader::open(frame);
  ASSERT_TRUE(r.ok());
  Message m;
  auto st = r->next(m);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().text, "unknown protocol version 9");
  ASSERT_TRUE(r->next(m).ok());
  EXPECT_EQ(m.topic, "c.d");
}

// Truncations, bit flips and byte insertions of valid batches: open() accepts or refuses
// (EPROTO, with a reason), and what it accepts reads to its end without touching memory outside
// the frame (checked by the sanitizers in the CI build).
TEST(Batch, MutatedFramesNeverCrash) {
  std::mt19937 rng(20261127);
  std::vector<std::string> seeds{
      write({Message::request("a.b", "x", 1)}),
      write({Message::request("content.store", "hello", 1), Message::request("p.q", "", 2)}),
      write({Message::response(Message::request("r.s", "", 3), std::string(40, 'z'))})};
  size_t accepted = 0;
  for (int iter = 0; iter < 200000; ++iter) {
    std::string s = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 3) {
        case 0:
          if (!s.empty()) s[rng() % s.size()] ^= static_cast<char>(1u << (rng() % 8));
          break;
        case 1:
          s.resize(rng() % (s.size() + 1));
          break;
        default:
          s.insert(s.begin() + static_cast<long>(rng() % (s.size() + 1)),
                   static_cast<char>(rng() & 0xff));
      }
    }
    auto r = BatchReader::open(s);
    if (!r.ok()) {
      ASSERT_EQ(r.error().errnum, EPROTO);
      ASSERT_FALSE(r.error().text.empty());
      continue;
    }
    ++accepted;
    Message m;
    uint32_t n = 0;
    while (!r->done()) {
      auto st = r->next(m);
      if (!st) {
        ASSERT_EQ(st.error().errnum, EPROTO);
      }
      ++n;
    }
    ASSERT_EQ(n, r->count());
  }
  EXPECT_GT(accepted, 0u);  // the mutations also reach the entry decoder
}

}  // namespace
}  // namespace cairn::msg
