// libFuzzer target for the local:// frame decoder: the first byte of the input picks how the
// rest is cut into reads, the rest is the byte stream. The decoder must never crash, must hand
// out the same frames however the stream is cut, each within the limit, and must fail (EMSGSIZE
// or EPROTO, with a reason) exactly when one read of the whole stream does. Each frame it hands
// out is then opened as a batch, as the broker does: refused with EPROTO and a reason, or read
// to its end.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "libmsg/batch.hpp"
#include "libmsg/stream.hpp"

namespace {

constexpr uint64_t kLimit = 4096;

struct Outcome {
  std::vector<std::string> frames;
  bool ok = true;
};

Outcome run(std::string_view stream, size_t read_size) {
  cairn::msg::FrameDecoder d(kLimit);
  Outcome o;
  for (size_t at = 0; at < stream.size() && o.ok; at += read_size) {
    auto st = d.feed(stream.substr(at, read_size), [&](std::string_view f) {
      if (f.empty() || f.size() > kLimit) std::abort();
      o.frames.emplace_back(f);
      return true;
    });
    if (!st) {
      if ((st.error().errnum != EMSGSIZE && st.error().errnum != EPROTO) || st.error().text.empty())
        std::abort();
      o.ok = false;
    }
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t read_size = 1 + data[0] % 64;
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  Outcome whole = run(stream, stream.size() + 1);
  Outcome cut = run(stream, read_size);
  if (whole.ok != cut.ok || whole.frames != cut.frames) std::abort();
  for (const auto& f : whole.frames) {
    auto batch = cairn::msg::BatchReader::open(f);
    if (!batch) {
      if (batch.error().errnum != EPROTO || batch.error().text.empty()) std::abort();
      continue;
    }
    cairn::msg::Message m;
    while (!batch->done()) (void)batch->next(m);
  }
  return 0;
}
