// libFuzzer target for cairn::msg::decode: the input is split into frames on a two-byte
// separator, so the fuzzer explores frame counts, header bytes and topics. decode must never
// crash or throw, anything it accepts must re-encode to the same frames, anything it refuses is
// EPROTO with a reason, and decoding from views of the frames (as the broker and libclient do),
// by move, or into a reused message, must give the same answer. The whole input is also read
// as a batch frame: refused with EPROTO and a reason, or read to its end, every entry that
// decodes re-encoding to the same bytes.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "libmsg/batch.hpp"
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
  std::vector<std::string_view> views(frames.begin(), frames.end());
  auto v = cairn::msg::decode(views);
  if (!v && (v.error().errnum != EPROTO || v.error().text.empty())) std::abort();
  if (v && cairn::msg::encode(*v) != frames) std::abort();
  // Decoding by move must give the same answer.
  auto d = cairn::msg::decode(cairn::msg::Frames(frames));
  if (d.ok() != v.ok() || (!d && d.error().text != v.error().text)) std::abort();
  if (d && cairn::msg::encode(*d) != frames) std::abort();
  // decode_into a message that still holds another one (as the broker's reused request does)
  // must give the same answer, with nothing of the old message left.
  static cairn::msg::Message reused = cairn::msg::Message::request("old.topic", "old", 1, 1);
  cairn::util::Status st = cairn::msg::decode_into(views, reused);
  if (st.ok() != v.ok() || (!st && st.error().text != v.error().text)) std::abort();
  if (st && cairn::msg::encode(reused) != frames) std::abort();

  auto batch = cairn::msg::BatchReader::open(input);
  if (!batch) {
    if (batch.error().errnum != EPROTO || batch.error().text.empty()) std::abort();
    return 0;
  }
  cairn::msg::BatchWriter again;
  bool all_decoded = true;
  while (!batch->done()) {
    cairn::msg::Message m;
    if (batch->next(m))
      again.add(m, m.topic, m.payload);
    else
      all_decoded = false;
  }
  if (all_decoded && again.frame() != input) std::abort();
  return 0;
}
