// Little-endian integers in a byte buffer: the one encoding of every integer in cairn's wire
// format (codec.cpp, batch.cpp). Internal to libmsg.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cairn::msg::wire {

constexpr uint8_t kVersion = 1;    // byte 0 of a message header and of a batch header
constexpr uint8_t kBatchType = 3;  // byte 1 of a batch header (1 and 2 are message types)

inline void put_u32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

inline uint32_t get_u32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(in[at + i])) << (8 * i);
  return v;
}

}  // namespace cairn::msg::wire
