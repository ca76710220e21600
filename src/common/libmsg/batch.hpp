// cairn::msg batches: several messages (all requests or all responses) in one ZeroMQ frame, so
// a pipelining client and the broker pay for one zmq_msg_t and one wake-up per batch rather
// than per request. Layout (little-endian; see batch.cpp and doc/protocol.md):
//   batch header, 8 bytes: u8 version (1), u8 type (3 = batch), u16 reserved (0), u32 count
//   then `count` entries, each: the 16-byte message header, u32 topic length, u32 payload
//   length, the topic, the payload.
// A batch travels as a message of exactly one frame after any routing envelope; a single
// message (three frames) stays valid beside it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "libmsg/message.hpp"
#include "libutil/result.hpp"

namespace cairn::msg {

constexpr size_t kBatchHeaderBytes = 8;
constexpr size_t kBatchEntryBytes = kHeaderBytes + 8;  // header, topic length, payload length
// The most entries one batch may carry; a decoder refuses more.
constexpr uint32_t kMaxBatchCount = 65536;

// Builds one batch frame. add() copies topic and payload once, into the frame.
class BatchWriter {
 public:
  BatchWriter() { clear(); }
  // Appends a message with the header fields of `fields` (type, match tag, flags, errnum).
  void add(const Message& fields, std::string_view topic, std::string_view payload);
  uint32_t count() const { return count_; }
  // Bytes of the frame so far.
  size_t size() const { return frame_.size(); }
  // The finished frame (count patched in); valid until the next add() or clear().
  std::string& frame();
  // Starts a new, empty batch (keeps the buffer's capacity unless it was taken).
  void clear();

 private:
  std::string frame_;
  uint32_t count_ = 0;
};

// Walks a batch frame whose framing open() has checked. Topic and payload of each entry are
// views into the frame, which must outlive the reader.
class BatchReader {
 public:
  // Checks the whole frame: header, count, every entry's header and lengths, and that the
  // entries end exactly at the frame's end. EPROTO with the reason otherwise; nothing of a
  // malformed batch is delivered.
  static util::Result<BatchReader> open(std::string_view frame);

  uint32_t count() const { return count_; }
  bool done() const { return index_ == count_; }
  // Decodes the next entry into `into` (buffers reused, as msg::decode_into). An entry whose
  // only fault is its topic yields kBadTopicError with type and match tag filled, as a single
  // message does; the reader moves past it either way.
  util::Status next(Message& into);
  // The same without copying: `topic` and `payload` view the frame.
  util::Status next_view(Message& fields, std::string_view& topic, std::string_view& payload);

 private:
  explicit BatchReader(std::string_view frame, uint32_t count) : frame_(frame), count_(count) {}
  std::string_view frame_;
  uint32_t count_;
  uint32_t index_ = 0;
  size_t at_ = kBatchHeaderBytes;
};

// True if `frame`, the only frame of a message, starts like a batch (version 1, type 3): the
// receiver then reads it with BatchReader rather than as a (malformed) single message.
bool looks_like_batch(std::string_view frame);

}  // namespace cairn::msg
