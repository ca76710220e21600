// libFuzzer target for cairn::msg::decode: the input is split into frames on a two-byte
// separator, so the fuzzer explores frame counts, header bytes and topics. decode must never
// crash or throw, anything it accepts must re-encode to the same frames, and decoding from
// views of the frames (as the broker and libclient do), or into a reused message, must give the
// same answer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "libmsg/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  cairn::msg::Frames frames;
  size_t start = 0;
  for (;;) {
    size_t sep = input.find("\xff\xfe", start, 2);
    if (sep == std::string::npos) break;
    frames.push_back(input.substr(start, sep - start));
    start = sep + 2;
  }
  frames.push_back(input.substr(start));
  cairn::msg::Decoded d = cairn::msg::decode(frames);
  if (d.message.has_value() == !d.error.empty()) std::abort();  // exactly one of the two
  if (d.message && cairn::msg::encode(*d.message) != frames) std::abort();
  std::vector<std::string_view> views(frames.begin(), frames.end());
  cairn::msg::Decoded v = cairn::msg::decode(views);
  if (v.error != d.error || v.message.has_value() != d.message.has_value()) std::abort();
  if (v.message && cairn::msg::encode(*v.message) != frames) std::abort();
  // decode_into a message that still holds another one (as the broker's reused request does)
  // must give the same answer, with nothing of the old message left.
  static cairn::msg::Message reused = cairn::msg::Message::request("old.topic", "old", 1, 1);
  std::string error;
  bool ok = cairn::msg::decode_into(views, reused, error);
  if (ok != d.message.has_value() || (!ok && error != d.error)) std::abort();
  if (ok && cairn::msg::encode(reused) != frames) std::abort();
  return 0;
}
