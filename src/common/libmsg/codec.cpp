// Wire layout of a cairn message (after any ROUTER identity frame), exactly three frames:
//   0: header, 16 bytes little-endian: u8 version (1), u8 type (1 request, 2 response),
//      u16 reserved (0), u32 matchtag, u32 flags, i32 errnum
//   1: topic, 1..255 bytes of printable ASCII (no spaces)
//   2: payload, any bytes (may be empty)
// decode() accepts nothing else: every malformed input yields an EPROTO Error, never a throw.
#include <cerrno>
#include <cstring>

#include "libmsg/message.hpp"
#include "libmsg/wire.hpp"

namespace cairn::msg {

namespace {
constexpr uint8_t kVersion = wire::kVersion;
constexpr size_t kMaxTopic = 255;

using wire::get_u32;
bool valid_topic(std::string_view t) {
  if (t.empty() || t.size() > kMaxTopic) return false;
  for (unsigned char c : t)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}
}  // namespace

Message Message::request(std::string topic, std::string payload, uint32_t matchtag,
                         uint32_t flags) {
  Message m;
  m.type = Type::kRequest;
  m.topic = std::move(topic);
  m.payload = std::move(payload);
  m.matchtag = matchtag;
  m.flags = flags;
  return m;
}

Message Message::response(const Message& req, std::string payload) {
  Message m;
  m.type = Type::kResponse;
  m.topic = req.topic;
  m.matchtag = req.matchtag;
  m.flags = req.flags;
  m.payload = std::move(payload);
  return m;
}

Message Message::error(const Message& req, int errnum, std::string text) {
  Message m = response(req, std::move(text));
  m.errnum = errnum;
  return m;
}

void encode_header(const Message& m, char (&out)[kHeaderBytes]) {
  std::memset(out, 0, kHeaderBytes);
  out[0] = static_cast<char>(kVersion);
  out[1] = static_cast<char>(m.type);
  wire::put_u32(out + 4, m.matchtag);
  wire::put_u32(out + 8, m.flags);
  wire::put_u32(out + 12, static_cast<uint32_t>(m.errnum));
}

Frames encode(const Message& m) {
  char header[kHeaderBytes];
  encode_header(m, header);
  return Frames{std::string(header, kHeaderBytes), m.topic, m.payload};
}

namespace {

// Checks a message of `count` frames whose first two are `h` and `topic` (empty when there are
// fewer), and fills every field of `m` but topic and payload; an EPROTO Error saying what is
// malformed otherwise.
util::Status check(size_t count, std::string_view h, std::string_view topic, Message& m) {
  if (count != 3) return util::Error{EPROTO, frame_count_error(count)};
  return decode_fields(h, topic, m);
}

template <typename FrameList>
util::Status check(const FrameList& frames, Message& m) {
  bool three = frames.size() == 3;
  return check(frames.size(), three ? std::string_view(frames[0]) : std::string_view(),
               three ? std::string_view(frames[1]) : std::string_view(), m);
}

}  // namespace

util::Status decode_fields(std::string_view h, std::string_view topic, Message& m) {
  if (h.size() != kHeaderBytes)
    return util::Error{EPROTO, "header is " + std::to_string(h.size()) + " bytes, expected 16"};
  if (static_cast<uint8_t>(h[0]) != kVersion) {
    return util::Error{EPROTO,
                       "unknown protocol version " + std::to_string(static_cast<uint8_t>(h[0]))};
  }
  uint8_t type = static_cast<uint8_t>(h[1]);
  if (type != static_cast<uint8_t>(Type::kRequest) && type != static_cast<uint8_t>(Type::kResponse))
    return util::Error{EPROTO, "unknown message type " + std::to_string(type)};
  if (h[2] != 0 || h[3] != 0) return util::Error{EPROTO, "reserved header bytes are not zero"};
  m.type = static_cast<Type>(type);
  m.matchtag = get_u32(h, 4);
  m.flags = get_u32(h, 8);
  m.errnum = static_cast<int32_t>(get_u32(h, 12));
  // The header is sound: type and match tag are filled, so a request can still be answered.
  if (!valid_topic(topic)) return util::Error{EPROTO, kBadTopicError};
  if (m.type == Type::kRequest && m.errnum != 0)
    return util::Error{EPROTO, "request carries an errno"};
  return {};
}

std::string frame_count_error(size_t count) {
  return "expected 3 frames, got " + std::to_string(count);
}

util::Result<Message> decode(Frames&& frames) {
  Message m;
  if (auto st = check(frames, m); !st) return st.error();
  m.topic = std::move(frames[1]);
  m.payload = std::move(frames[2]);
  return m;
}

util::Status decode_into(std::span<const std::string_view> frames, Message& into) {
  // One Status from check() to the caller (named return value): the success path builds no
  // other, which keeps this as cheap as the bool it replaced.
  util::Status status = check(frames, into);
  if (status) {
    into.topic.assign(frames[1]);
    into.payload.assign(frames[2]);
  }
  return status;
}

util::Result<Message> decode(std::span<const std::string_view> frames) {
  Message m;
  if (auto st = decode_into(frames, m); !st) return st.error();
  return m;
}

}  // namespace cairn::msg
