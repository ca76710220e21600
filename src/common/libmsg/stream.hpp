// cairn::msg stream framing, for local:// (a Unix stream socket): each frame is a u32
// little-endian length followed by that many bytes, which are one batch frame (batch.hpp).
// FrameDecoder cuts a byte stream into frames whatever way its reads split it.
// Invariants: a frame is handed out only whole; bytes of an unfinished frame are kept (and only
// those: complete frames in the caller's buffer are handed out as views of it, without a copy);
// a length above the limit, or of zero, makes the decoder fail for good (the connection cannot
// be resynchronised), with EMSGSIZE or EPROTO and the reason.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "libutil/result.hpp"

namespace cairn::msg {

constexpr size_t kStreamPrefixBytes = 4;
// The longest frame the encoding can carry.
constexpr uint64_t kMaxStreamFrame = UINT32_MAX;

// The 4-byte prefix that goes in front of a frame of `length` bytes (length <= kMaxStreamFrame).
void encode_stream_prefix(uint32_t length, char (&out)[kStreamPrefixBytes]);

class FrameDecoder {
 public:
  // Frames longer than `max_frame` bytes are refused (EMSGSIZE).
  explicit FrameDecoder(uint64_t max_frame) : max_frame_(max_frame) {}

  // Takes `data`, the next bytes of the stream, and calls `on_frame(std::string_view)` for each
  // frame it completes, in order; the view is valid during the call only. `on_frame` returns
  // false to stop: the rest of `data` is then dropped (the caller is closing the connection).
  // Returns the error that makes the stream unreadable, if any; once failed, feed() does nothing
  // but return it again.
  template <typename OnFrame>
  util::Status feed(std::string_view data, OnFrame&& on_frame);

  // Bytes of an unfinished frame are held (a peer that closes now closes mid-frame).
  bool mid_frame() const { return !partial_.empty(); }
  // Bytes held for the unfinished frame.
  size_t buffered() const { return partial_.size(); }
  // The failure, if feed() found one.
  bool failed() const { return !error_.text.empty(); }

 private:
  // Checks the length prefix at the start of `prefix` (4 bytes); sets error_ if refused.
  bool length_ok(std::string_view prefix, uint64_t& length);

  uint64_t max_frame_;
  std::string partial_;  // prefix and bytes of the frame being assembled
  util::Error error_;
};

template <typename OnFrame>
util::Status FrameDecoder::feed(std::string_view data, OnFrame&& on_frame) {
  if (failed()) return error_;
  uint64_t length = 0;
  // First finish the frame begun by an earlier read, copying only what it still lacks.
  if (!partial_.empty()) {
    if (partial_.size() < kStreamPrefixBytes) {
      size_t take = std::min(kStreamPrefixBytes - partial_.size(), data.size());
      partial_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (partial_.size() < kStreamPrefixBytes) return {};
    }
    if (!length_ok(partial_, length)) return error_;
    size_t want = kStreamPrefixBytes + length - partial_.size();
    size_t take = std::min<size_t>(want, data.size());
    if (partial_.capacity() < kStreamPrefixBytes + length)
      partial_.reserve(kStreamPrefixBytes + length);
    partial_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (take < want) return {};
    std::string frame;
    frame.swap(partial_);  // partial_ is empty again before on_frame runs
    if (!on_frame(std::string_view(frame).substr(kStreamPrefixBytes))) return {};
  }
  // Then every whole frame in `data`, as views of it.
  while (data.size() >= kStreamPrefixBytes) {
    if (!length_ok(data, length)) return error_;
    if (data.size() - kStreamPrefixBytes < length) break;
    std::string_view frame = data.substr(kStreamPrefixBytes, length);
    data.remove_prefix(kStreamPrefixBytes + length);
    if (!on_frame(frame)) return {};
  }
  partial_.assign(data);
  return {};
}

}  // namespace cairn::msg
