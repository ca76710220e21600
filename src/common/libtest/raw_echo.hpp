// The raw ZeroMQ baseline of the benchmarks: a ROUTER that sends every multipart message back
// unchanged, on an ipc:// socket like the broker's default endpoint. It runs in a child process,
// as the broker does, so both sides of a comparison have the same shape: two processes, each
// with its own ZeroMQ context and I/O thread. The one-frame message "stop" ends it (echoed, then
// the child exits); the destructor waits for the child and removes the socket's directory.
#pragma once

#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace cairn::test {

class RawEcho {
 public:
  RawEcho() {
    char tmpl[] = "/tmp/cairn-raw-echo-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("raw echo: mkdtemp failed");
    dir_ = tmpl;
    uri_ = "ipc://" + dir_ + "/echo.sock";
    int ready[2];
    if (pipe(ready) != 0) throw std::runtime_error("raw echo: pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("raw echo: fork failed");
    if (pid_ == 0) {
      close(ready[0]);
      _exit(serve(uri_, ready[1]));
    }
    close(ready[1]);
    char c = 0;
    bool ok = read(ready[0], &c, 1) == 1 && c == 'r';
    close(ready[0]);
    if (!ok) {
      waitpid(pid_, nullptr, 0);
      std::filesystem::remove_all(dir_);
      throw std::runtime_error("raw echo: the echo process could not bind " + uri_);
    }
  }
  ~RawEcho() {
    waitpid(pid_, nullptr, 0);
    std::filesystem::remove_all(dir_);
  }
  RawEcho(const RawEcho&) = delete;
  RawEcho& operator=(const RawEcho&) = delete;

  const std::string& uri() const { return uri_; }

  // Sends "stop" on `dealer` (connected to uri()) and waits for its echo: call it before the
  // destructor, from the side that owns the connection.
  static void stop(void* dealer) {
    zmq_send(dealer, "stop", 4, 0);
    char buf[8];
    zmq_recv(dealer, buf, sizeof buf, 0);
  }

 private:
  // The child: a context of its own (the parent's must not be used after fork).
  static int serve(const std::string& uri, int ready_fd) {
    void* ctx = zmq_ctx_new();
    void* sock = zmq_socket(ctx, ZMQ_ROUTER);
    if (!sock || zmq_bind(sock, uri.c_str()) != 0) return 1;
    if (write(ready_fd, "r", 1) != 1) return 1;
    close(ready_fd);
    std::vector<zmq_msg_t> parts;
    bool stop = false;
    while (!stop) {
      parts.clear();
      int more = 0;
      do {
        parts.emplace_back();
        zmq_msg_init(&parts.back());
        if (zmq_msg_recv(&parts.back(), sock, 0) < 0) return 1;
        more = zmq_msg_more(&parts.back());
      } while (more);
      // [identity, "stop"]
      stop = parts.size() == 2 && zmq_msg_size(&parts[1]) == 4 &&
             std::memcmp(zmq_msg_data(&parts[1]), "stop", 4) == 0;
      for (size_t i = 0; i < parts.size(); ++i)
        zmq_msg_send(&parts[i], sock, i + 1 < parts.size() ? ZMQ_SNDMORE : 0);
    }
    int linger = 1000;  // let the last echo leave
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return 0;
  }

  std::string dir_, uri_;
  pid_t pid_ = -1;
};

}  // namespace cairn::test
