// Stream framing (see stream.hpp): the length prefix and its checks.
#include "libmsg/stream.hpp"

#include <cerrno>

#include "libmsg/wire.hpp"

namespace cairn::msg {

void encode_stream_prefix(uint32_t length, char (&out)[kStreamPrefixBytes]) {
  wire::put_u32(out, length);
}

bool FrameDecoder::length_ok(std::string_view prefix, uint64_t& length) {
  length = wire::get_u32(prefix, 0);
  if (length == 0) {
    error_ = util::Error{EPROTO, "stream: a frame of length 0 (every frame holds a batch)"};
  } else if (length > max_frame_) {
    error_ = util::Error{EMSGSIZE, "stream: a frame of " + std::to_string(length) +
                                       " bytes, past the limit of " + std::to_string(max_frame_)};
  } else {
    return true;
  }
  partial_.clear();
  partial_.shrink_to_fit();
  return false;
}

}  // namespace cairn::msg
