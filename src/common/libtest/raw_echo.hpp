// The raw baselines of the benchmarks: the raw-echo program (t/perf/raw_echo.cpp), a ROUTER that
// sends every multipart message back unchanged on an ipc:// socket (ZeroMQ with its I/O
// threads), or (Transport::unix_stream) a plain Unix stream socket that sends every byte back,
// as the broker's local:// socket carries requests (RawStreamClient, raw_stream.hpp, speaks it). It
// runs as a process of its own, as the broker does, so both sides of a comparison have the same
// shape. RawEcho spawns it (posix_spawn: the caller may already run threads, so nothing runs
// between fork and exec) and waits, bounded, for it to bind; the destructor kills it and removes
// the socket's directory. Every wait is bounded: a benchmark that loses its echo fails, it never
// hangs.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "libutil/fd.hpp"

extern char** environ;

namespace cairn::test {

// The directory of the running program in the build tree (the directory above it when libtool
// runs the program from .libs): where the benchmarks find raw-echo, and ../../src/cmd/cairn.
inline std::filesystem::path own_build_directory() {
  auto dir = std::filesystem::read_symlink("/proc/self/exe").parent_path();
  if (dir.filename() == ".libs") dir = dir.parent_path();
  return dir;
}

class RawEcho {
 public:
  // How long the echo may take to bind, and to answer a request.
  static constexpr int kTimeoutMs = 30000;

  enum class Transport { zmq, unix_stream };

  // Starts `program` (default: default_program()). Throws std::runtime_error saying what failed.
  explicit RawEcho(const std::string& program = default_program(),
                   Transport transport = Transport::zmq) {
    char tmpl[] = "/tmp/cairn-raw-echo-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("raw echo: mkdtemp failed: " + errno_text());
    dir_ = tmpl;
    uri_ = transport == Transport::zmq ? "ipc://" + dir_ + "/echo.sock"
                                       : "unix:" + dir_ + "/echo.stream";
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) fail("pipe failed: " + errno_text());
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::string arg0 = program, arg1 = uri_;
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    int rc = posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
      close(out[0]);
      pid_ = -1;
      fail("cannot run " + program + ": " + std::strerror(rc) +
           " (build it with `make`, or set CAIRN_RAW_ECHO to its path)");
    }
    std::string why = wait_ready(out[0]);
    close(out[0]);
    if (!why.empty()) fail(program + " " + why + " (its own message, if any, is above)");
  }
  ~RawEcho() { reap(); }
  RawEcho(const RawEcho&) = delete;
  RawEcho& operator=(const RawEcho&) = delete;

  // ipc://PATH for a ZeroMQ echo, unix:PATH for a stream echo.
  const std::string& uri() const { return uri_; }

  // A new connection to a stream echo (connect_unix_stream). Throws std::runtime_error saying
  // what failed.
  util::UniqueFd connect_stream() const {
    return connect_unix_stream(uri_.substr(std::strlen("unix:")));
  }

  // A new connection to the Unix stream socket at `path` (a stream echo's, or a broker's
  // local:// socket), its sends and receives bounded by kTimeoutMs: a lost peer shows as a
  // failed call, not a hang. Throws std::runtime_error saying what failed.
  static util::UniqueFd connect_unix_stream(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), std::min(path.size(), sizeof addr.sun_path - 1));
    util::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd || connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("raw stream: cannot connect to " + path + ": " + errno_text());
    timeval tv{kTimeoutMs / 1000, 0};
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
  }

  // $CAIRN_RAW_ECHO, else raw-echo beside the running program (own_build_directory()).
  static std::string default_program() {
    if (const char* p = std::getenv("CAIRN_RAW_ECHO")) return p;
    return (own_build_directory() / "raw-echo").string();
  }

  // Bounds every send and receive on a socket talking to the echo by kTimeoutMs, so that a lost
  // echo shows as a failed call (EAGAIN) instead of a hang, and lets closing it drop what is
  // unsent (the echo may be gone by then).
  static void bound_waits(void* sock) {
    int ms = kTimeoutMs, linger = 0;
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &ms, sizeof ms);
    zmq_setsockopt(sock, ZMQ_SNDTIMEO, &ms, sizeof ms);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
  }

 private:
  static std::string errno_text() { return std::strerror(errno); }

  [[noreturn]] void fail(const std::string& why) {
    reap();
    throw std::runtime_error("raw echo: " + why);
  }

  // Reads the child's "ready" line from `fd`, waiting at most kTimeoutMs in all. Returns "" once
  // it came, else why not.
  std::string wait_ready(int fd) const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
    std::string got;
    while (got.find('\n') == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      pollfd p{fd, POLLIN, 0};
      int n = left > 0 ? poll(&p, 1, static_cast<int>(left)) : 0;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return "could not be waited for: " + errno_text();
      if (n == 0)
        return "did not bind " + uri_ + " within " + std::to_string(kTimeoutMs / 1000) + " s";
      char buf[64];
      ssize_t r = read(fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return "exited before it bound " + uri_;
      got.append(buf, static_cast<size_t>(r));
    }
    return got == "ready\n" ? "" : "printed \"" + got + "\" instead of \"ready\"";
  }

  // Ends the child (it runs until killed) and removes the socket directory.
  void reap() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    dir_.clear();
  }

  std::string dir_, uri_;
  pid_t pid_ = -1;
};

}  // namespace cairn::test
