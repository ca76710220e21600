// cairn::msg: the one message type of the cairn protocol, and its ZeroMQ multipart codec.
// A request carries a topic, a match tag chosen by the client, flags and a payload; a response
// echoes topic and match tag and adds an errno (0 = success) and a payload, which on error is
// the server's human-readable text. A streaming request gets any number of responses with the
// same match tag, ended by one with errnum ENODATA.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libutil/result.hpp"

namespace cairn::msg {

enum class Type : uint8_t { kRequest = 1, kResponse = 2 };

// Request flags.
constexpr uint32_t kFlagStreaming = 1u << 0;  // the client expects several responses

struct Message {
  Type type = Type::kRequest;
  std::string topic;
  uint32_t matchtag = 0;
  uint32_t flags = 0;
  int32_t errnum = 0;   // responses only
  std::string payload;  // raw bytes or JSON text; error text on an error response

  static Message request(std::string topic, std::string payload, uint32_t matchtag,
                         uint32_t flags = 0);
  // A response to `req` (same topic and match tag).
  static Message response(const Message& req, std::string payload);
  static Message error(const Message& req, int errnum, std::string text = {});
};

// Frames as sent on the wire after any routing envelope: see codec.cpp for the layout.
using Frames = std::vector<std::string>;

Frames encode(const Message& m);

// The header frame alone (frame 0 of encode()), for senders that pass topic and payload to
// ZeroMQ without building Frames.
constexpr size_t kHeaderBytes = 16;
void encode_header(const Message& m, char (&out)[kHeaderBytes]);

// Decoding: a message, or EPROTO with the reason the frames are malformed (never a throw).
// The message decoded from `frames`, moving topic and payload out of them.
util::Result<Message> decode(Frames&& frames);
// The same from views of frames still in the receiver's buffers (topic and payload are copied
// once, into the message).
util::Result<Message> decode(std::span<const std::string_view> frames);
// The same into `into`, whose string buffers are reused: for a receiver that decodes message
// after message. Succeeding costs no allocation once `into` has grown to the messages' sizes;
// on failure `into` is unspecified (but see kBadTopicError).
util::Status decode_into(std::span<const std::string_view> frames, Message& into);
// The checks decode() makes of a header frame `header` and a topic, filling every field of
// `into` but topic and payload (for the batch reader, whose entries carry the same header).
util::Status decode_fields(std::string_view header, std::string_view topic, Message& into);
// The reason decode() gives for a message of `count` frames, count != 3.
std::string frame_count_error(size_t count);
// Why a message with a sound header but an invalid topic is malformed. Its type and match tag
// are decoded, so a receiver can answer a request with EINVAL instead of leaving it unanswered.
inline constexpr const char* kBadTopicError =
    "topic must be 1-255 printable characters without spaces";

}  // namespace cairn::msg
