// Unit tests for local:// stream framing: frames come out whole and in order however the stream
// is split (at every byte boundary, one byte at a time), complete frames are not copied, and a
// zero or oversized length fails the stream for good with the reason.
#include "libmsg/stream.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "libmsg/batch.hpp"

namespace cairn::msg {
namespace {

std::string framed(const std::string& frame) {
  char prefix[kStreamPrefixBytes];
  encode_stream_prefix(static_cast<uint32_t>(frame.size()), prefix);
  return std::string(prefix, sizeof prefix) + frame;
}

std::vector<std::string> sample_frames() {
  std::vector<std::string> frames;
  BatchWriter w;
  w.add(Message::request("broker.ping", "one", 1), "broker.ping", "one");
  frames.push_back(w.frame());
  w.clear();
  for (uint32_t i = 0; i < 3; ++i) w.add(Message::request("x", "", i + 2), "content.load", "ab");
  frames.push_back(w.frame());
  frames.push_back(std::string(1000, 'z'));  // the decoder does not look inside a frame
  return frames;
}

std::string stream_of(const std::vector<std::string>& frames) {
  std::string s;
  for (const auto& f : frames) s += framed(f);
  return s;
}

// Feeds `pieces` in turn and returns every frame handed out.
std::vector<std::string> decode(FrameDecoder& d, const std::vector<std::string_view>& pieces) {
  std::vector<std::string> out;
  for (auto piece : pieces) {
    auto st = d.feed(piece, [&](std::string_view f) {
      out.emplace_back(f);
      return true;
    });
    EXPECT_TRUE(st) << st.error().text;
  }
  return out;
}

TEST(FrameDecoder, FramesComeOutWholeWhereverTheStreamIsSplit) {
  auto frames = sample_frames();
  std::string stream = stream_of(frames);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    for (size_t cut2 = cut; cut2 <= stream.size(); cut2 += 97) {
      FrameDecoder d(1 << 20);
      std::string_view s(stream);
      auto out = decode(d, {s.substr(0, cut), s.substr(cut, cut2 - cut), s.substr(cut2)});
      ASSERT_EQ(out, frames) << "cut at " << cut << " and " << cut2;
      EXPECT_FALSE(d.mid_frame());
    }
  }
}

TEST(FrameDecoder, OneByteAtATimeGivesEveryFrame) {
  auto frames = sample_frames();
  std::string stream = stream_of(frames);
  FrameDecoder d(1 << 20);
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < stream.size(); ++i) bytes.push_back(std::string_view(stream).substr(i, 1));
  EXPECT_EQ(decode(d, bytes), frames);
}

TEST(FrameDecoder, CompleteFramesAreViewsOfTheCallersBuffer) {
  std::string stream = stream_of(sample_frames());
  FrameDecoder d(1 << 20);
  std::vector<const char*> at;
  ASSERT_TRUE(d.feed(stream, [&](std::string_view f) {
    at.push_back(f.data());
    return true;
  }));
  ASSERT_EQ(at.size(), 3u);
  EXPECT_EQ(at[0], stream.data() + kStreamPrefixBytes);
}

TEST(FrameDecoder, AnUnfinishedFrameIsKeptAndReportedAsMidFrame) {
  std::string stream = framed("abcdef");
  FrameDecoder d(100);
  auto out = decode(d, {std::string_view(stream).substr(0, 7)});
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(d.mid_frame());
  EXPECT_EQ(d.buffered(), 7u);
  out = decode(d, {std::string_view(stream).substr(7)});
  EXPECT_EQ(out, std::vector<std::string>{"abcdef"});
  EXPECT_FALSE(d.mid_frame());
}

TEST(FrameDecoder, ALengthPastTheLimitFailsTheStreamForGood) {
  FrameDecoder d(10);
  std::string stream = framed(std::string(11, 'a'));
  int frames = 0;
  auto st = d.feed(std::string_view(stream).substr(0, 4), [&](std::string_view) {
    ++frames;
    return true;
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().errnum, EMSGSIZE);
  EXPECT_NE(st.error().text.find("11 bytes, past the limit of 10"), std::string::npos)
      << st.error().text;
  EXPECT_TRUE(d.failed());
  // Nothing after it is believed, even a sound frame.
  st = d.feed(framed("ok"), [&](std::string_view) {
    ++frames;
    return true;
  });
  EXPECT_FALSE(st);
  EXPECT_EQ(frames, 0);
}

TEST(FrameDecoder, ALengthOfZeroIsAProtocolError) {
  FrameDecoder d(10);
  std::string stream(4, '\0');
  auto st = d.feed(stream, [](std::string_view) { return true; });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().errnum, EPROTO);
}

TEST(FrameDecoder, OnFrameReturningFalseStopsTheFeed) {
  std::string stream = stream_of(sample_frames());
  FrameDecoder d(1 << 20);
  int frames = 0;
  ASSERT_TRUE(d.feed(stream, [&](std::string_view) { return ++frames < 2; }));
  EXPECT_EQ(frames, 2);
}

TEST(FrameDecoder, AFrameSplitAcrossReadsIsHandedOutOnceComplete) {
  // A frame far larger than one read, as a 1 MiB blob is.
  std::string big(1 << 20, 'b');
  std::string stream = framed(big) + framed("next");
  FrameDecoder d(2 << 20);
  std::vector<std::string_view> reads;
  for (size_t at = 0; at < stream.size(); at += 65536)
    reads.push_back(std::string_view(stream).substr(at, 65536));
  auto out = decode(d, reads);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], big);
  EXPECT_EQ(out[1], "next");
}

}  // namespace
}  // namespace cairn::msg
