// raw-echo: the raw baselines of the benchmarks. With a ZeroMQ URI, a ROUTER bound to it sends
// every multipart message back unchanged. With unix:PATH, a plain Unix stream socket bound to
// PATH sends every byte back on the connection it came from (one connection at a time): the
// same bytes without ZeroMQ's I/O threads, for comparison. It prints "ready" on stdout once
// bound and runs until killed. cairn::test::RawEcho starts it; it is a program of its own (not a
// fork of the benchmark) so that a benchmark which already runs threads never forks: a forked
// child inherits locks those threads held, such as the allocator's.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

namespace {

// Writes all of [p, p + n) to fd; false if the peer is gone.
bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

int stream_echo(const char* uri, const char* path) {
  sockaddr_un addr{};
  if (std::strlen(path) >= sizeof addr.sun_path) {
    std::fprintf(stderr, "raw-echo: cannot bind %s: the path is longer than %zu bytes\n", uri,
                 sizeof addr.sun_path - 1);
    return 1;
  }
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path);
  int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0 || bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(lfd, 8) != 0) {
    std::fprintf(stderr, "raw-echo: cannot bind %s: %s\n", uri, std::strerror(errno));
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  std::vector<char> buf(1 << 16);
  for (;;) {
    int fd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      std::fprintf(stderr, "raw-echo: accept failed: %s\n", std::strerror(errno));
      return 1;
    }
    for (;;) {
      ssize_t r = read(fd, buf.data(), buf.size());
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0 || !write_all(fd, buf.data(), static_cast<size_t>(r))) break;
    }
    close(fd);
  }
}

int zmq_echo(const char* uri) {
  void* ctx = zmq_ctx_new();
  void* sock = zmq_socket(ctx, ZMQ_ROUTER);
  if (!sock || zmq_bind(sock, uri) != 0) {
    std::fprintf(stderr, "raw-echo: cannot bind %s: %s\n", uri, zmq_strerror(zmq_errno()));
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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(
        stderr,
        "usage: raw-echo URI   (e.g. ipc:///tmp/dir/echo.sock, or unix:/tmp/dir/echo.stream "
        "for a plain Unix stream socket)\n");
    return 2;
  }
  std::string_view uri = argv[1];
  if (uri.starts_with("unix:")) return stream_echo(argv[1], argv[1] + 5);
  return zmq_echo(argv[1]);
}
