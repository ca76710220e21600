// send_raw: test helper that sends arbitrary frames to a broker, as a misbehaving client would.
//   send_raw [--count N] URI FRAME...
// Sends the FRAMEs (C-style escapes \xHH, \n, \\ allowed) as one multipart message (N times,
// default once) on a DEALER socket, then a broker.ping on the same socket, and waits (at most 10 s)
// for the ping's reply: exit 0 means the broker handled the raw message (in order) and still
// answers.
#include <zmq.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "libmsg/message.hpp"
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

}  // namespace

int main(int argc, char** argv) {
  long count = 1;
  if (argc > 2 && std::string(argv[1]) == "--count") {
    count = std::strtol(argv[2], nullptr, 10);
    argc -= 2;
    argv += 2;
  }
  if (argc < 3 || count < 1) {
    std::fprintf(stderr, "usage: send_raw [--count N] URI FRAME...\n");
    return 2;
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
