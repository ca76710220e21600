// flood: test helper, a client that sends and does not read.
//   flood URI COUNT SIZE MARKER
// Sends COUNT broker.ping requests of SIZE bytes on a DEALER socket whose receive side holds one
// message (ZMQ_RCVHWM 1, a small kernel buffer), then a content.store of MARKER, and reads
// nothing until a line arrives on stdin: meanwhile the test can see the marker stored (so the
// broker has handled every ping before it) and look at the broker. Then it reads every reply (at
// most 30 s each) and prints "ok N" and "enobufs N" (of the pings), then the text of the last
// ENOBUFS reply. Exit 0 once all COUNT + 1 replies came, with the store's a success.
// On local:// the broker disconnects such a client instead: flood sends the COUNT pings (until
// the broker closes the connection), prints "sent N", waits for the line on stdin, then reads
// what is there until the connection ends and prints "ok N" (whole replies) and "closed" if the
// broker closed it. Exit 0 once the connection ended.
#include <zmq.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "libclient/test/raw_stream.hpp"
#include "libmsg/batch.hpp"
#include "libmsg/message.hpp"
#include "libmsg/zmq_handle.hpp"
#include "libmsg/zmq_io.hpp"

namespace {

int flood_local(const char* uri, long count, const std::string& payload) {
  auto fd = cairn::test::connect_local(uri);
  if (!fd) {
    std::fprintf(stderr, "flood: %s: %s\n", uri, std::strerror(errno));
    return 1;
  }
  int small = 4096;
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  long sent = 0;
  cairn::msg::BatchWriter w;
  for (long i = 1; i <= count; ++i, ++sent) {
    w.clear();
    w.add(cairn::msg::Message::request({}, {}, static_cast<uint32_t>(i)), "broker.ping", payload);
    if (!cairn::test::write_frame(fd.get(), w.frame())) break;  // the broker hung up
  }
  std::printf("sent %ld\n", sent);
  std::fflush(stdout);
  char line[64];
  if (!std::fgets(line, sizeof line, stdin)) {
    std::fprintf(stderr, "flood: stdin closed before the go-ahead line\n");
    return 1;
  }
  timeval tv{30, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  cairn::msg::FrameDecoder decoder(uint64_t{1} << 32);
  std::string buf(1 << 20, '\0');
  long ok = 0;
  for (;;) {
    ssize_t n = read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      std::fprintf(stderr, "flood: the connection stayed open and silent for 30 s\n");
      return 1;
    }
    if (n <= 0) break;  // EOF, or ECONNRESET: the broker closed it
    (void)decoder.feed(
        std::string_view(buf.data(), static_cast<size_t>(n)), [&](std::string_view f) {
          auto batch = cairn::msg::BatchReader::open(f);
          cairn::msg::Message m;
          while (batch && !batch->done())
            if (batch->next(m) && m.errnum == 0 && m.payload.size() == payload.size()) ++ok;
          return true;
        });
  }
  std::printf("ok %ld\nclosed\n", ok);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: flood URI COUNT SIZE MARKER\n");
    return 2;
  }
  long count = std::strtol(argv[2], nullptr, 10);
  long size = std::strtol(argv[3], nullptr, 10);
  if (count < 1 || size < 0) {
    std::fprintf(stderr, "flood: COUNT must be at least 1 and SIZE at least 0\n");
    return 2;
  }
  if (cairn::test::is_local(argv[1]))
    return flood_local(argv[1], count, std::string(static_cast<size_t>(size), 'p'));
  cairn::msg::ZmqContext ctx;
  cairn::msg::ZmqSocket sock(ctx, ZMQ_DEALER);
  int one = 1, small = 4096;
  zmq_setsockopt(sock.get(), ZMQ_RCVHWM, &one, sizeof one);
  zmq_setsockopt(sock.get(), ZMQ_RCVBUF, &small, sizeof small);
  if (zmq_connect(sock.get(), argv[1]) != 0) {
    std::fprintf(stderr, "flood: %s: %s\n", argv[1], zmq_strerror(zmq_errno()));
    return 1;
  }
  const std::string payload(static_cast<size_t>(size), 'p');
  for (long i = 1; i <= count; ++i) {
    auto req = cairn::msg::Message::request("broker.ping", payload, static_cast<uint32_t>(i));
    if (!cairn::msg::send_frames(sock.get(), cairn::msg::encode(req))) {
      std::fprintf(stderr, "flood: send: %s\n", zmq_strerror(zmq_errno()));
      return 1;
    }
  }
  const auto marker_tag = static_cast<uint32_t>(count + 1);
  cairn::msg::send_frames(sock.get(), cairn::msg::encode(cairn::msg::Message::request(
                                          "content.store", argv[4], marker_tag)));

  char line[64];
  if (!std::fgets(line, sizeof line, stdin)) {
    std::fprintf(stderr, "flood: stdin closed before the go-ahead line\n");
    return 1;
  }
  long ok = 0, enobufs = 0;
  bool marker_ok = false;
  std::string why;
  for (long got = 0; got <= count; ++got) {
    zmq_pollitem_t item{sock.get(), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, 30000) != 1) {
      std::fprintf(stderr, "flood: only %ld of %ld replies came\n", got, count + 1);
      return 1;
    }
    cairn::msg::Frames frames;
    if (cairn::msg::recv_frames(sock.get(), frames) < 0) return 1;
    auto d = cairn::msg::decode(std::move(frames));
    if (!d) {
      std::fprintf(stderr, "flood: a malformed reply: %s\n", d.error().text.c_str());
      return 1;
    }
    if (d->matchtag == marker_tag) {
      marker_ok = d->errnum == 0;
    } else if (d->errnum == 0 && d->payload.size() == payload.size()) {
      ++ok;
    } else if (d->errnum == ENOBUFS) {
      ++enobufs;
      why = d->payload;
    } else {
      std::fprintf(stderr, "flood: an unexpected reply (errno %d): %s\n", d->errnum,
                   d->payload.c_str());
      return 1;
    }
  }
  std::printf("ok %ld\nenobufs %ld\n%s\n", ok, enobufs, why.c_str());
  return marker_ok ? 0 : 1;
}
