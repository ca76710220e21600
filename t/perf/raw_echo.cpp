// raw-echo: the raw ZeroMQ baseline of the benchmarks. A ROUTER bound to URI sends every
// multipart message back unchanged. It prints "ready" on stdout once bound and runs until
// killed. cairn::test::RawEcho starts it; it is a program of
// its own (not a fork of the benchmark) so that a benchmark which already runs threads never
// forks: a forked child inherits locks those threads held, such as the allocator's.
#include <zmq.h>

#include <cerrno>
#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: raw-echo URI   (e.g. ipc:///tmp/dir/echo.sock)\n");
    return 2;
  }
  void* ctx = zmq_ctx_new();
  void* sock = zmq_socket(ctx, ZMQ_ROUTER);
  if (!sock || zmq_bind(sock, argv[1]) != 0) {
    std::fprintf(stderr, "raw-echo: cannot bind %s: %s\n", argv[1], zmq_strerror(zmq_errno()));
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  std::vector<zmq_msg_t> parts;
  for (;;) {
    parts.clear();
    int more = 0;
    do {
      parts.emplace_back();
      zmq_msg_init(&parts.back());
      if (zmq_msg_recv(&parts.back(), sock, 0) < 0) {
        if (zmq_errno() == EINTR) {
          parts.pop_back();
          more = 1;
          continue;
        }
        std::fprintf(stderr, "raw-echo: receive failed: %s\n", zmq_strerror(zmq_errno()));
        return 1;
      }
      more = zmq_msg_more(&parts.back());
    } while (more);
    for (size_t i = 0; i < parts.size(); ++i)
      zmq_msg_send(&parts[i], sock, i + 1 < parts.size() ? ZMQ_SNDMORE : 0);
  }
}
