// send_raw: test helper that sends arbitrary bytes to a broker, as a misbehaving client would.
//   send_raw [--count N] [--entries] URI FRAME...
// FRAMEs may hold C-style escapes (\xHH, \n, \\). Everything is sent N times (default once).
// tcp:// (ZeroMQ): the FRAMEs are one multipart message on a DEALER socket; then a broker.ping
// on the same socket.
// local://: each FRAME is one stream frame, behind its length prefix; with --entries the FRAMEs
// go in threes, HEADER TOPIC PAYLOAD, as the entries of one batch frame (each HEADER exactly 16
// bytes, sent as given). Each repetition has a connection of its own (a malformed frame costs
// the connection); then a broker.ping on a new one.
// Waits (at most 10 s) for the ping's reply: exit 0 means the broker handled the raw bytes and
// still answers.
#include <zmq.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "libclient/test/raw_stream.hpp"
#include "libmsg/batch.hpp"
#include "libmsg/message.hpp"
#include "libmsg/wire.hpp"
#include "libmsg/zmq_handle.hpp"
#include "libmsg/zmq_io.hpp"

namespace {

std::string unescape(const char* s) {
  std::string out;
  for (; *s; ++s) {
    if (*s != '\\' || !s[1]) {
      out += *s;
      continue;
    }
    ++s;
    if (*s == 'n') {
      out += '\n';
    } else if (*s == 'x' && s[1] && s[2]) {
      out += static_cast<char>(std::strtol(std::string(s + 1, 2).c_str(), nullptr, 16));
      s += 2;
    } else {
      out += *s;
    }
  }
  return out;
}

// The batch frame whose entries are `raw` in threes: header bytes as given, topic, payload.
std::string batch_of(const cairn::msg::Frames& raw) {
  std::string frame(cairn::msg::kBatchHeaderBytes, '\0');
  frame[0] = 1;
  frame[1] = 3;
  cairn::msg::wire::put_u32(frame.data() + 4, static_cast<uint32_t>(raw.size() / 3));
  for (size_t i = 0; i + 2 < raw.size(); i += 3) {
    char lengths[8];
    cairn::msg::wire::put_u32(lengths, static_cast<uint32_t>(raw[i + 1].size()));
    cairn::msg::wire::put_u32(lengths + 4, static_cast<uint32_t>(raw[i + 2].size()));
    frame += raw[i];
    frame.append(lengths, sizeof lengths);
    frame += raw[i + 1];
    frame += raw[i + 2];
  }
  return frame;
}

int local_main(const char* uri, long count, bool entries, const cairn::msg::Frames& raw) {
  if (entries && (raw.size() % 3 != 0 || raw.empty())) {
    std::fprintf(stderr, "send_raw: --entries takes HEADER TOPIC PAYLOAD, in threes\n");
    return 2;
  }
  cairn::msg::Frames frames = entries ? cairn::msg::Frames{batch_of(raw)} : raw;
  for (long i = 0; i < count; ++i) {
    auto fd = cairn::test::connect_local(uri);
    if (!fd) {
      std::fprintf(stderr, "send_raw: %s: %s\n", uri, std::strerror(errno));
      return 1;
    }
    for (const auto& f : frames) cairn::test::write_frame(fd.get(), f);
  }
  auto fd = cairn::test::connect_local(uri);
  if (!fd) {
    std::fprintf(stderr, "send_raw: %s: %s\n", uri, std::strerror(errno));
    return 1;
  }
  constexpr uint32_t kTag = 0x5eed;
  cairn::msg::BatchWriter ping;
  ping.add(cairn::msg::Message::request({}, {}, kTag), "broker.ping", "after");
  timeval tv{10, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (!cairn::test::write_frame(fd.get(), ping.frame())) return 1;
  cairn::msg::FrameDecoder decoder(1 << 20);
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n <= 0) {
      std::fprintf(stderr, "send_raw: no reply to broker.ping within 10 s\n");
      return 1;
    }
    bool answered = false;
    (void)decoder.feed(std::string_view(buf, static_cast<size_t>(n)), [&](std::string_view f) {
      auto batch = cairn::msg::BatchReader::open(f);
      cairn::msg::Message m;
      while (batch && !batch->done())
        if (batch->next(m) && m.matchtag == kTag && m.payload == "after") answered = true;
      return true;
    });
    if (answered) return 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  long count = 1;
  bool entries = false;
  for (;;) {
    if (argc > 2 && std::string(argv[1]) == "--count") {
      count = std::strtol(argv[2], nullptr, 10);
      argc -= 2;
      argv += 2;
    } else if (argc > 1 && std::string(argv[1]) == "--entries") {
      entries = true;
      --argc;
      ++argv;
    } else {
      break;
    }
  }
  if (argc < 3 || count < 1) {
    std::fprintf(stderr, "usage: send_raw [--count N] [--entries] URI FRAME...\n");
    return 2;
  }
  if (cairn::test::is_local(argv[1])) {
    cairn::msg::Frames raw;
    for (int i = 2; i < argc; ++i) raw.push_back(unescape(argv[i]));
    return local_main(argv[1], count, entries, raw);
  }
  cairn::msg::ZmqContext ctx;
  cairn::msg::ZmqSocket sock(ctx, ZMQ_DEALER);
  if (zmq_connect(sock.get(), argv[1]) != 0) {
    std::fprintf(stderr, "send_raw: %s: %s\n", argv[1], zmq_strerror(zmq_errno()));
    return 1;
  }
  cairn::msg::Frames raw;
  for (int i = 2; i < argc; ++i) raw.push_back(unescape(argv[i]));
  for (long i = 0; i < count; ++i) cairn::msg::send_frames(sock.get(), raw);
  constexpr uint32_t kTag = 0x5eed;
  cairn::msg::send_frames(
      sock.get(), cairn::msg::encode(cairn::msg::Message::request("broker.ping", "after", kTag)));
  zmq_pollitem_t item{sock.get(), 0, ZMQ_POLLIN, 0};
  for (;;) {
    if (zmq_poll(&item, 1, 10000) != 1) {
      std::fprintf(stderr, "send_raw: no reply to broker.ping within 10 s\n");
      return 1;
    }
    cairn::msg::Frames frames;
    if (cairn::msg::recv_frames(sock.get(), frames) < 0) return 1;
    auto d = cairn::msg::decode(std::move(frames));
    // Anything else (e.g. an error reply to the raw message, if it was well-formed) is skipped.
    if (d && d->matchtag == kTag && d->payload == "after") return 0;
  }
}
